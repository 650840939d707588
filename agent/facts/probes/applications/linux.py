"""applications on Linux: browsers from dpkg or rpm (snaps behind Ubuntu's debs) and Flatpak,
TikTok web-app shortcuts in each home (TikTok has no Linux desktop app)."""

from __future__ import annotations

from agent.facts.context import Context, FactUnavailable, FileMissing
from agent.facts.probes.applications.linux_parse import (
    BROWSER_FLATPAKS,
    BROWSER_PACKAGES,
    SNAP_OF,
    WEB_APP_PREFIXES,
    is_snap_transitional,
    parse_desktop_entry,
    parse_dpkg_versions,
    parse_flatpak_versions,
    parse_rpm_versions,
    parse_snap_version,
    tiktok_web_app_browser,
    upstream_version,
)
from agent.facts.probes.applications.model import Application
from agent.facts.probes.applications.readers import WEB_APP_VERSION
from agent.facts.probes.base import CommandFailed, Reading, run_checked
from agent.facts.probes.credentials.homes import list_homes

PACKAGES = tuple(BROWSER_PACKAGES)
DPKG_FORMAT = "-f=${Package}\\t${Version}\\t${db:Status-Abbrev}\\n"
SHORTCUTS = ".local/share/applications"


def read_browsers(reading: Reading) -> list[Application]:
    """The package database's browsers, then Flatpak's (system-wide and root's own)."""
    ctx = reading.ctx
    flatpak = ctx.which("flatpak") is not None
    if ctx.which("dpkg-query"):
        found = [_from_deb(ctx, p, v) for p, v in _dpkg(ctx).items()]
    elif ctx.which("rpm"):
        found = [
            Application(
                name=BROWSER_PACKAGES[p], version=v, source=f"rpm {p}", version_unknown=None
            )
            for p, v in _rpm(ctx).items()
            if p in BROWSER_PACKAGES
        ]
    elif flatpak:
        found = []
    else:
        raise FactUnavailable("no package database (dpkg, rpm or flatpak) to ask")
    return found + (_flatpaks(ctx) if flatpak else [])


def read_tiktok(reading: Reading) -> list[Application]:
    """Chromium-family browsers write a .desktop shortcut for each installed web app."""
    ctx = reading.ctx
    found = []
    for home in list_homes(ctx, ()):
        folder = f"{home.path}/{SHORTCUTS}"
        try:
            entries = ctx.scandir(folder)
        except FileMissing:
            continue
        for entry in entries:
            # Only a browser's own shortcuts are read: other .desktop files are not web apps.
            if entry.kind != "file" or not entry.name.endswith(".desktop"):
                continue
            if entry.name.split("-", 1)[0] not in WEB_APP_PREFIXES:
                continue
            path = f"{folder}/{entry.name}"
            browser = tiktok_web_app_browser(entry.name, parse_desktop_entry(ctx.read_text(path)))
            if browser is not None:
                found.append(
                    Application(
                        name="tiktok_web_app",
                        version=None,
                        source=f"{path} ({browser})",
                        version_unknown=WEB_APP_VERSION,
                    )
                )
    return found


def _dpkg(ctx: Context) -> dict[str, str]:
    result = ctx.run(["dpkg-query", "-W", DPKG_FORMAT, *PACKAGES], timeout=10.0)
    # Exit 1 says some names are unknown to dpkg; the known ones are printed all the same.
    if result.returncode not in (0, 1):
        raise CommandFailed("dpkg-query", result.returncode, result.stdout, result.stderr)
    return parse_dpkg_versions(result.stdout)


def _rpm(ctx: Context) -> dict[str, str]:
    result = ctx.run(["rpm", "-q", "--qf", "%{NAME}\\t%{VERSION}\\n", *PACKAGES], timeout=10.0)
    # The exit code counts the packages not installed (said on stdout); stderr means trouble.
    if result.returncode != 0 and result.stderr.strip():
        raise CommandFailed("rpm", result.returncode, result.stdout, result.stderr)
    return parse_rpm_versions(result.stdout)


def _flatpaks(ctx: Context) -> list[Application]:
    text = run_checked(ctx, ["flatpak", "list", "--app", "--columns=application,version"])
    return [
        Application(
            name=BROWSER_FLATPAKS[app_id],
            version=version or None,
            source=f"flatpak {app_id}",
            version_unknown=None if version else "the flatpak declares no version",
        )
        for app_id, version in parse_flatpak_versions(text).items()
        if app_id in BROWSER_FLATPAKS
    ]


def _from_deb(ctx: Context, package: str, version: str) -> Application:
    name = BROWSER_PACKAGES[package]
    if not is_snap_transitional(version):
        return Application(
            name=name,
            version=upstream_version(version),
            source=f"dpkg {package}",
            version_unknown=None,
        )
    snap = SNAP_OF.get(package, name)
    source = f"snap {snap} (dpkg {package} {version})"
    try:
        meta = ctx.read_text(f"/snap/{snap}/current/meta/snap.yaml")
        return Application(
            name=name, version=parse_snap_version(meta), source=source, version_unknown=None
        )
    except FactUnavailable as exc:
        return Application(name=name, version=None, source=source, version_unknown=str(exc))
