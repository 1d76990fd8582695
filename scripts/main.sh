#!/usr/bin/env bash
# Set everything up, then run the main job on the seeds (arguments go to `python -m bot`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ]; then set -- corpus; fi
exec .venv/bin/python -m bot "$@"
