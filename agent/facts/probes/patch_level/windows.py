"""patch_level on Windows: OS identity, Windows Update history and pending updates, reboot, auto."""

from __future__ import annotations

from agent.facts.probes.base import Reading
from agent.facts.probes.patch_level.model import OsIdentity
from agent.facts.probes.patch_level.readers import SecurityUpdates
from agent.facts.probes.patch_level.windows_parse import (
    parse_auto_updates,
    parse_last_update,
    parse_os_identity,
    parse_pending_updates,
    parse_reboot_pending,
    parse_updates_checked_at,
)
from agent.facts.probes.powershell import PS_PART, ps_text

# Registry and CIM values only: Caption and ProductName are display text (ProductName still says
# "Windows 10" on Windows 11), so the name is derived from the build number and EditionID.
OS_IDENTITY_SCRIPT = r"""
$cv = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$os = Get-CimInstance Win32_OperatingSystem
ConvertTo-Json -Compress -InputObject ([pscustomobject]@{
  Version = [string]$os.Version; BuildNumber = [string]$os.BuildNumber; UBR = $cv.UBR
  DisplayVersion = $cv.DisplayVersion; ReleaseId = $cv.ReleaseId; EditionID = $cv.EditionID
  ProductName = $cv.ProductName; InstallationType = $cv.InstallationType })
"""

# One process for everything Windows Update knows. The search is offline (Online = $false): it
# answers from the last scan in seconds and never touches the network. COM dates are UTC per the
# WUA documentation (IAutomaticUpdatesResults); history dates are taken as UTC too (osquery reads
# them as local time - unverified, at worst off by the UTC offset). PendingFileRenameOperations is
# not read: installers and virus scanners set it routinely, it does not mean "patch reboot".
UPDATES_SCRIPT = (
    PS_PART
    + r"""
function Utc($d) { if ($d) { [DateTime]::SpecifyKind($d, 'Utc').ToString('o') } else { $null } }
function Ids($categories) {
  $categories | Where-Object { $_ } | ForEach-Object { [string]$_.CategoryID } }
$out = @{}
$out.reboot = Part {
  $base = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion'
  $agent = $null
  try { $agent = [bool](New-Object -ComObject Microsoft.Update.SystemInfo).RebootRequired }
  catch { }
  @{ CBSRebootPending = (Test-Path "$base\Component Based Servicing\RebootPending")
     WURebootRequired = (Test-Path "$base\WindowsUpdate\Auto Update\RebootRequired")
     WUAgentRebootRequired = $agent }
}
$out.policy = Part {
  $p = Get-ItemProperty 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU' -EA 0
  $x = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\WindowsUpdate\UX\Settings' -EA 0
  $svc = Get-Service wuauserv -EA SilentlyContinue
  $start = $null
  if ($svc) { $start = [string]$svc.StartType }
  @{ NoAutoUpdate = $p.NoAutoUpdate; AUOptions = $p.AUOptions; wuauserv = $start
     PauseUpdatesExpiryTime = $x.PauseUpdatesExpiryTime }
}
$out.au = Part {
  $au = New-Object -ComObject Microsoft.Update.AutoUpdate
  @{ NotificationLevel = [int]$au.Settings.NotificationLevel
     LastSearchSuccessDate = (Utc $au.Results.LastSearchSuccessDate)
     LastInstallationSuccessDate = (Utc $au.Results.LastInstallationSuccessDate) }
}
$out.history = Part {
  $s = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
  $n = $s.GetTotalHistoryCount()
  $entries = @()
  if ($n -gt 0) {
    $entries = @($s.QueryHistory(0, [Math]::Min($n, 50)) | ForEach-Object { @{
      Date = (Utc $_.Date); Operation = [int]$_.Operation; ResultCode = [int]$_.ResultCode
      ClientAppID = [string]$_.ClientApplicationID; Title = [string]$_.Title
      Categories = @(Ids $_.Categories) } })
  }
  @{ Entries = $entries }
}
$out.pending = Part {
  $q = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher()
  $q.Online = $false
  $r = $q.Search("IsInstalled=0 and IsHidden=0 and Type='Software'")
  @{ Updates = @($r.Updates | ForEach-Object { @{
    Title = [string]$_.Title; MsrcSeverity = $_.MsrcSeverity
    KB = @($_.KBArticleIDs | ForEach-Object { [string]$_ })
    Categories = @(Ids $_.Categories) } }) }
}
ConvertTo-Json -Compress -Depth 8 -InputObject $out
"""
)


def read_os_identity(reading: Reading) -> OsIdentity:
    """Which Windows this is (also used for the report's host section)."""
    return parse_os_identity(ps_text(reading.ctx, "os_identity", OS_IDENTITY_SCRIPT))


def read_package_manager(reading: Reading) -> str:
    return "windows_update"


def read_last_update(reading: Reading) -> str | None:
    return parse_last_update(_windows_update(reading))


def read_updates_checked_at(reading: Reading) -> str:
    return parse_updates_checked_at(_windows_update(reading))


def read_reboot_pending(reading: Reading) -> bool:
    return parse_reboot_pending(_windows_update(reading))


def read_auto_updates(reading: Reading) -> bool:
    return parse_auto_updates(_windows_update(reading), reading.ctx.now())


def read_pending_updates(reading: Reading) -> int:
    return parse_pending_updates(_windows_update(reading)).total


def read_security_updates(reading: Reading) -> SecurityUpdates:
    pending = parse_pending_updates(_windows_update(reading))
    return SecurityUpdates(count=pending.security, names=pending.security_names)


def _windows_update(reading: Reading) -> str:
    """UPDATES_SCRIPT's output, run once for every fact it answers."""
    return reading.shared(
        "windows_update",
        lambda: ps_text(reading.ctx, "windows_update", UPDATES_SCRIPT, timeout=75.0),
    )
