"""Pure helpers the client-store parsers share: safe small-XML reading, org logins as hits,
saved sessions from a registry script's JSON."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_host, match_realm
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit
from agent.matching import host_of

# Store files never declare entities; refusing them rules out entity-expansion bombs.
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)


def xml_root(text: str, what: str) -> ET.Element:
    """The root element of a small XML store file; malformed XML or a DTD entity is a ParseError.

    Sample: '<FileZilla3><Servers/></FileZilla3>' -> <Element 'FileZilla3'>.
    """
    if _ENTITY.search(text):
        raise ParseError(f"{what}: declares XML entities, not read")
    try:
        return ET.fromstring(text.lstrip("\ufeff").strip())
    except ET.ParseError as exc:
        raise ParseError(f"{what}: not well-formed XML ({exc})") from exc


def local(tag: str) -> str:
    """An element's name without its namespace: '{urn:schemas-microsoft-com:unattend}Domain'
    -> 'Domain'."""
    return tag.rsplit("}", 1)[-1]


def child_text(element: ET.Element, name: str) -> str:
    """The stripped text of the first direct child named `name` (any namespace), else ''."""
    for child in element:
        if local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def saved_kind(saved: object) -> str:
    """The kind of a saved client login: saved_login when a password is kept beside it, else
    saved_session."""
    return "saved_login" if saved else "saved_session"


def add_hit(hits: list[Hit], hit: Hit | None) -> None:
    """Add a hit once: the same login named twice in one file is one finding."""
    if hit is not None and hit not in hits:
        hits.append(hit)


def login_hit(kind: str, host: str, user: str, org: Organisation, domain: str = "") -> Hit | None:
    """A hit when the host, the user (an e-mail/UPN or DOMAIN\\user) or the logon domain is
    the organisation's; identity as 'user@host', 'e-mail (host)', 'DOMAIN\\user (host)'.

    Samples: ('sftp.example.ac.uk', 'ab1234') -> 'ab1234@sftp.example.ac.uk';
    ('files.other.test', 'alice@example.ac.uk') -> 'alice@example.ac.uk (files.other.test)';
    ('', 'ab1234', domain='AD.EXAMPLE.AC.UK') -> 'AD.EXAMPLE.AC.UK\\ab1234';
    ('host.example.ac.uk.evil.test', 'x') -> None.
    """
    host, user, domain = host.strip(), user.strip(), domain.strip()
    if "\\" in user and not domain:
        domain, user = user.split("\\", 1)
    by_user = match_host(user, org) if "@" in user else None
    matched = (
        (match_host(host, org) if host and " " not in host else None)
        or by_user
        or (match_realm(domain, org) if domain else None)
    )
    if matched is None:
        return None
    shown = host_of(host) if host else ""
    account = f"{domain}\\{user}" if domain and user and not by_user else user or domain
    if account and shown:
        # An e-mail-like account never gets a second @: 'me@irc.test (irc.example.ac.uk)'.
        plain = not (by_user or domain or "@" in account)
        identity = f"{account}@{shown}" if plain else f"{account} ({shown})"
    else:
        identity = account or shown
    return kind, identity, matched


def session_hits(sessions: list[dict[str, str]], org: Organisation) -> list[Hit]:
    """A saved login (a Password key is there) or saved session per organisation session.

    Sample: [{"HostName": "sftp.example.ac.uk", "UserName": "ab1234", "Password": "1"}] ->
    [("saved_login", "ab1234@sftp.example.ac.uk", "example.ac.uk")].
    """
    hits: list[Hit] = []
    for session in sessions:
        kind = saved_kind(session.get("Password"))
        hit = login_hit(kind, session.get("HostName", ""), session.get("UserName", ""), org)
        add_hit(hits, hit)
    return hits


def registry_session_hits(text: str, org: Organisation, client: str) -> list[tuple[str, Hit]]:
    """(registry key, hit) per organisation session of a registry script's {Sessions: [...]}."""
    try:
        doc: Any = json.loads(text.strip().lstrip("\ufeff") or "{}")
    except ValueError as exc:
        raise ParseError(f"{client} registry script did not print JSON: {exc}") from exc
    rows = doc.get("Sessions", []) if isinstance(doc, dict) else None
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        raise ParseError(f"{client} registry script: expected {{Sessions: [...]}}")
    found: list[tuple[str, Hit]] = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("Key"), str):
            continue
        session = {k: str(v) for k, v in row.items() if isinstance(v, str)}
        if row.get("HasPassword") is True:
            session["Password"] = "1"
        found += [(row["Key"], hit) for hit in session_hits([session], org)]
    return found
