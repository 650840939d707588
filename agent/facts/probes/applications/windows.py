"""applications on Windows: browsers by App Paths and their exe versions, the TikTok Store app,
TikTok web-app shortcuts in each user's Start menu; one PowerShell script for all."""

from __future__ import annotations

from agent.facts.probes.applications.model import Application
from agent.facts.probes.applications.windows_parse import parse_browsers, parse_tiktok
from agent.facts.probes.base import Reading
from agent.facts.probes.powershell import PS_PART, ps_text
from agent.facts.probes.powershell_parse import parse_json

# App Paths is where installers register a browser for "start chrome": machine-wide first, then
# the users' hives (a hive not loaded, a user not logged in, is not seen: the limit).
# TikTok's Store package is asked for every user when the agent runs as SYSTEM.
APPLICATIONS_SCRIPT = (
    PS_PART
    + r"""
$out = @{}
$out.browsers = Part {
  $exes = [ordered]@{ chrome = 'chrome.exe'; edge = 'msedge.exe'; firefox = 'firefox.exe'
                      brave = 'brave.exe'; chromium = 'chromium.exe' }
  # Machine-wide, then this user, then every other loaded user hive (a per-user Chrome of the
  # person at the laptop, seen by the agent running as SYSTEM).
  $roots = @('HKLM:\SOFTWARE', 'HKCU:\SOFTWARE') + @(Get-ChildItem Registry::HKEY_USERS -EA 0 |
    Where-Object { $_.PSChildName -match '^S-1-5-21-[\d-]+$' } |
    ForEach-Object { "Registry::HKEY_USERS\$($_.PSChildName)\SOFTWARE" })
  @(foreach ($name in $exes.Keys) {
    foreach ($root in $roots) {
      $key = "$root\Microsoft\Windows\CurrentVersion\App Paths\$($exes[$name])"
      $path = (Get-ItemProperty -LiteralPath $key -EA SilentlyContinue).'(default)'
      if ($path) {
        $path = $path.Trim('"')
        $v = $null
        if (Test-Path -LiteralPath $path) {
          $v = (Get-Item -LiteralPath $path).VersionInfo.ProductVersion
        }
        @{ Name = $name; Key = $key; Path = $path; Version = $v }
        break
      }
    }
  })
}
$out.tiktok = Part {
  $system = [Security.Principal.WindowsIdentity]::GetCurrent().IsSystem
  $packages = if ($system) { Get-AppxPackage -AllUsers -Name '*TikTok*' }
              else { Get-AppxPackage -Name '*TikTok*' }
  @($packages | ForEach-Object { @{ Name = [string]$_.Name; Version = [string]$_.Version
                                    Location = [string]$_.InstallLocation } })
}
$out.web_apps = Part {
  $shell = New-Object -ComObject WScript.Shell
  @(Get-ChildItem "$env:SystemDrive\Users\*\AppData\Roaming\Microsoft\Windows\Start Menu\Programs" `
      -Recurse -Depth 1 -Filter '*TikTok*.lnk' -EA SilentlyContinue | ForEach-Object {
    @{ Path = $_.FullName; Target = $shell.CreateShortcut($_.FullName).TargetPath } })
}
ConvertTo-Json -Compress -Depth 6 -InputObject $out
"""
)


def read_browsers(reading: Reading) -> list[Application]:
    return parse_browsers(_applications(reading))


def read_tiktok(reading: Reading) -> list[Application]:
    return parse_tiktok(_applications(reading))


def _applications(reading: Reading) -> str:
    """APPLICATIONS_SCRIPT's output, run once; a failing script, or output that is not JSON at
    all, fails the probe."""

    def read() -> str:
        text = ps_text(reading.ctx, "applications", APPLICATIONS_SCRIPT, timeout=15.0)
        parse_json(text, "powershell applications")
        return text

    return reading.essential("applications", read)
