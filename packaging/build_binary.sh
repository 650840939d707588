#!/usr/bin/env bash
# Builds dist/agent: one self-contained binary (Python and every dependency inside).
# Usage: packaging/build_binary.sh [PYTHON]   (default: .venv/bin/python, which has pyinstaller)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${1:-.venv/bin/python}
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/pyinstaller/agent.spec
echo "built $(pwd)/dist/agent"
