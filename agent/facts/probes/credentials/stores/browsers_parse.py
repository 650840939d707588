"""Pure parsers for browser stores: Chromium `Local State`, login and cookie rows (never values)."""

from __future__ import annotations

import json
import re

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit, Rows
from agent.matching import host_of

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
