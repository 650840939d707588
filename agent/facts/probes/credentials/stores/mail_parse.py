"""Pure parsers for mail and work accounts: Thunderbird prefs, GNOME, macOS and registry rows."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.facts.context import ParseError
from agent.facts.probes.credentials.scan import match_realm, match_tenant
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata_parse import Hit, Rows
from agent.facts.probes.powershell_parse import obj, opt_str, ps_list

# Thunderbird prefs that name an account (never its password or OAuth token).
_PREF = re.compile(r'^\s*user_pref\(\s*("(?:[^"\\]|\\.)*")\s*,\s*(.+?)\s*\)\s*;\s*$')
_PREF_KEY = re.compile(
    r"^mail\.(identity|server|smtpserver)\.[^.]+\.(useremail|username|realusername|hostname|realhostname)$",
    re.IGNORECASE,
)
# GNOME Online Accounts keys that carry an identity, a server or a realm, most telling first.
GOA_KEYS = (
    "PresentationIdentity", "Identity", "ImapUserName", "SmtpUserName", "Realm",
    "Host", "ImapHost", "SmtpHost", "Uri", "CalDavUri", "CardDavUri",
)  # fmt: skip
# Outlook account values that name it, addresses first (the *Password values are never read).
OUTLOOK_VALUES = (
    "SMTP Email Address", "Email", "Account Name", "IMAP User", "POP3 User", "SMTP User",
    "HTTP User", "IMAP Server", "POP3 Server", "SMTP Server", "HTTP Server",
)  # fmt: skip


def first_hit(kind: str, values: Iterable[str | None], org: Organisation) -> list[Hit]:
    """One hit for the first value that is an organisation address, host, realm or tenant."""
    for value in values:
        if value and (matched := match_realm(value, org) or match_tenant(value, org)):
            return [(kind, value, matched)]
    return []


def parse_prefs(text: str) -> dict[str, str]:
    """The account-naming prefs of a Thunderbird `prefs.js`; every other pref is dropped.

    Sample: user_pref("mail.identity.id1.useremail", "alice.smith@example.ac.uk");
            user_pref("mail.server.server1.hostname", "outlook.office365.com");
    """
    prefs = {}
    for line in text.splitlines():
        match = _PREF.match(line)
        if not match:
            continue
        try:
            key = json.loads(match.group(1))
        except ValueError:
            continue
        if not _PREF_KEY.match(key):
            continue
        try:
            value = json.loads(match.group(2))
        except ValueError:
            continue
        if isinstance(value, str) and value:
            prefs[key] = value
    return prefs


def thunderbird_hits(prefs: Mapping[str, str], org: Organisation) -> list[Hit]:
    """Organisation mail accounts in a profile: its addresses, or its servers when no address is.

    Sample: {"mail.identity.id1.useremail": "alice@example.ac.uk", "mail.server.server1.hostname":
    "imap.example.ac.uk"} -> [("mail_account", "alice@example.ac.uk", "example.ac.uk")].
    """
    matches = {v: m for v in prefs.values() if (m := match_realm(v, org))}
    addresses = [v for v in matches if "@" in v]
    return [("mail_account", value, matches[value]) for value in addresses or list(matches)]


def parse_goa(text: str) -> list[dict[str, str]]:
    """GNOME Online Accounts `accounts.conf`: the identity keys of every account.

    Sample: [Account account_1712345678_0]\\nProvider=ms_graph\\nIdentity=alice@example.ac.uk
    """
    parser = configparser.RawConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text.lstrip("\ufeff"))
    except configparser.Error as exc:
        raise ParseError(f"accounts.conf: {exc}".splitlines()[0]) from exc
    return [
        {key: parser[section][key] for key in GOA_KEYS if parser[section].get(key)}
        for section in parser.sections()
        if section.startswith("Account ")
    ]


def goa_hits(accounts: Iterable[Mapping[str, str]], org: Organisation) -> list[Hit]:
    """One hit per GNOME online account of the organisation (e-mail, realm or server)."""
    return [
        hit
        for account in accounts
        for hit in first_hit("online_account", (account.get(k) for k in GOA_KEYS), org)
    ]


def mac_account_hits(rows: Rows, org: Organisation) -> list[Hit]:
    """macOS internet accounts (Accounts4.sqlite ZUSERNAME, ZACCOUNTDESCRIPTION rows).

    Sample row: ('alice@example.ac.uk', 'Exchange').
    """
    return [
        hit
        for row in rows
        for hit in first_hit("online_account", (v for v in row if isinstance(v, str)), org)
    ]


def ps_rows(value: Any, what: str) -> list[dict[str, Any]]:
    """The objects of a list in PowerShell's JSON (one object alone is a list of one)."""
    return [obj(row, what) for row in ps_list(value, what)]


def registry_hits(data: Mapping[str, Any], org: Organisation) -> list[tuple[str, str, Hit]]:
    """(store, registry key, hit) for one user hive's Outlook, Office and work accounts.

    Sample: {"Outlook": [{"Key": "HKEY_USERS\\\\S-1-5-21-...\\\\00000002", "SMTP Email Address":
    "alice@example.ac.uk"}], "Office": [], "Workplace": [{"Key": "...", "UserEmail": "...",
    "TenantId": "11111111-2222-4333-8444-555555555555"}]}
    """
    found = []
    sources = (
        ("outlook", "mail_account", "Outlook", OUTLOOK_VALUES),
        ("office", "work_account", "Office", ("EmailAddress",)),
        ("work_or_school", "work_account", "Workplace", ("UserEmail", "TenantId")),
        ("entra_join", "device_join", "Device", ("UserEmail", "TenantId")),
    )
    for store, kind, section, names in sources:
        for row in ps_rows(data.get(section), section):
            key = opt_str(row, "Key") or section
            for hit in first_hit(kind, (opt_str(row, name) for name in names), org):
                found.append((store, key, hit))
    return found


def home_sids(profiles: Any, homes: Iterable[str]) -> dict[str, str]:
    """Home folder -> the SID of its registry profile, from ProfileList rows.

    Sample: [{"Sid": "S-1-5-21-1-2-3-1001", "Path": "C:\\Users\\alice"}] -> {home: SID}.
    """
    by_path = {
        (opt_str(row, "Path") or "").rstrip("\\/").lower(): opt_str(row, "Sid")
        for row in ps_rows(profiles, "profiles")
    }
    return {home: sid for home in homes if (sid := by_path.get(home.rstrip("\\/").lower()))}
