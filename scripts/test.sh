#!/usr/bin/env bash
# Set everything up, then run the whole test suite (slow and end-to-end tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if command -v npm >/dev/null 2>&1; then
  # The emulated Telegram Bot API server for the chat tests (pinned in tests/telegram/package-lock.json).
  .venv/bin/python -c "from tests.botapi import install_emulator; install_emulator()"
else
  echo "note: Node.js/npm not found; the Telegram end-to-end tests will be skipped" >&2
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
exec .venv/bin/python -m pytest "$@"
