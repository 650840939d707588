#!/usr/bin/env bash
# Builds the self-contained agent (Python and every dependency inside), in one of two layouts:
#   onedir  (default) dist/onedir/agent/agent + dist/onedir/agent/_internal/: what the packages
#           install; nothing is unpacked when it starts.
#   onefile dist/onefile/agent: one file to copy by hand; it unpacks itself on every start.
# PYTHON is the interpreter that has PyInstaller (default .venv/bin/python), or "locked": a
# virtualenv in build/venv-locked made from requirements/agent.lock and requirements/build.lock
# (hash-checked), remade when either lock changes. Packages and CI build with "locked".
# Usage: packaging/build_binary.sh [onedir|onefile] [PYTHON|locked]
set -euo pipefail
cd "$(dirname "$0")/.."
LAYOUT=${1:-onedir}
PYTHON=${2:-.venv/bin/python}
case "$LAYOUT" in
  onedir | onefile) ;;
  *) echo "usage: $0 [onedir|onefile] [PYTHON|locked]" >&2; exit 2 ;;
esac
if [ "$PYTHON" = locked ]; then
  VENV=build/venv-locked
  STAMP=$(cat requirements/agent.lock requirements/build.lock | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$VENV/.locks" 2>/dev/null)" != "$STAMP" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
      -r requirements/agent.lock -r requirements/build.lock
    echo "$STAMP" >"$VENV/.locks"
  fi
  PYTHON=$VENV/bin/python
fi
OUTPOST_LAYOUT=$LAYOUT "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "dist/$LAYOUT" --workpath "build/pyinstaller-$LAYOUT" packaging/pyinstaller/agent.spec
echo "built $(pwd)/dist/$LAYOUT/agent"
