"""Browser stores: Chromium and Firefox saved logins, signed-in accounts and SSO cookies."""

from __future__ import annotations

import re

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState, match_host
from agent.facts.probes.credentials.stores.appdata import (
    Finder,
    listing,
    mozilla_logins,
    mozilla_profiles,
    query,
    read,
)
from agent.facts.probes.credentials.stores.browsers_parse import (
    chromium_login_hits,
    cookie_hits,
    parse_local_state,
)

# Only identity columns: the password/cookie value columns never leave SQLite.
CHROMIUM_LOGINS_SQL = "SELECT origin_url, username_value, blacklisted_by_user FROM logins"
CHROMIUM_COOKIES_SQL = "SELECT DISTINCT host_key, name FROM cookies"
FIREFOX_COOKIES_SQL = "SELECT DISTINCT host, name FROM moz_cookies"
# UC Browser keeps Chrome's layout but names its logins table wow_logins (as LaZagne reads it);
# 0 stands for Chrome's never-save column, which it does not have.
UC_LOGINS_SQL = "SELECT action_url, username_value, 0 FROM wow_logins"
# UC Browser's data folders carry a suffix ("User Data_i18n"): listed, not named.
UC_BROWSER: PerOs[tuple[str, ...]] = PerOs(
    linux=(), darwin=(), windows=("AppData/Local/UCBrowser",)
)

# The rarer Chromium forks LaZagne reads on Windows (each keeps Chrome's layout), and Slimjet
# and Iridium beside them.
RARE_CHROMIUM_WINDOWS = (
    ("7star", "AppData/Local/7Star/7Star/User Data"),
    ("amigo", "AppData/Local/Amigo/User Data"),
    ("centbrowser", "AppData/Local/CentBrowser/User Data"),
    ("chedot", "AppData/Local/Chedot/User Data"),
    ("coccoc", "AppData/Local/CocCoc/Browser/User Data"),
    ("comodo_dragon", "AppData/Local/Comodo/Dragon/User Data"),
    ("dcbrowser", "AppData/Local/DCBrowser/User Data"),
    ("elements", "AppData/Local/Elements Browser/User Data"),
    ("epic", "AppData/Local/Epic Privacy Browser/User Data"),
    ("iridium", "AppData/Local/Iridium/User Data"),
    ("kometa", "AppData/Local/Kometa/User Data"),
    ("orbitum", "AppData/Local/Orbitum/User Data"),
    ("qqbrowser", "AppData/Local/Tencent/QQBrowser/User Data"),
    ("slimjet", "AppData/Local/Slimjet/User Data"),
    ("sogou", "AppData/Roaming/SogouExplorer/Webkit/User Data"),
    ("sputnik", "AppData/Local/Sputnik/Sputnik/User Data"),
    ("torch", "AppData/Local/Torch/User Data"),
    ("uran", "AppData/Local/uCozMedia/Uran/User Data"),
    ("yandex", "AppData/Local/Yandex/YandexBrowser/User Data"),
)
# Per OS: (store, folder under the home). Linux adds the flatpak and snap sandboxes. Beta,
# Dev and Canary channels keep their own folders; Opera keeps its profile in the folder itself.
CHROMIUM_ROOTS: PerOs[tuple[tuple[str, str], ...]] = PerOs(
    linux=(
        ("chrome", ".config/google-chrome"),
        ("chrome", ".config/google-chrome-beta"),
        ("chrome", ".config/google-chrome-unstable"),
        ("chrome", ".var/app/com.google.Chrome/config/google-chrome"),
        ("chromium", ".config/chromium"),
        ("chromium", "snap/chromium/common/chromium"),
        ("chromium", ".var/app/org.chromium.Chromium/config/chromium"),
        ("brave", ".config/BraveSoftware/Brave-Browser"),
        ("brave", ".config/BraveSoftware/Brave-Browser-Beta"),
        ("brave", ".config/BraveSoftware/Brave-Browser-Nightly"),
        ("brave", ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"),
        ("edge", ".config/microsoft-edge"),
        ("edge", ".config/microsoft-edge-beta"),
        ("edge", ".config/microsoft-edge-dev"),
        ("edge", ".var/app/com.microsoft.Edge/config/microsoft-edge"),
        ("vivaldi", ".config/vivaldi"),
        ("vivaldi", ".var/app/com.vivaldi.Vivaldi/config/vivaldi"),
        ("opera", ".config/opera"),
        ("opera", ".config/opera-beta"),
        ("opera", ".config/opera-developer"),
        ("opera", ".var/app/com.opera.Opera/config/opera"),
        ("slimjet", ".config/slimjet"),
        ("dissenter", ".config/GabAI/Dissenter-Browser"),
    ),
    darwin=(
        ("chrome", "Library/Application Support/Google/Chrome"),
        ("chrome", "Library/Application Support/Google/Chrome Beta"),
        ("chrome", "Library/Application Support/Google/Chrome Dev"),
        ("chrome", "Library/Application Support/Google/Chrome Canary"),
        ("chromium", "Library/Application Support/Chromium"),
        ("brave", "Library/Application Support/BraveSoftware/Brave-Browser"),
        ("brave", "Library/Application Support/BraveSoftware/Brave-Browser-Beta"),
        ("brave", "Library/Application Support/BraveSoftware/Brave-Browser-Nightly"),
        ("edge", "Library/Application Support/Microsoft Edge"),
        ("edge", "Library/Application Support/Microsoft Edge Beta"),
        ("edge", "Library/Application Support/Microsoft Edge Dev"),
        ("edge", "Library/Application Support/Microsoft Edge Canary"),
        ("vivaldi", "Library/Application Support/Vivaldi"),
        ("opera", "Library/Application Support/com.operasoftware.Opera"),
        ("opera", "Library/Application Support/com.operasoftware.OperaGX"),
    ),
    windows=(
        ("chrome", "AppData/Local/Google/Chrome/User Data"),
        ("chrome", "AppData/Local/Google/Chrome Beta/User Data"),
        ("chrome", "AppData/Local/Google/Chrome Dev/User Data"),
        ("chrome", "AppData/Local/Google/Chrome SxS/User Data"),  # Canary
        ("chromium", "AppData/Local/Chromium/User Data"),
        ("brave", "AppData/Local/BraveSoftware/Brave-Browser/User Data"),
        ("brave", "AppData/Local/BraveSoftware/Brave-Browser-Beta/User Data"),
        ("brave", "AppData/Local/BraveSoftware/Brave-Browser-Nightly/User Data"),
        ("edge", "AppData/Local/Microsoft/Edge/User Data"),
        ("edge", "AppData/Local/Microsoft/Edge Beta/User Data"),
        ("edge", "AppData/Local/Microsoft/Edge Dev/User Data"),
        ("edge", "AppData/Local/Microsoft/Edge SxS/User Data"),  # Canary
        ("vivaldi", "AppData/Local/Vivaldi/User Data"),
        ("opera", "AppData/Roaming/Opera Software/Opera Stable"),
        ("opera", "AppData/Roaming/Opera Software/Opera GX Stable"),
        *RARE_CHROMIUM_WINDOWS,
    ),
)
# Per OS: (store, folder holding profiles.ini) of Firefox and the forks that keep its format.
FIREFOX_ROOTS: PerOs[tuple[tuple[str, str], ...]] = PerOs(
    linux=(
        ("firefox", ".mozilla/firefox"),
        ("firefox", "snap/firefox/common/.mozilla/firefox"),
        ("firefox", ".var/app/org.mozilla.firefox/.mozilla/firefox"),
        ("icecat", ".mozilla/icecat"),
        ("waterfox", ".waterfox"),
        ("pale_moon", ".moonchild productions/pale moon"),
    ),
    darwin=(("firefox", "Library/Application Support/Firefox"),),
    windows=(
        ("firefox", "AppData/Roaming/Mozilla/Firefox"),
        ("blackhawk", "AppData/Roaming/NETGATE Technologies/BlackHawk"),
        ("cyberfox", "AppData/Roaming/8pecxstudios/Cyberfox"),
        ("icedragon", "AppData/Roaming/Comodo/IceDragon"),
        ("k-meleon", "AppData/Roaming/K-Meleon"),
        ("icecat", "AppData/Roaming/Mozilla/icecat"),
        ("pale_moon", "AppData/Roaming/Moonchild Productions/Pale Moon"),
        ("basilisk", "AppData/Roaming/Basilisk-Dev/Basilisk"),
    ),
)

# UC Browser's login database: "UC Login Data.18" (not its "-journal").
_UC_LOGINS = re.compile(r"^UC Login Data(\.\d+)?$")
# Chromium profile folders, taken even when `Local State` does not list them.
_PROFILE_DIR = re.compile(r"^(Default|Profile \d+)$")


def _chromium_profile(ctx: Context, scan: ScanState, store: str, profile: str) -> None:
    names = listing(ctx, scan, store, profile)
    if names is None:
        return
    # Yandex keeps its logins in "Ya Passman Data" (Chrome's logins table, its own key).
    for database in ("Login Data", "Login Data For Account", "Ya Passman Data"):
        if names.get(database) == "file":
            path = join(ctx, profile, database)
            query(ctx, scan, store, path, CHROMIUM_LOGINS_SQL, chromium_login_hits)
    for name, kind in sorted(names.items()):
        if kind == "file" and _UC_LOGINS.match(name):
            path = join(ctx, profile, name)
            query(ctx, scan, store, path, UC_LOGINS_SQL, chromium_login_hits)
    cookies = []
    if names.get("Network") == "dir":
        cookies.append(join(ctx, profile, "Network", "Cookies"))
    if names.get("Cookies") == "file":  # before Chrome 96
        cookies.append(join(ctx, profile, "Cookies"))
    for path in cookies:
        query(ctx, scan, store, path, CHROMIUM_COOKIES_SQL, cookie_hits)


def _chromium_root(ctx: Context, scan: ScanState, store: str, root: str) -> None:
    names = listing(ctx, scan, store, root)
    if names is None:
        return
    accounts: dict[str, str | None] = {}
    if names.get("Local State") == "file":
        state = join(ctx, root, "Local State")
        text = read(ctx, scan, store, state)
        try:
            accounts = parse_local_state(text) if text is not None else {}
        except ParseError as exc:
            scan.not_read(store, state, str(exc))
    if names.get("Login Data") == "file":  # Opera: the folder is its own (only) profile
        _chromium_profile(ctx, scan, store, root)
    for folder, kind in sorted(names.items()):
        if kind != "dir" or not (folder in accounts or _PROFILE_DIR.match(folder)):
            continue
        if scan.out_of_time():
            return
        profile = join(ctx, root, folder)
        account = accounts.get(folder)
        if matched := match_host(account, scan.org):
            scan.add("browser_account", store, profile, account, matched)
        _chromium_profile(ctx, scan, store, profile)


def find_chromium(ctx: Context, scan: ScanState) -> None:
    """Chrome, Chromium, Brave, Edge (every channel), Vivaldi, Opera, UC Browser and the rarer
    forks: every profile's logins, account and session cookies."""
    for home in scan.homes:
        for store, relative in CHROMIUM_ROOTS.pick(ctx):
            if scan.out_of_time():
                return
            _chromium_root(ctx, scan, store, join(ctx, home.path, relative))
        for relative in UC_BROWSER.pick(ctx):
            folder = join(ctx, home.path, relative)
            for name, kind in sorted((listing(ctx, scan, "ucbrowser", folder) or {}).items()):
                if kind == "dir" and name.startswith("User Data"):
                    _chromium_root(ctx, scan, "ucbrowser", join(ctx, folder, name))


def find_firefox(ctx: Context, scan: ScanState) -> None:
    """Firefox and its forks: every profile's saved-login sites and organisation session
    cookies."""
    for home in scan.homes:
        for store, relative in FIREFOX_ROOTS.pick(ctx):
            root = join(ctx, home.path, relative)
            for profile in mozilla_profiles(ctx, scan, store, root):
                if scan.out_of_time():
                    return
                mozilla_logins(ctx, scan, store, profile)
                path = join(ctx, profile, "cookies.sqlite")
                query(ctx, scan, store, path, FIREFOX_COOKIES_SQL, cookie_hits)


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_chromium, find_firefox),
    darwin=(find_chromium, find_firefox),
    windows=(find_chromium, find_firefox),
)
