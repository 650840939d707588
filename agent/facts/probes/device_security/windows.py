"""device_security on Windows: BitLocker (shell property, WMI if allowed), firewall, screen lock."""

from __future__ import annotations

from agent.facts.probes.base import Reading
from agent.facts.probes.device_security.model import Finding
from agent.facts.probes.device_security.windows_parse import (
    parse_disk_encryption,
    parse_firewall,
    parse_screen_lock,
)
from agent.facts.probes.powershell import PS_PART, ps_text
from agent.facts.probes.powershell_parse import parse_json

# BitLocker: the shell property Explorer uses for its padlock works for every user; the WMI class
# needs admin and is only asked when the shell gives nothing. Firewall: ActiveStore is the
# effective state including group policy. Screen lock: the user's screen saver (policy values
# win) and the machine inactivity limit.
DEVICE_SECURITY_SCRIPT = (
    PS_PART
    + r"""
$out = @{}
$out.system = Part { @{ IsSystem = [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem } }
$out.bitlocker = Part {
  $drive = $env:SystemDrive
  $shell = New-Object -ComObject Shell.Application
  $value = $shell.NameSpace("$drive\").Self.ExtendedProperty('System.Volume.BitLockerProtection')
  @{ Drive = $drive; Protection = $value }
}
if (-not $out.bitlocker.ok -or $null -eq $out.bitlocker.value.Protection) {
  $out.bitlocker_wmi = Part {
    $v = Get-CimInstance -Namespace 'root\CIMV2\Security\MicrosoftVolumeEncryption' `
      -ClassName Win32_EncryptableVolume -Filter "DriveLetter='$env:SystemDrive'"
    if (-not $v) { return @{ Found = $false; Drive = $env:SystemDrive } }
    $p = Invoke-CimMethod -InputObject $v -MethodName GetProtectionStatus
    $c = Invoke-CimMethod -InputObject $v -MethodName GetConversionStatus
    @{ Found = $true; Drive = $env:SystemDrive; ProtectionStatus = [int]$p.ProtectionStatus
       ConversionStatus = [int]$c.ConversionStatus
       EncryptionPercentage = [int]$c.EncryptionPercentage }
  }
}
$out.firewall = Part {
  @{ Profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
       @{ Name = [string]$_.Name; Enabled = [int]$_.Enabled } })
     Current = $(try { [int](New-Object -ComObject HNetCfg.FwPolicy2).CurrentProfileTypes }
                 catch { $null }) }
}
$out.screen = Part {
  $d = Get-ItemProperty 'HKCU:\Control Panel\Desktop' -EA SilentlyContinue
  $p = Get-ItemProperty 'HKCU:\Software\Policies\Microsoft\Windows\Control Panel\Desktop' -EA 0
  $m = Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' -EA 0
  @{ ScreenSaveActive = $d.ScreenSaveActive; ScreenSaverIsSecure = $d.ScreenSaverIsSecure
     ScreenSaveTimeOut = $d.ScreenSaveTimeOut; ScreenSaver = $d.'SCRNSAVE.EXE'
     PolicyActive = $p.ScreenSaveActive; PolicyIsSecure = $p.ScreenSaverIsSecure
     PolicyTimeOut = $p.ScreenSaveTimeOut; PolicyScreenSaver = $p.'SCRNSAVE.EXE'
     InactivityTimeoutSecs = $m.InactivityTimeoutSecs }
}
ConvertTo-Json -Compress -Depth 8 -InputObject $out
"""
)


def read_disk_encryption(reading: Reading) -> Finding:
    return parse_disk_encryption(_device_security(reading))


def read_firewall(reading: Reading) -> Finding:
    return parse_firewall(_device_security(reading))


def read_screen_lock(reading: Reading) -> Finding:
    return parse_screen_lock(_device_security(reading))


def _device_security(reading: Reading) -> str:
    """DEVICE_SECURITY_SCRIPT's output, run once; a failing script, or output that is not JSON
    at all, fails the probe."""

    def read() -> str:
        text = ps_text(reading.ctx, "device_security", DEVICE_SECURITY_SCRIPT, timeout=25.0)
        parse_json(text, "powershell device_security")
        return text

    return reading.essential("device_security", read)
