# Enrols the installed agent and registers its scheduled task; run by the MSI (outpost-agent.wxs)
# as SYSTEM when SERVER and TOKEN are given:
#   msiexec /i outpost-agent-<v>-x64.msi /qn SERVER=https://collector.example.ac.uk TOKEN=<token> [CAFILE=C:\ca.pem]
# The token is never written to a log (the MSI hides this command line).
param(
  [Parameter(Mandatory)] [string] $Server,
  [Parameter(Mandatory)] [string] $Token,
  [string] $CaFile
)
$ErrorActionPreference = 'Stop'
$programDir = Split-Path -Parent $MyInvocation.MyCommand.Path
$stateDir = 'C:\ProgramData\Outpost'
New-Item -ItemType Directory -Force -Path "$stateDir\logs" | Out-Null
# Only SYSTEM and Administrators may read the state folder (it holds the device secret).
icacls $stateDir /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
$enroll = @('--state-dir', $stateDir, 'enroll', '--server', $Server, '--token', $Token)
if ($CaFile) { $enroll += @('--ca-file', $CaFile) }
& "$programDir\agent.exe" @enroll
if ($LASTEXITCODE -ne 0) { throw "enrolment failed (agent exit $LASTEXITCODE)" }
$xml = Get-Content -Raw (Join-Path $programDir 'outpost-agent-task.xml')
Register-ScheduledTask -TaskName 'Outpost Agent' -Xml $xml -Force | Out-Null
Start-ScheduledTask -TaskName 'Outpost Agent'
