#!/usr/bin/env bash
# Builds OUTDIR/outpost-agent-<version>-1.<arch>.rpm from the one-directory agent build
# (packaging/build_binary.sh onedir) with rpmbuild and packaging/rpm/outpost-agent.spec.
# Checked by rpmlint in tests/system/test_packaging_rpm.py.
# Usage: packaging/build_rpm.sh [BUILD_DIR] [OUTDIR]   (default: dist/onedir/agent dist)
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
BUILD=${1:-dist/onedir/agent}
OUT=${2:-dist}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TREE=$WORK/tree
DOC=$TREE/usr/share/doc/outpost-agent
install -d -m 0755 "$TREE" "$TREE/usr/bin" "$DOC" "$TREE/usr/share/man/man1"
packaging/onedir_tree.sh "$BUILD" "$TREE/usr/lib/outpost"
ln -s ../lib/outpost/agent "$TREE/usr/bin/agent"
install -m 0755 packaging/enrol-at-install.sh "$TREE/usr/lib/outpost/enrol-at-install"
install -D -m 0644 packaging/systemd/outpost-agent.service \
  "$TREE/usr/lib/systemd/system/outpost-agent.service"
install -D -m 0644 packaging/deb/sysusers.conf "$TREE/usr/lib/sysusers.d/outpost-agent.conf"
install -D -m 0644 packaging/deb/tmpfiles.conf "$TREE/usr/lib/tmpfiles.d/outpost-agent.conf"
install -D -m 0644 packaging/deb/agent.toml "$TREE/etc/outpost/agent.toml"
gzip -9n <packaging/deb/agent.1 >"$TREE/usr/share/man/man1/agent.1.gz"
install -m 0644 packaging/deb/copyright "$DOC/copyright"
install -m 0644 docs/operator-guide.md "$DOC/operator-guide.md"
rpmbuild -bb --quiet \
  --define "_topdir $WORK/rpmbuild" \
  --define "version $VERSION" \
  --define "tree $TREE" \
  --define "_build_id_links none" \
  packaging/rpm/outpost-agent.spec
mkdir -p "$OUT"
RPM=$(find "$WORK/rpmbuild/RPMS" -name 'outpost-agent-*.rpm' | head -1)
cp "$RPM" "$OUT/"
echo "built $OUT/$(basename "$RPM")"
