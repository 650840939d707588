#!/usr/bin/env bash
# Builds the self-contained agent (Python and every dependency inside), in one of two layouts:
#   onedir  (default) dist/onedir/agent/agent + dist/onedir/agent/_internal/: what the packages
#           install; nothing is unpacked when it starts.
#   onefile dist/onefile/agent: one file to copy by hand; it unpacks itself on every start.
# Usage: packaging/build_binary.sh [onedir|onefile] [PYTHON]   (PYTHON has pyinstaller;
#        default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
LAYOUT=${1:-onedir}
PYTHON=${2:-.venv/bin/python}
case "$LAYOUT" in
  onedir | onefile) ;;
  *) echo "usage: $0 [onedir|onefile] [PYTHON]" >&2; exit 2 ;;
esac
OUTPOST_LAYOUT=$LAYOUT "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "dist/$LAYOUT" --workpath "build/pyinstaller-$LAYOUT" packaging/pyinstaller/agent.spec
echo "built $(pwd)/dist/$LAYOUT/agent"
