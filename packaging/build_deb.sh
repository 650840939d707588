#!/usr/bin/env bash
# Builds dist/outpost-agent_<version>_<arch>.deb from dist/agent (packaging/build_binary.sh).
# Usage: packaging/build_deb.sh [BINARY] [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY=${1:-dist/agent}
OUT=${2:-dist}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
ARCH=$(dpkg --print-architecture)
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT

install -D -m 0755 "$BINARY" "$ROOT/usr/lib/outpost/agent"
install -d "$ROOT/usr/bin"
ln -s ../lib/outpost/agent "$ROOT/usr/bin/agent"
install -D -m 0644 packaging/systemd/outpost-agent.service \
  "$ROOT/lib/systemd/system/outpost-agent.service"
install -D -m 0644 packaging/deb/agent.toml "$ROOT/etc/outpost/agent.toml"
install -D -m 0644 docs/operator-guide.md "$ROOT/usr/share/doc/outpost-agent/operator-guide.md"
install -d -m 0755 "$ROOT/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$ROOT/DEBIAN/$script"
done
echo "/etc/outpost/agent.toml" > "$ROOT/DEBIAN/conffiles"
SIZE=$(du -sk "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: outpost-agent
Version: $VERSION
Architecture: $ARCH
Maintainer: Outpost <security@example.ac.uk>
Installed-Size: $SIZE
Depends: adduser, iproute2
Recommends: network-manager
Section: admin
Priority: optional
Description: Outpost agent - keeps a dedicated device honest
 Reports this device's patch level, networks, accounts and stray organisation
 credentials to the Outpost collector, and answers `agent --self-check`.
CONTROL
mkdir -p "$OUT"
DEB="$OUT/outpost-agent_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group --build "$ROOT" "$DEB" >/dev/null
echo "built $DEB"
