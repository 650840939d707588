#!/usr/bin/env bash
# Builds OUTDIR/outpost-agent_<version>_<arch>.deb from the one-directory agent build
# (packaging/build_binary.sh onedir). Checked by lintian in tests/system/test_packaging.py.
# Usage: packaging/build_deb.sh [BUILD_DIR] [OUTDIR]   (default: dist/onedir/agent dist)
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
BUILD=${1:-dist/onedir/agent}
OUT=${2:-dist}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
ARCH=$(dpkg --print-architecture)
# dpkg-shlibdeps wants the tree as debhelper lays it out: debian/<package>/ under the cwd.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/debian/outpost-agent
DOC=$ROOT/usr/share/doc/outpost-agent
install -d -m 0755 "$ROOT" "$ROOT/usr/bin" "$DOC"
packaging/onedir_tree.sh "$BUILD" "$ROOT/usr/lib/outpost"
ln -s ../lib/outpost/agent "$ROOT/usr/bin/agent"
install -m 0755 packaging/enrol-at-install.sh "$ROOT/usr/lib/outpost/enrol-at-install"

install -D -m 0644 packaging/systemd/outpost-agent.service \
  "$ROOT/lib/systemd/system/outpost-agent.service"
install -D -m 0644 packaging/deb/sysusers.conf "$ROOT/usr/lib/sysusers.d/outpost-agent.conf"
install -D -m 0644 packaging/deb/tmpfiles.conf "$ROOT/usr/lib/tmpfiles.d/outpost-agent.conf"
install -D -m 0644 packaging/deb/agent.toml "$ROOT/etc/outpost/agent.toml"
install -D -m 0644 packaging/deb/lintian-overrides \
  "$ROOT/usr/share/lintian/overrides/outpost-agent"
install -d -m 0755 "$ROOT/usr/share/man/man1"
gzip -9n <packaging/deb/agent.1 >"$ROOT/usr/share/man/man1/agent.1.gz"
gzip -9n <packaging/deb/changelog >"$DOC/changelog.gz"
install -m 0644 packaging/deb/copyright "$DOC/copyright"
install -m 0644 docs/operator-guide.md "$DOC/operator-guide.md"
find "$ROOT/usr/share" -type f -exec chmod 0644 {} +

# The libc the bundled interpreter and extensions really need, from their symbol versions
# (dpkg-shlibdeps); the libraries PyInstaller bundled are the package's own, not dependencies.
ELFS=()
while IFS= read -r -d '' file; do
  if [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ]; then ELFS+=("$file"); fi
done < <(find "$ROOT/usr/lib/outpost" -type f -print0)
mkdir -p "$WORK/debian"
printf 'Source: outpost\n\nPackage: outpost-agent\nArchitecture: any\n' >"$WORK/debian/control"
for lib in "$ROOT"/usr/lib/outpost/_internal/lib*.so*; do
  name=$(basename "$lib")
  echo "${name%%.so*} ${name#*.so.}"
done >"$WORK/debian/shlibs.local"
SHLIBS=$(cd "$WORK" && dpkg-shlibdeps -O -l"$ROOT/usr/lib/outpost/_internal" \
  "${ELFS[@]#"$WORK"/}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
case "$SHLIBS" in
  *libc6*) ;;
  *) echo "build_deb.sh: dpkg-shlibdeps found no libc dependency ('$SHLIBS')" >&2; exit 1 ;;
esac
rm -rf "$WORK/debian/control" "$WORK/debian/shlibs.local"

install -d -m 0755 "$ROOT/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$ROOT/DEBIAN/$script"
done
echo "/etc/outpost/agent.toml" >"$ROOT/DEBIAN/conffiles"
(cd "$ROOT" && find usr lib -type f -print0 | sort -z | xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
# A template, never a shell heredoc: the description's backquotes stay text.
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$SIZE|" \
  -e "s|@SHLIBS@|$SHLIBS|" packaging/deb/control.in >"$ROOT/DEBIAN/control"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"
mkdir -p "$OUT"
DEB="$OUT/outpost-agent_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$ROOT" "$DEB" >/dev/null
echo "built $DEB"
