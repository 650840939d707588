#!/usr/bin/env bash
# Copies a one-directory agent build to DEST (the package's /usr/lib/outpost) as distributions
# want it: directories 0755, files 0644 and the program 0755 (the build's modes depend on who
# built it); shared objects stripped and without the build machine's RUNPATH (as dh_strip and
# rpm's brp-strip would); zlib and bzip2 left to the distribution instead of bundled copies.
# Used by build_deb.sh and build_rpm.sh.
# Usage: packaging/onedir_tree.sh BUILD_DIR DEST
set -euo pipefail
BUILD=$1
DEST=$2
if [ ! -x "$BUILD/agent" ] || [ ! -d "$BUILD/_internal" ]; then
  echo "onedir_tree.sh: $BUILD is not a one-directory build (run packaging/build_binary.sh)" >&2
  exit 2
fi
install -d -m 0755 "$DEST"
cp -R "$BUILD/." "$DEST/"
find "$DEST" -type d -exec chmod 0755 {} +
find "$DEST" -type f -exec chmod 0644 {} +
chmod 0755 "$DEST/agent"
rm -f "$DEST"/_internal/libz.so.* "$DEST"/_internal/libbz2.so.*
while IFS= read -r -d '' file; do
  if [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" != '177ELF' ]; then continue; fi
  # The program itself is not stripped: PyInstaller appends the application's archive to it.
  if [ "$file" != "$DEST/agent" ]; then
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$file"
  fi
  if readelf -d "$file" | grep -q -E '\((RUNPATH|RPATH)\)'; then chrpath -d "$file" >/dev/null; fi
done < <(find "$DEST" -type f -print0)
