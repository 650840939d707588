#!/bin/sh
# Builds OUTDIR/outpost-agent-<version>.pkg on macOS from the one-directory agent build: the
# agent in /usr/local/outpost, its launchd daemon, and a postinstall that loads the daemon once
# the device is enrolled. Run by .github/workflows/installers.yml on a macOS runner.
# Signed when SIGN_IDENTITY names a "Developer ID Installer" certificate in the keychain.
# Usage: packaging/launchd/build-pkg.sh BUILD_DIR OUTDIR
set -eu
cd "$(dirname "$0")/../.."
BUILD=$1
OUT=$2
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
install -d -m 0755 "$WORK/root/usr/local/outpost" "$WORK/root/Library/LaunchDaemons"
cp -R "$BUILD/." "$WORK/root/usr/local/outpost/"
install -m 0644 packaging/launchd/org.outpost.agent.plist "$WORK/root/Library/LaunchDaemons/"
mkdir -p "$OUT"
pkgbuild --root "$WORK/root" --scripts packaging/launchd/pkg-scripts \
  --identifier org.outpost.agent --version "$VERSION" --install-location / \
  "$WORK/outpost-agent-component.pkg"
# A product archive (productbuild) is what Jamf and notarisation take.
if [ -n "${SIGN_IDENTITY:-}" ]; then
  productbuild --package "$WORK/outpost-agent-component.pkg" --sign "$SIGN_IDENTITY" \
    "$OUT/outpost-agent-$VERSION.pkg"
else
  productbuild --package "$WORK/outpost-agent-component.pkg" "$OUT/outpost-agent-$VERSION.pkg"
fi
echo "built $OUT/outpost-agent-$VERSION.pkg"
