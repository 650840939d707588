"""accounts on Windows: sessions, local users and admins by SID, AD/Entra join, work accounts."""

from __future__ import annotations

from agent.facts.context import FactUnavailable
from agent.facts.probes.accounts.model import DomainJoin, LocalAccount, Session, WorkAccount
from agent.facts.probes.accounts.windows_parse import (
    parse_admin_members,
    parse_domain_join,
    parse_local_accounts,
    parse_work_accounts,
    runs_as_system,
    with_console_user,
)
from agent.facts.probes.base import Reading, attempt
from agent.facts.probes.powershell import PS_PART, ps_text
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


def read_logged_in(reading: Reading) -> list[Session]:
    sessions = [
        Session(
            name=u.name,
            terminal=u.terminal or None,
            host=u.host or None,
            started_at=rfc3339(u.started) if u.started else None,
        )
        for u in reading.ctx.users()
    ]
    try:
        text = _accounts(reading)
    except FactUnavailable:
        text = ""  # no console user to add; the other facts say why the script failed
    return with_console_user(sessions, text)


def read_local_accounts(reading: Reading) -> list[LocalAccount]:
    text = _accounts(reading)
    why: Gaps = {}
    admins = attempt(why, "local_accounts.admin", lambda: parse_admin_members(text))
    accounts = parse_local_accounts(text, admins)  # when it fails, the list's gap says it once
    reading.gaps.update(why)
    return accounts


def read_domain_join(reading: Reading) -> DomainJoin:
    return parse_domain_join(_accounts(reading))


def read_work_accounts(reading: Reading) -> list[WorkAccount]:
    text = _accounts(reading)
    accounts = parse_work_accounts(text)
    if runs_as_system(text):
        reading.gaps["work_accounts.per_user"] = (
            "the agent runs as LocalSystem: per-user accounts not read"
        )
    return accounts


def _accounts(reading: Reading) -> str:
    """ACCOUNTS_SCRIPT's output, run once for every fact it answers."""
    return reading.shared(
        "accounts", lambda: ps_text(reading.ctx, "accounts", ACCOUNTS_SCRIPT, 25.0)
    )
