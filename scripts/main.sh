#!/usr/bin/env bash
# Set everything up, then answer a question about the seeds (arguments go to `python -m bot`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ]; then set -- ask "H200芯片的单价是多少？"; fi
exec .venv/bin/python -m bot "$@"
