# Installs the agent on Windows and registers its scheduled task. Run in an elevated PowerShell:
#   .\install-windows.ps1 -Binary .\agent.exe -Server https://collector.example.ac.uk -Token <token> [-CaFile ca.pem]
param(
  [Parameter(Mandatory)] [string] $Binary,
  [Parameter(Mandatory)] [string] $Server,
  [Parameter(Mandatory)] [string] $Token,
  [string] $CaFile
)
$ErrorActionPreference = 'Stop'
$programDir = 'C:\Program Files\Outpost'
$stateDir = 'C:\ProgramData\Outpost'
New-Item -ItemType Directory -Force -Path $programDir, "$stateDir\logs" | Out-Null
Copy-Item -Force $Binary "$programDir\agent.exe"
# Only SYSTEM and Administrators may read the state folder (it holds the device secret).
icacls $stateDir /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
$enroll = @('--state-dir', $stateDir, 'enroll', '--server', $Server, '--token', $Token)
if ($CaFile) { $enroll += @('--ca-file', $CaFile) }
& "$programDir\agent.exe" @enroll
if ($LASTEXITCODE -ne 0) { throw "enrolment failed" }
$xml = Get-Content -Raw (Join-Path $PSScriptRoot 'outpost-agent-task.xml')
Register-ScheduledTask -TaskName 'Outpost Agent' -Xml $xml -Force | Out-Null
Start-ScheduledTask -TaskName 'Outpost Agent'
& "$programDir\agent.exe" --state-dir $stateDir --self-check
