"""applications on macOS: browsers' app bundles under /Applications and each ~/Applications,
TikTok's under /Applications, TikTok web apps under each home's ~/Applications (Chrome, Edge
and Brave put their app shims there)."""

from __future__ import annotations

from agent.facts.context import Context, FactUnavailable, FileMissing
from agent.facts.probes.applications.darwin_parse import parse_bundle_version
from agent.facts.probes.applications.model import Application
from agent.facts.probes.applications.readers import WEB_APP_VERSION
from agent.facts.probes.applications.versions import own_version
from agent.facts.probes.base import Reading
from agent.facts.probes.credentials.homes import list_homes

MAX_PLIST = 1 << 20
BROWSERS = {
    "chrome": "Google Chrome.app",
    "edge": "Microsoft Edge.app",
    "firefox": "Firefox.app",
    "safari": "Safari.app",
    "chromium": "Chromium.app",
    "brave": "Brave Browser.app",
}
# TikTok for Mac is the iPad app: its Info.plist sits in the wrapped bundle, not in Contents.
TIKTOK = "/Applications/TikTok.app"
TIKTOK_PLISTS = ("Contents/Info.plist", "Wrapper/TikTok.app/Info.plist")
WEB_APP_FOLDERS = {
    "Chrome Apps.localized": "chrome",
    "Edge Apps.localized": "edge",
    "Brave Browser Apps.localized": "brave",
    "Chromium Apps.localized": "chromium",
}


def read_browsers(reading: Reading) -> list[Application]:
    """/Applications, then each home's ~/Applications (where a browser installed without an
    administrator's password goes)."""
    ctx = reading.ctx
    folders = ["/Applications", *(f"{home.path}/Applications" for home in list_homes(ctx, ()))]
    found = []
    for folder in folders:
        for name, bundle in BROWSERS.items():
            app = _bundle(ctx, name, f"{folder}/{bundle}", ("Contents/Info.plist",))
            if app is not None:
                found.append(app)
    return found


def read_tiktok(reading: Reading) -> list[Application]:
    ctx = reading.ctx
    app = _bundle(ctx, "tiktok", TIKTOK, TIKTOK_PLISTS)
    found = [] if app is None else [app]
    for home in list_homes(ctx, ()):
        for folder, browser in WEB_APP_FOLDERS.items():
            path = f"{home.path}/Applications/{folder}"
            try:
                names = ctx.listdir(path)
            except FileMissing:
                continue
            found.extend(
                Application(
                    name="tiktok_web_app",
                    version=None,
                    source=f"{path}/{shim} ({browser})",
                    version_unknown=WEB_APP_VERSION,
                )
                for shim in sorted(names)
                if shim.endswith(".app") and "tiktok" in shim.casefold()
            )
    return found


def _bundle(ctx: Context, name: str, bundle: str, plists: tuple[str, ...]) -> Application | None:
    """The bundle's version from the first Info.plist present; None when the app is absent."""
    if not ctx.exists(bundle):
        return None
    why = "no Info.plist in the bundle"
    for plist in plists:
        try:
            version = parse_bundle_version(ctx.read_bytes(f"{bundle}/{plist}", MAX_PLIST))
        except FileMissing:
            continue
        except FactUnavailable as exc:
            why = str(exc)
            continue
        return Application(
            name=name, version=own_version(name, version), source=bundle, version_unknown=None
        )
    return Application(name=name, version=None, source=bundle, version_unknown=why)
