"""Pure parsers the browser, mail and OS-store finders share: Mozilla files, org names in text."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterable
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host, match_realm, match_tenant
from agent.facts.probes.credentials.settings import Organisation
from agent.matching import host_of

Hit = tuple[str, str, str]  # kind, identity, the organisation value it matched
Rows = Iterable[tuple[object, ...]]

# A host name, e-mail address or Kerberos principal standing on its own inside a longer text
# (a Credential Manager target, a keychain service, a keyring label); look-alikes such as
# example.ac.uk.evil.com stay whole and so do not match.
_TOKEN = re.compile(
    r"(?<![\w.-])(?:[\w.+-]+@)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
    r"(?![\w@-]|\.[\w-])",
    re.IGNORECASE,
)
_ABSOLUTE = re.compile(r"^([/\\]|[A-Za-z]:)")
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def org_token(text: str | None, org: Organisation) -> tuple[str, str] | None:
    """The first organisation host, e-mail, principal or tenant id in a text, with its match.

    Samples: 'LegacyGeneric:target=git:https://git.example.ac.uk' -> ('git.example.ac.uk',
    'example.ac.uk'); 'alice@AD.EXAMPLE.AC.UK' -> (same, 'AD.EXAMPLE.AC.UK');
    'https://example.ac.uk.evil.com/' -> None.
    """
    if not text:
        return None
    for token in _TOKEN.findall(text):
        if matched := match_realm(token, org):
            return token, matched
    for guid in _GUID.findall(text):
        if matched := match_tenant(guid, org):
            return guid, matched
    return None


def parse_profiles_ini(text: str) -> list[tuple[str, bool]]:
    """Mozilla `profiles.ini`: every profile folder as (path, is_relative), in file order.

    Sample: [Profile0]\\nName=default-release\\nIsRelative=1\\nPath=Profiles/abcd.default-release
    Install sections ([Install4F96D1932A9F858E] Default=...) name the same folders again.
    """
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text.lstrip("\ufeff"))
    except configparser.Error as exc:
        raise ParseError(f"profiles.ini: {exc}".splitlines()[0]) from exc
    found: list[tuple[str, bool]] = []
    for section in parser.sections():
        values = parser[section]
        if section.startswith("Profile") and values.get("Path"):
            entry = (values["Path"], values.get("IsRelative", "1").strip() != "0")
        elif section.startswith("Install") and values.get("Default"):
            entry = (values["Default"], not _ABSOLUTE.match(values["Default"]))
        else:
            continue
        if entry not in found:
            found.append(entry)
    return found


def parse_mozilla_logins(text: str) -> list[str]:
    """The sites of Firefox/Thunderbird `logins.json` entries (usernames there are encrypted).

    Sample: {"logins": [{"hostname": "https://idp.example.ac.uk", "formSubmitURL":
    "https://idp.example.ac.uk", "encryptedUsername": "MDoE...", "encryptedPassword": "MDoE..."}]}
    """
    try:
        document: Any = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"logins.json is not JSON: {exc}") from exc
    logins = document.get("logins") if isinstance(document, dict) else None
    if not isinstance(logins, list):
        raise ParseError("logins.json has no 'logins' list")
    sites = []
    for login in logins:
        if isinstance(login, dict):
            for key in ("hostname", "formSubmitURL"):
                value = login.get(key)
                if isinstance(value, str) and value and value not in sites:
                    sites.append(value)
    return sites


def site_hits(sites: Iterable[str], org: Organisation) -> list[Hit]:
    """Saved logins for organisation sites. Sample: ['imap://imap.example.ac.uk'] -> one hit."""
    return [
        ("saved_login", host_of(site), matched)
        for site in sites
        if (matched := match_host(site, org))
    ]
