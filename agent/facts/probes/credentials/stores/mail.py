"""Mail and work accounts: Thunderbird, Outlook, Windows work accounts, GNOME and macOS accounts."""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.credentials.scan import ScanState, match_realm, match_tenant
from agent.facts.probes.credentials.settings import Organisation
from agent.facts.probes.credentials.stores.appdata import (
    Finder,
    Hit,
    Rows,
    mozilla_logins,
    mozilla_profiles,
    query,
    read,
    record,
    under,
)
from agent.facts.probes.powershell import PS_PART, ps_json
from agent.facts.probes.powershell_parse import obj, opt_str, part, ps_list

THUNDERBIRD_ROOTS: dict[str, tuple[str, ...]] = {
    "linux": (
        ".thunderbird",
        "snap/thunderbird/common/.thunderbird",
        ".var/app/org.mozilla.Thunderbird/.thunderbird",
    ),
    "darwin": ("Library/Thunderbird",),
    "windows": ("AppData/Roaming/Thunderbird",),
}
MAC_ACCOUNTS_SQL = "SELECT ZUSERNAME, ZACCOUNTDESCRIPTION FROM ZACCOUNT"
_DEVICE_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo"

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

# One PowerShell run reads, per loaded user hive, only the named registry values: Outlook
# accounts (Office 2013+ and the older Messaging Subsystem), Office sign-ins, work or school
# accounts (WorkplaceJoin); and the device's Entra join. Hives of users who are not signed in
# are not loaded: ProfileList says which homes those are.
MAIL_SCRIPT = (
    PS_PART
    + r"""
function Keys($path) { if (Test-Path -LiteralPath $path) { @(Get-ChildItem -LiteralPath $path) } }
function Under($keys, $child) { @(foreach ($k in $keys) { Keys "$($k.PSPath)\$child" }) }
function Rows($keys, [string[]]$names) { @(foreach ($k in $keys) { Values $k $names }) }
function Values($key, [string[]]$names) {
  $row = @{ Key = $key.Name }
  foreach ($n in $names) {
    $v = $key.GetValue($n)
    if ($v -is [byte[]]) { $v = [Text.Encoding]::Unicode.GetString($v).TrimEnd([char]0) }
    if ($null -ne $v) { $row[$n] = [string]$v }
  }
  $row
}
$mail = '__OUTLOOK__'.Split('|')
$nt = 'Windows NT\CurrentVersion'
$out = @{}
$out.profiles = Part { @(Keys "HKLM:\SOFTWARE\Microsoft\$nt\ProfileList" | ForEach-Object {
  @{ Sid = $_.PSChildName; Path = [string]$_.GetValue('ProfileImagePath') } }) }
$out.users = Part { @(Get-ChildItem 'Registry::HKEY_USERS' |
  Where-Object { $_.PSChildName -match '^S-1-(5-21|12-1)-[\d-]+$' } | ForEach-Object {
  $ms = "Registry::HKEY_USERS\$($_.PSChildName)\Software\Microsoft"
  @{ Sid = $_.PSChildName; Data = Part {
    $null = Get-Item -LiteralPath $ms  # another user's hive: access denied, said so
    $office = Keys "$ms\Office"
    $profiles = @(Under $office 'Outlook\Profiles') +
      @(Keys "$ms\$nt\Windows Messaging Subsystem\Profiles")
    @{ Outlook = Rows (Under $profiles '9375CFF0413111d3B88A00104B2A6676') $mail
       Office = Rows (Under $office 'Common\Identity\Identities') 'EmailAddress', 'ProviderId'
       Workplace = Rows (Keys "$ms\$nt\WorkplaceJoin\JoinInfo") 'UserEmail', 'TenantId' } } } }) }
$join = 'HKLM:\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo'
$out.device = Part { Rows (Keys $join) 'UserEmail', 'TenantId' }
ConvertTo-Json -Compress -Depth 10 -InputObject $out
""".replace("__OUTLOOK__", "|".join(OUTLOOK_VALUES))
)


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


def find_thunderbird(ctx: Context, scan: ScanState) -> None:
    """Thunderbird: every profile's mail accounts (prefs.js) and saved-login servers."""
    for home in scan.homes:
        for relative in THUNDERBIRD_ROOTS[ctx.os_name]:
            root = under(ctx, home.path, relative)
            for profile in mozilla_profiles(ctx, scan, "thunderbird", root):
                if scan.out_of_time():
                    return
                path = under(ctx, profile, "prefs.js")
                text = read(ctx, scan, "thunderbird", path)
                if text is not None:
                    record(scan, "thunderbird", path, thunderbird_hits(parse_prefs(text), scan.org))
                mozilla_logins(ctx, scan, "thunderbird", profile)


def find_gnome_online_accounts(ctx: Context, scan: ScanState) -> None:
    """GNOME Online Accounts: ~/.config/goa-1.0/accounts.conf of every home."""
    for home in scan.homes:
        path = under(ctx, home.path, ".config/goa-1.0/accounts.conf")
        text = read(ctx, scan, "gnome_online_accounts", path)
        if text is None:
            continue
        try:
            record(scan, "gnome_online_accounts", path, goa_hits(parse_goa(text), scan.org))
        except ParseError as exc:
            scan.not_read("gnome_online_accounts", path, str(exc))


def find_mac_internet_accounts(ctx: Context, scan: ScanState) -> None:
    """macOS Internet Accounts (~/Library/Accounts/Accounts4.sqlite; privacy-protected)."""
    for home in scan.homes:
        path = under(ctx, home.path, "Library/Accounts/Accounts4.sqlite")
        query(ctx, scan, "internet_accounts", path, MAC_ACCOUNTS_SQL, mac_account_hits)


def _rows(value: Any, what: str) -> list[dict[str, Any]]:
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
        for row in _rows(data.get(section), section):
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
        for row in _rows(profiles, "profiles")
    }
    return {home: sid for home in homes if (sid := by_path.get(home.rstrip("\\/").lower()))}


def _record_registry(scan: ScanState, data: Mapping[str, Any]) -> None:
    for store, key, (kind, identity, matched) in registry_hits(data, scan.org):
        scan.add(kind, store, key, identity, matched)


def find_windows_accounts(ctx: Context, scan: ScanState) -> None:
    """Outlook profiles, Office sign-ins, work or school accounts and the device's Entra join."""
    try:
        doc = ps_json(ctx, "credentials-mail", MAIL_SCRIPT, 30.0)
    except FactUnavailable as exc:
        scan.not_read("outlook", "HKEY_USERS", str(exc))
        return
    try:
        _record_registry(scan, {"Device": part(doc, "device")})
    except FactUnavailable as exc:
        scan.not_read("entra_join", _DEVICE_KEY, str(exc))
    try:
        sids = home_sids(part(doc, "profiles"), [home.path for home in scan.homes])
        users = {opt_str(user, "Sid"): user for user in _rows(part(doc, "users"), "users")}
    except FactUnavailable as exc:
        scan.not_read("outlook", "HKEY_USERS", str(exc))
        return
    for home, sid in sids.items():
        if sid not in users:
            hive = under(ctx, home, "NTUSER.DAT")
            scan.not_read("outlook", hive, "registry hive not loaded (the user is not signed in)")
            continue
        try:
            _record_registry(scan, obj(part(users[sid], "Data"), "user data"))
        except FactUnavailable as exc:
            scan.not_read("outlook", f"HKEY_USERS\\{sid}", str(exc))


FINDERS: dict[str, tuple[Finder, ...]] = {
    "linux": (find_thunderbird, find_gnome_online_accounts),
    "darwin": (find_thunderbird, find_mac_internet_accounts),
    "windows": (find_thunderbird, find_windows_accounts),
}
