"""accounts on Windows: sessions, local users and admins by SID, AD/Entra join, work accounts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agent.facts.context import Context, FactUnavailable, ParseError
from agent.facts.probes.accounts.model import (
    AccountsData,
    DomainJoin,
    LocalAccount,
    Session,
    WorkAccount,
)
from agent.facts.probes.base import attempt, first_line
from agent.facts.probes.powershell import PS_PART, ps_text
from agent.facts.probes.powershell_parse import list_field, obj, opt_bool, opt_str, parse_json, part
from agent.report import Gaps, rfc3339

# Group names are localised ("Administratoren"): the group is found by its SID, and its members
# are read through ADSI, because Get-LocalGroupMember throws "Failed to compare two elements in
# the array" when the group holds orphaned or Entra (S-1-12-1-...) SIDs. dsregcmd's keys are
# English on every UI language in practice; the text is parsed in Python and treated as text.
ACCOUNTS_SCRIPT = (
    PS_PART
    + r"""
function Read-Keys($path, [string[]]$names) {
  if (-not (Test-Path $path)) { return }
  Get-ChildItem $path | ForEach-Object {
    $p = Get-ItemProperty $_.PSPath; $row = @{}
    foreach ($n in $names) { $row[$n] = [string]$p.$n }
    $row }
}
$out = @{}
$out.system = Part { @{ IsSystem = [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem } }
$out.computer = Part {
  $cs = Get-CimInstance Win32_ComputerSystem
  @{ PartOfDomain = [bool]$cs.PartOfDomain; Domain = [string]$cs.Domain
     Workgroup = [string]$cs.Workgroup; UserName = [string]$cs.UserName }
}
$out.users = Part {
  $source = 'LocalAccounts'
  try {
    $rows = @(Get-LocalUser | ForEach-Object { @{ Name = [string]$_.Name; SID = [string]$_.SID.Value
      Enabled = [bool]$_.Enabled; PrincipalSource = [string]$_.PrincipalSource } })
  } catch [System.Management.Automation.CommandNotFoundException] {
    $source = 'CIM'  # 32-bit PowerShell has no LocalAccounts module
    $rows = @(Get-CimInstance Win32_UserAccount -Filter 'LocalAccount=True' | ForEach-Object {
      @{ Name = [string]$_.Name; SID = [string]$_.SID; Enabled = (-not $_.Disabled)
         PrincipalSource = $null } })
  }
  @{ Source = $source; Users = $rows }
}
$out.admins = Part {
  $sid = New-Object Security.Principal.SecurityIdentifier 'S-1-5-32-544'
  $group = $sid.Translate([Security.Principal.NTAccount]).Value.Split('\')[-1]
  $adsi = [ADSI]"WinNT://$env:COMPUTERNAME/$group,group"
  @{ Members = @($adsi.Invoke('Members') | ForEach-Object {
    $t = $_.GetType()
    $bytes = $t.InvokeMember('objectSid', 'GetProperty', $null, $_, $null)
    @{ SID = (New-Object Security.Principal.SecurityIdentifier($bytes, 0)).Value
       Path = [string]$t.InvokeMember('ADsPath', 'GetProperty', $null, $_, $null)
       Class = [string]$t.InvokeMember('Class', 'GetProperty', $null, $_, $null) } }) }
}
$out.dsreg = Part {
  $text = (& "$env:SystemRoot\System32\dsregcmd.exe" /status | Out-String)
  @{ ExitCode = $LASTEXITCODE; Text = $text }
}
$out.joininfo = Part {
  $device = 'HKLM:\SYSTEM\CurrentControlSet\Control\CloudDomainJoin\JoinInfo'
  @{ Device = @(Read-Keys $device 'UserEmail', 'TenantId') }
}
$out.workplace = Part {
  $user = 'HKCU:\Software\Microsoft\Windows NT\CurrentVersion\WorkplaceJoin\JoinInfo'
  $office = 'HKCU:\Software\Microsoft\Office\16.0\Common\Identity\Identities'
  @{ User = @(Read-Keys $user 'UserEmail', 'TenantId')
     Office = @(Read-Keys $office 'EmailAddress', 'ProviderId') }
}
ConvertTo-Json -Compress -Depth 8 -InputObject $out
"""
)

_DOC = "powershell accounts"
_DSREG_LINE = re.compile(r"^\s*(\S[^:]*?)\s*:\s*(.*)$")
_SYSTEM_RIDS = {"503", "504"}  # DefaultAccount, WDAGUtilityAccount: managed by Windows


@dataclass(frozen=True)
class AdminMember:
    """One member of the local Administrators group (S-1-5-32-544)."""

    sid: str
    name: str
    is_user: bool


def parse_dsregcmd(text: str) -> dict[str, str]:
    """`dsregcmd /status` as key -> value (first occurrence wins).

    Sample (constructed, reference C.4):
                     AzureAdJoined : YES
                      DomainJoined : YES
                        DomainName : CORP
                          TenantId : 11111111-2222-4333-8444-555555555555
    """
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _DSREG_LINE.match(line)
        if match and not line.lstrip().startswith(("|", "+")):
            values.setdefault(match.group(1), match.group(2).strip())
    if "AzureAdJoined" not in values:
        raise ParseError("dsregcmd /status printed no 'AzureAdJoined' line")
    return values


def parse_admin_members(text: str) -> list[AdminMember]:
    """Members of S-1-5-32-544 as the ADSI WinNT provider lists them.

    Sample (constructed, reference C.3): {"admins":{"ok":true,"value":{"Members":[{"SID":
    "S-1-12-1-1111111111-2222222222-3333333333-4444444444","Path":"WinNT://AzureAD/AliceExample",
    "Class":"User"}]}}}
    """
    members = []
    value = obj(part(parse_json(text, _DOC), "admins"), "admins")
    for item in list_field(value, "Members"):
        row = obj(item, "admin member")
        sid = opt_str(row, "SID")
        if sid is None or not sid.startswith("S-1-"):
            raise ParseError(f"admin member without a SID: {row!r}"[:100])
        path = opt_str(row, "Path") or sid
        name = path.removeprefix("WinNT://").replace("/", "\\")
        members.append(
            AdminMember(sid=sid, name=name, is_user=(opt_str(row, "Class") or "").lower() == "user")
        )
    return members


def _machine_prefix(sid: str) -> str:
    return sid.rsplit("-", 1)[0]


def parse_local_accounts(text: str, admins: list[AdminMember] | None) -> list[LocalAccount]:
    """Local users (Get-LocalUser) with admin flags, plus admin users from AD or Entra ID.

    Sample (constructed, reference C.2): {"users":{"ok":true,"value":{"Source":"LocalAccounts",
    "Users":[{"Name":"alice","SID":"S-1-5-21-1111111111-2222222222-3333333333-1001",
    "Enabled":true,"PrincipalSource":"MicrosoftAccount"}]}}}
    """
    value = obj(part(parse_json(text, _DOC), "users"), "users")
    admin_sids = None if admins is None else {m.sid for m in admins}
    accounts, prefixes = [], set()
    for item in list_field(value, "Users"):
        row = obj(item, "local user")
        name, sid = opt_str(row, "Name"), opt_str(row, "SID")
        if name is None or sid is None:
            raise ParseError("local user without Name or SID")
        prefixes.add(_machine_prefix(sid))
        if sid.rsplit("-", 1)[-1] in _SYSTEM_RIDS:
            continue
        source = opt_str(row, "PrincipalSource")
        accounts.append(
            LocalAccount(
                name=name,
                uid=sid,
                admin=None if admin_sids is None else sid in admin_sids,
                enabled=opt_bool(row, "Enabled"),
                source="local" if source == "Local" else source,
            )
        )
    for member in admins or []:
        if member.is_user and _machine_prefix(member.sid) not in prefixes:
            cloud = member.sid.startswith("S-1-12-1-")
            accounts.append(
                LocalAccount(
                    name=member.name,
                    uid=member.sid,
                    admin=True,
                    enabled=None,
                    source="AzureAD" if cloud else "ActiveDirectory",
                )
            )
    return accounts


def _join_rows(doc: Any, key: str, field: str) -> list[dict[str, Any]]:
    return [obj(r, f"{key} entry") for r in list_field(obj(part(doc, key), key), field)]


def _dsreg(doc: Any) -> dict[str, str]:
    result = obj(part(doc, "dsreg"), "dsreg")
    if opt_str(result, "ExitCode") not in ("0", None):
        raise FactUnavailable(
            f"dsregcmd /status failed: {first_line(opt_str(result, 'Text') or '')}"
        )
    return parse_dsregcmd(opt_str(result, "Text") or "")


def parse_domain_join(text: str) -> DomainJoin:
    """Win32_ComputerSystem (AD), dsregcmd /status and the CloudDomainJoin registry (Entra).

    Azure + domain = hybrid; Azure only = entra; domain only = active_directory; neither =
    workgroup. Sample: {"computer":{"ok":true,"value":{"PartOfDomain":false,"Domain":"WORKGROUP",
    "Workgroup":"WORKGROUP","UserName":"PC-0042\\alice"}},"dsreg":{"ok":true,"value":{"ExitCode":0,
    "Text":"AzureAdJoined : NO ..."}},"joininfo":{"ok":true,"value":{"Device":[]}}}
    """
    doc = parse_json(text, _DOC)
    why: Gaps = {}
    computer = attempt(why, "computer", lambda: obj(part(doc, "computer"), "computer"))
    dsreg = attempt(why, "dsregcmd", lambda: _dsreg(doc))
    device = attempt(why, "joininfo", lambda: _join_rows(doc, "joininfo", "Device"))
    ad = opt_bool(computer, "PartOfDomain") if computer else None
    if ad is None and dsreg:
        ad = dsreg.get("DomainJoined", "").upper() == "YES"
    if dsreg:
        entra: bool | None = dsreg["AzureAdJoined"].upper() == "YES"
    else:
        entra = None if device is None else bool(device)
    tenant = (dsreg or {}).get("TenantId") or next(
        (t for t in (opt_str(r, "TenantId") for r in device or []) if t), None
    )
    domain = (opt_str(computer, "Domain") if computer else None) or (dsreg or {}).get("DomainName")
    if entra and ad:
        return DomainJoin(joined=True, kind="hybrid", domain=domain, tenant_id=tenant)
    if entra:
        return DomainJoin(joined=True, kind="entra", domain=None, tenant_id=tenant)
    if ad:
        return DomainJoin(joined=True, kind="active_directory", domain=domain, tenant_id=None)
    if entra is False and ad is False:
        return DomainJoin(joined=False, kind="workgroup", domain=None, tenant_id=None)
    raise FactUnavailable("; ".join(why.values()) or "join state not readable")


def parse_work_accounts(text: str) -> list[WorkAccount]:
    """Entra accounts: device join (CloudDomainJoin), workplace join and Office (ADAL) identities.

    Sample (constructed, reference C.5): {"joininfo":{"ok":true,"value":{"Device":[{"UserEmail":
    "alice@contoso.example","TenantId":"11111111-2222-4333-8444-555555555555"}]}},"workplace":
    {"ok":true,"value":{"User":[],"Office":[{"EmailAddress":"alice@contoso.example",
    "ProviderId":"ADAL"}]}}}. Office "LiveId" identities are personal accounts and left out.
    """
    doc = parse_json(text, _DOC)
    found: list[tuple[str | None, str | None]] = []
    for row in _join_rows(doc, "joininfo", "Device") + _join_rows(doc, "workplace", "User"):
        found.append((opt_str(row, "UserEmail"), opt_str(row, "TenantId")))
    for row in _join_rows(doc, "workplace", "Office"):
        if (opt_str(row, "ProviderId") or "").upper() == "ADAL":
            found.append((opt_str(row, "EmailAddress"), None))
    accounts: dict[str, WorkAccount] = {}
    for identity, tenant in found:
        if identity and identity.lower() not in accounts:
            accounts[identity.lower()] = WorkAccount(
                identity=identity, provider="entra", tenant_id=tenant
            )
    return list(accounts.values())


def _logged_in(ctx: Context, text: str | None) -> list[Session]:
    sessions = [
        Session(
            name=u.name,
            terminal=u.terminal or None,
            host=u.host or None,
            started_at=rfc3339(u.started) if u.started else None,
        )
        for u in ctx.users()
    ]
    # The console user as Win32_ComputerSystem sees it ("CORP\alice"); WTS may list it bare.
    computer = attempt(
        {}, "computer", lambda: obj(part(parse_json(text or "", _DOC), "computer"), "c")
    )
    console = opt_str(computer, "UserName") if computer else None
    if console and console.rsplit("\\", 1)[-1].lower() not in {s.name.lower() for s in sessions}:
        sessions.append(Session(name=console, terminal="console", host=None, started_at=None))
    return sessions


def collect(ctx: Context) -> AccountsData:
    gaps: Gaps = {}
    text = attempt(gaps, "accounts", lambda: ps_text(ctx, "accounts", ACCOUNTS_SCRIPT, 25.0))
    logged_in = attempt(gaps, "logged_in", lambda: _logged_in(ctx, text))
    failed = gaps.pop("accounts", None)
    if text is None:
        for field in ("local_accounts", "domain_join", "work_accounts"):
            gaps[field] = failed or "PowerShell gave no answer"
        return AccountsData(
            logged_in=logged_in,
            local_accounts=None,
            domain_join=None,
            work_accounts=None,
            gaps=gaps,
        )
    admins = attempt(gaps, "local_accounts.admin", lambda: parse_admin_members(text))
    work = attempt(gaps, "work_accounts", lambda: parse_work_accounts(text))
    system = attempt({}, "system", lambda: obj(part(parse_json(text, _DOC), "system"), "system"))
    if work is not None and system and system.get("IsSystem") is True:
        gaps["work_accounts.per_user"] = "the agent runs as LocalSystem: per-user accounts not read"
    local = attempt(gaps, "local_accounts", lambda: parse_local_accounts(text, admins))
    if local is None:
        gaps.pop("local_accounts.admin", None)  # the whole list is missing, say that once
    return AccountsData(
        logged_in=logged_in,
        local_accounts=local,
        domain_join=attempt(gaps, "domain_join", lambda: parse_domain_join(text)),
        work_accounts=work,
        gaps=gaps,
    )
