"""What the browser, mail and OS-store finders share: paths, profiles, reads, org matching."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from agent.facts.context import Context, FactUnavailable, FileMissing, ParseError
from agent.facts.probes.credentials.scan import ScanState, match_host, match_realm, match_tenant
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.storefiles import list_folder, read_store_file
from agent.matching import host_of

Finder = Callable[[Context, ScanState], None]
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


def read(ctx: Context, scan: ScanState, store: str, path: str) -> str | None:
    """A store file's text; None when it does not exist or could not be read (then noted)."""
    return read_store_file(ctx, scan, store, path)


def record(scan: ScanState, store: str, location: str, hits: Iterable[Hit]) -> None:
    for kind, identity, matched in hits:
        scan.add(kind, store, location, identity, matched)


def query(
    ctx: Context,
    scan: ScanState,
    store: str,
    path: str,
    sql: str,
    hits: Callable[[Rows, Organisation], list[Hit]],
) -> None:
    """Run one metadata query and record its hits; a missing file is simply absent."""
    try:
        rows = ctx.sqlite_rows(path, sql)
    except FileMissing:
        return
    except FactUnavailable as exc:
        scan.not_read(store, path, str(exc))
        return
    record(scan, store, path, hits(rows, scan.org))


def under(ctx: Context, base: str, *relative: str) -> str:
    """A path below `base` with the OS's separator ('/'-written relative parts are converted)."""
    separator = "\\" if ctx.os_name == "windows" else "/"
    parts = [p.replace("/", separator) for p in relative]
    return separator.join([base.rstrip("/\\"), *parts])


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


def listing(ctx: Context, scan: ScanState, store: str, path: str) -> dict[str, str] | None:
    """A folder's entries as name -> kind; None when it does not exist or was not readable."""
    entries = list_folder(ctx, scan, store, path)
    return None if entries is None else {entry.name: entry.kind for entry in entries}


def mozilla_profiles(ctx: Context, scan: ScanState, store: str, root: str) -> list[str]:
    """The profile folders a Mozilla `profiles.ini` lists (none when the app is absent)."""
    ini = under(ctx, root, "profiles.ini")
    try:
        entries = parse_profiles_ini(ctx.read_text(ini))
    except FileMissing:
        return []
    except FactUnavailable as exc:
        scan.not_read(store, ini, str(exc))
        return []
    return [under(ctx, root, path) if relative else path for path, relative in entries]


def mozilla_logins(ctx: Context, scan: ScanState, store: str, profile: str) -> None:
    """The organisation sites among a Mozilla profile's saved logins."""
    path = under(ctx, profile, "logins.json")
    text = read(ctx, scan, store, path)
    if text is None:
        return
    try:
        record(scan, store, path, site_hits(parse_mozilla_logins(text), scan.org))
    except ParseError as exc:
        scan.not_read(store, path, str(exc))
