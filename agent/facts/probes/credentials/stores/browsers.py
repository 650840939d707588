"""Browser stores: Chromium and Firefox saved logins, signed-in accounts and SSO cookies."""

from __future__ import annotations

import json
import re

from agent.facts.context import Context, ParseError
from agent.facts.probes.credentials.scan import ScanState, match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata import (
    Finder,
    Hit,
    Rows,
    listing,
    mozilla_logins,
    mozilla_profiles,
    query,
    read,
    under,
)
from agent.matching import host_of

# Only identity columns: the password/cookie value columns never leave SQLite.
CHROMIUM_LOGINS_SQL = "SELECT origin_url, username_value, blacklisted_by_user FROM logins"
CHROMIUM_COOKIES_SQL = "SELECT DISTINCT host_key, name FROM cookies"
FIREFOX_COOKIES_SQL = "SELECT DISTINCT host, name FROM moz_cookies"

# Per OS: (store, folder under the home). Linux adds the flatpak and snap sandboxes.
CHROMIUM_ROOTS: dict[str, tuple[tuple[str, str], ...]] = {
    "linux": (
        ("chrome", ".config/google-chrome"),
        ("chrome", ".var/app/com.google.Chrome/config/google-chrome"),
        ("chromium", ".config/chromium"),
        ("chromium", "snap/chromium/common/chromium"),
        ("chromium", ".var/app/org.chromium.Chromium/config/chromium"),
        ("brave", ".config/BraveSoftware/Brave-Browser"),
        ("brave", ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"),
        ("edge", ".config/microsoft-edge"),
        ("edge", ".var/app/com.microsoft.Edge/config/microsoft-edge"),
    ),
    "darwin": (
        ("chrome", "Library/Application Support/Google/Chrome"),
        ("chromium", "Library/Application Support/Chromium"),
        ("brave", "Library/Application Support/BraveSoftware/Brave-Browser"),
        ("edge", "Library/Application Support/Microsoft Edge"),
    ),
    "windows": (
        ("chrome", "AppData/Local/Google/Chrome/User Data"),
        ("chromium", "AppData/Local/Chromium/User Data"),
        ("brave", "AppData/Local/BraveSoftware/Brave-Browser/User Data"),
        ("edge", "AppData/Local/Microsoft/Edge/User Data"),
    ),
}
FIREFOX_ROOTS: dict[str, tuple[str, ...]] = {
    "linux": (
        ".mozilla/firefox",
        "snap/firefox/common/.mozilla/firefox",
        ".var/app/org.mozilla.firefox/.mozilla/firefox",
    ),
    "darwin": ("Library/Application Support/Firefox",),
    "windows": ("AppData/Roaming/Mozilla/Firefox",),
}

_PROFILE_DIR = re.compile(r"^(Default|Profile \d+)$")
# Cookie names that carry a sign-in session (Shibboleth, CAS, SAML, OIDC, ASP.NET, PHP, Java...).
SESSION_COOKIE = re.compile(
    r"sess|auth|sso|saml|shib|token|login|idp|oidc|openid|jwt|^tgc$|castgc|fedauth|rtfa|aspxauth",
    re.IGNORECASE,
)


def parse_local_state(text: str) -> dict[str, str | None]:
    """Chromium `Local State`: profile folder -> the account e-mail it is signed into.

    Sample: {"os_crypt": {"encrypted_key": "RFBBUEkB..."}, "profile": {"info_cache": {
    "Default": {"name": "Person 1", "user_name": "alice@gmail.test"}, "Profile 1": {...}}}}
    Only profile.info_cache is kept; the rest (os_crypt key material) is dropped at once.
    """
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"Local State is not JSON: {exc}") from exc
    profile = document.get("profile") if isinstance(document, dict) else None
    cache = profile.get("info_cache") if isinstance(profile, dict) else None
    if not isinstance(cache, dict):
        return {}
    accounts: dict[str, str | None] = {}
    for folder, info in cache.items():
        user = info.get("user_name") if isinstance(info, dict) else None
        accounts[str(folder)] = user if isinstance(user, str) and user else None
    return accounts


def chromium_login_hits(rows: Rows, org: Organisation) -> list[Hit]:
    """Organisation logins among Chromium `logins` rows (origin_url, username_value, blacklisted).

    Sample row: ('https://idp.example.ac.uk/idp/profile/SAML2/Redirect/SSO', 'ab1234', 0).
    A "never save" row (blacklisted_by_user = 1) stores nothing and is left out.
    """
    hits = []
    for origin, username, blacklisted in rows:
        if blacklisted or not isinstance(origin, str):
            continue
        user = username if isinstance(username, str) else ""
        if by_user := match_host(user, org):
            hits.append(("saved_login", user, by_user))
        elif by_host := match_host(origin, org):
            hits.append(("saved_login", host_of(origin), by_host))
    return hits


def cookie_hits(rows: Rows, org: Organisation) -> list[Hit]:
    """Sign-in session cookies set by organisation hosts, from (host, cookie name) rows.

    Sample rows: ('.example.ac.uk', '_shibsession_64656661756c74'), ('www.example.ac.uk', '_ga').
    Only the host is reported; cookies without a session-like name (analytics) are left out.
    """
    hits = []
    for host, name in rows:
        if not isinstance(host, str) or not isinstance(name, str):
            continue
        bare = host.lstrip(".")
        if (matched := match_host(bare, org)) and SESSION_COOKIE.search(name):
            hits.append(("sso_cookie", bare, matched))
    return hits


def _chromium_profile(ctx: Context, scan: ScanState, store: str, profile: str) -> None:
    names = listing(ctx, scan, store, profile)
    if names is None:
        return
    for database in ("Login Data", "Login Data For Account"):
        if names.get(database) == "file":
            path = under(ctx, profile, database)
            query(ctx, scan, store, path, CHROMIUM_LOGINS_SQL, chromium_login_hits)
    cookies = []
    if names.get("Network") == "dir":
        cookies.append(under(ctx, profile, "Network", "Cookies"))
    if names.get("Cookies") == "file":  # before Chrome 96
        cookies.append(under(ctx, profile, "Cookies"))
    for path in cookies:
        query(ctx, scan, store, path, CHROMIUM_COOKIES_SQL, cookie_hits)


def _chromium_root(ctx: Context, scan: ScanState, store: str, root: str) -> None:
    names = listing(ctx, scan, store, root)
    if names is None:
        return
    accounts: dict[str, str | None] = {}
    if names.get("Local State") == "file":
        state = under(ctx, root, "Local State")
        text = read(ctx, scan, store, state)
        try:
            accounts = parse_local_state(text) if text is not None else {}
        except ParseError as exc:
            scan.not_read(store, state, str(exc))
    for folder, kind in sorted(names.items()):
        if kind != "dir" or not (folder in accounts or _PROFILE_DIR.match(folder)):
            continue
        if scan.out_of_time():
            return
        profile = under(ctx, root, folder)
        account = accounts.get(folder)
        if matched := match_host(account, scan.org):
            scan.add("browser_account", store, profile, account, matched)
        _chromium_profile(ctx, scan, store, profile)


def find_chromium(ctx: Context, scan: ScanState) -> None:
    """Chrome, Chromium, Brave and Edge: every profile's logins, account and session cookies."""
    for home in scan.homes:
        for store, relative in CHROMIUM_ROOTS[ctx.os_name]:
            if scan.out_of_time():
                return
            _chromium_root(ctx, scan, store, under(ctx, home.path, relative))


def find_firefox(ctx: Context, scan: ScanState) -> None:
    """Firefox: every profile's saved-login sites and organisation session cookies."""
    for home in scan.homes:
        for relative in FIREFOX_ROOTS[ctx.os_name]:
            root = under(ctx, home.path, relative)
            for profile in mozilla_profiles(ctx, scan, "firefox", root):
                if scan.out_of_time():
                    return
                mozilla_logins(ctx, scan, "firefox", profile)
                path = under(ctx, profile, "cookies.sqlite")
                query(ctx, scan, "firefox", path, FIREFOX_COOKIES_SQL, cookie_hits)


FINDERS: dict[str, tuple[Finder, ...]] = {
    "linux": (find_chromium, find_firefox),
    "darwin": (find_chromium, find_firefox),
    "windows": (find_chromium, find_firefox),
}
