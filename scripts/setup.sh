#!/usr/bin/env bash
# Create .venv and install the project with its test extras; a no-op when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch is pinned in pyproject: 2.13.0 has a CPU build here; an unpinned one pulls CUDA wheels.
  .venv/bin/python -m pip install --quiet -e ".[test,bench]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
