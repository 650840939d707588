"""Parsers for Linux package queries, snap metadata and web-app shortcuts (pure functions)."""

from __future__ import annotations

import re

from agent.facts.context import ParseError

# Package -> browser, for Debian/Ubuntu (dpkg) and Fedora/RHEL (rpm) package names.
BROWSER_PACKAGES = {
    "google-chrome-stable": "chrome",
    "microsoft-edge-stable": "edge",
    "firefox": "firefox",
    "firefox-esr": "firefox",
    "chromium": "chromium",
    "chromium-browser": "chromium",
    "brave-browser": "brave",
}
# Flatpak application id -> browser (Flathub's ids).
BROWSER_FLATPAKS = {
    "com.google.Chrome": "chrome",
    "com.microsoft.Edge": "edge",
    "org.mozilla.firefox": "firefox",
    "org.chromium.Chromium": "chromium",
    "com.brave.Browser": "brave",
}
# Ubuntu's deb of a browser that is really a snap: its version names the snap, not the browser.
SNAP_OF = {"firefox": "firefox", "chromium-browser": "chromium"}
# Browsers whose web-app shortcuts (~/.local/share/applications/<prefix>-<app id>-<profile>
# .desktop) an installed TikTok web app leaves behind.
WEB_APP_PREFIXES = {"chrome": "chrome", "msedge": "edge", "brave": "brave", "chromium": "chromium"}


def parse_dpkg_versions(text: str) -> dict[str, str]:
    """`dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' PKG...`: the
    installed packages (status ii) and their versions; known but removed ones (un, rc) are left
    out. Sample (Debian 12):
        chromium\t156.0.8078.114-1~deb12u1\tii
        firefox\t\tun
    """
    versions = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ParseError(f"dpkg-query printed an unexpected line: {line[:80]!r}")
        package, version, status = parts
        if status.strip() == "ii" and version:
            versions[package] = version
    return versions


def parse_rpm_versions(text: str) -> dict[str, str]:
    """`rpm -q --qf '%{NAME}\\t%{VERSION}\\n' PKG...`: installed packages and versions; the
    "is not installed" lines of the others are left out. Sample (Fedora 41):
        firefox\t133.0.3
        package google-chrome-stable is not installed
    """
    versions = {}
    for line in text.splitlines():
        if not line.strip() or (line.startswith("package ") and line.endswith("not installed")):
            continue
        name, tab, version = line.partition("\t")
        if not tab or not version.strip():
            raise ParseError(f"rpm printed an unexpected line: {line[:80]!r}")
        versions[name.strip()] = version.strip()
    return versions


def parse_flatpak_versions(text: str) -> dict[str, str]:
    """`flatpak list --app --columns=application,version`: application id -> version (empty
    when the app declares none). Sample (Fedora 41):
        org.mozilla.firefox\t133.0.3
        com.brave.Browser\t1.73.97
    """
    versions = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        app_id, tab, version = line.partition("\t")
        if not tab or not re.fullmatch(r"[A-Za-z0-9_.-]+", app_id):
            raise ParseError(f"flatpak printed an unexpected line: {line[:80]!r}")
        versions[app_id] = version.strip()
    return versions


def upstream_version(version: str) -> str:
    """A Debian package version without its epoch and Debian revision: the browser's own.
    '1:115.6.0esr-1~deb12u1' -> '115.6.0esr'; '156.0.8078.114-1~deb12u1' -> '156.0.8078.114'."""
    without_epoch = version.split(":", 1)[1] if ":" in version else version
    return without_epoch.rsplit("-", 1)[0] if "-" in without_epoch else without_epoch


def is_snap_transitional(version: str) -> bool:
    """Ubuntu's deb that installs the snap instead: '1:1snap1-0ubuntu5'."""
    return "snap" in version


def parse_snap_version(text: str) -> str:
    """The `version:` of a snap's meta/snap.yaml. Sample (/snap/firefox/current/meta/snap.yaml):
    name: firefox
    version: 133.0.3-1
    """
    match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", text, re.MULTILINE)
    if match is None:
        raise ParseError("snap.yaml has no version")
    return match[1]


def parse_desktop_entry(text: str) -> dict[str, str]:
    """The keys of a .desktop file's [Desktop Entry] group (untranslated). Sample (Chrome's
    shortcut of an installed web app):
        [Desktop Entry]
        Name=TikTok
        Exec=/opt/google/chrome/google-chrome --profile-directory=Default --app-id=fpkkmlhlmbeo
    """
    entry: dict[str, str] = {}
    group = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            group = line
        elif group == "[Desktop Entry]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            entry.setdefault(key.strip(), value.strip())
    return entry


def tiktok_web_app_browser(file_name: str, entry: dict[str, str]) -> str | None:
    """The browser of a TikTok web-app shortcut, else None (another app, or not a web app)."""
    prefix = file_name.split("-", 1)[0]
    if prefix not in WEB_APP_PREFIXES or "--app-id=" not in entry.get("Exec", ""):
        return None
    if "tiktok" not in entry.get("Name", "").casefold():
        return None
    return WEB_APP_PREFIXES[prefix]
