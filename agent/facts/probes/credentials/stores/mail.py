"""Mail and work accounts: Thunderbird, Outlook, Windows work accounts, GNOME and macOS accounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.credentials.per_os import PerOs, join
from agent.facts.probes.credentials.scan import ScanState
from agent.facts.probes.credentials.stores.appdata import (
    Finder,
    mozilla_logins,
    mozilla_profiles,
    query,
    read,
    record,
)
from agent.facts.probes.credentials.stores.mail_parse import (
    OUTLOOK_VALUES,
    goa_hits,
    home_sids,
    mac_account_hits,
    parse_goa,
    parse_prefs,
    ps_rows,
    registry_hits,
    thunderbird_hits,
)
from agent.facts.probes.powershell import PS_PART, ps_json
from agent.facts.probes.powershell_parse import obj, opt_str, part

# Per OS: (store, folder holding profiles.ini) of Thunderbird and the forks in its format.
THUNDERBIRD_ROOTS: PerOs[tuple[tuple[str, str], ...]] = PerOs(
    linux=(
        ("thunderbird", ".thunderbird"),
        ("thunderbird", "snap/thunderbird/common/.thunderbird"),
        ("thunderbird", ".var/app/org.mozilla.Thunderbird/.thunderbird"),
    ),
    darwin=(("thunderbird", "Library/Thunderbird"),),
    windows=(
        ("thunderbird", "AppData/Roaming/Thunderbird"),
        ("epyrus", "AppData/Roaming/athenian200/Epyrus"),
        ("interlink", "AppData/Roaming/BinaryOutcast/Interlink"),
    ),
)
MAC_ACCOUNTS_SQL = "SELECT ZUSERNAME, ZACCOUNTDESCRIPTION FROM ZACCOUNT"
_DEVICE_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo"

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


def find_thunderbird(ctx: Context, scan: ScanState) -> None:
    """Thunderbird, Epyrus and Interlink: every profile's mail accounts (prefs.js) and
    saved-login servers."""
    for home in scan.homes:
        for store, relative in THUNDERBIRD_ROOTS.pick(ctx):
            root = join(ctx, home.path, relative)
            for profile in mozilla_profiles(ctx, scan, store, root):
                if scan.out_of_time():
                    return
                path = join(ctx, profile, "prefs.js")
                text = read(ctx, scan, store, path)
                if text is not None:
                    record(scan, store, path, thunderbird_hits(parse_prefs(text), scan.org))
                mozilla_logins(ctx, scan, store, profile)


def find_gnome_online_accounts(ctx: Context, scan: ScanState) -> None:
    """GNOME Online Accounts: ~/.config/goa-1.0/accounts.conf of every home."""
    for home in scan.homes:
        path = join(ctx, home.path, ".config/goa-1.0/accounts.conf")
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
        path = join(ctx, home.path, "Library/Accounts/Accounts4.sqlite")
        query(ctx, scan, "internet_accounts", path, MAC_ACCOUNTS_SQL, mac_account_hits)


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
        users = {opt_str(user, "Sid"): user for user in ps_rows(part(doc, "users"), "users")}
    except FactUnavailable as exc:
        scan.not_read("outlook", "HKEY_USERS", str(exc))
        return
    for home, sid in sids.items():
        if sid not in users:
            hive = join(ctx, home, "NTUSER.DAT")
            scan.not_read("outlook", hive, "registry hive not loaded (the user is not signed in)")
            continue
        try:
            _record_registry(scan, obj(part(users[sid], "Data"), "user data"))
        except FactUnavailable as exc:
            scan.not_read("outlook", f"HKEY_USERS\\{sid}", str(exc))


FINDERS: PerOs[tuple[Finder, ...]] = PerOs(
    linux=(find_thunderbird, find_gnome_online_accounts),
    darwin=(find_thunderbird, find_mac_internet_accounts),
    windows=(find_thunderbird, find_windows_accounts),
)
