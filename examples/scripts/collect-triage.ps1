<#
.SYNOPSIS
  Initial triage collection for Microsoft Defender for Endpoint Live Response.
.DESCRIPTION
  Collects processes, services, network connections, scheduled tasks, autoruns from the registry,
  local administrators and recent security/system events into C:\Windows\Temp\triage.zip,
  which the runbook then brings home with getFile.
.PARAMETER Days
  How many days of event logs to include (default 7).
#>
param(
  [int]$Days = 7
)
$ErrorActionPreference = 'Continue'
$out = Join-Path $env:WINDIR 'Temp\triage'
$zip = Join-Path $env:WINDIR 'Temp\triage.zip'
Remove-Item -Recurse -Force $out, $zip -ErrorAction SilentlyContinue
New-Item -ItemType Directory -Path $out | Out-Null

Get-CimInstance Win32_Process |
  Select-Object ProcessId, ParentProcessId, Name, CommandLine, ExecutablePath, CreationDate |
  Export-Csv (Join-Path $out 'processes.csv') -NoTypeInformation
Get-CimInstance Win32_Service |
  Select-Object Name, DisplayName, State, StartMode, PathName, StartName |
  Export-Csv (Join-Path $out 'services.csv') -NoTypeInformation
Get-NetTCPConnection -ErrorAction SilentlyContinue |
  Select-Object LocalAddress, LocalPort, RemoteAddress, RemotePort, State, OwningProcess |
  Export-Csv (Join-Path $out 'tcp.csv') -NoTypeInformation
Get-ScheduledTask | Select-Object TaskPath, TaskName, State, @{n='Actions';e={($_.Actions | ForEach-Object { $_.Execute + ' ' + $_.Arguments }) -join '; '}} |
  Export-Csv (Join-Path $out 'scheduled-tasks.csv') -NoTypeInformation
foreach ($key in 'HKLM:\Software\Microsoft\Windows\CurrentVersion\Run', 'HKLM:\Software\Microsoft\Windows\CurrentVersion\RunOnce') {
  Get-ItemProperty $key -ErrorAction SilentlyContinue | Out-File -Append (Join-Path $out 'run-keys.txt')
}
Get-LocalGroupMember -Group 'Administrators' -ErrorAction SilentlyContinue |
  Export-Csv (Join-Path $out 'local-admins.csv') -NoTypeInformation

$since = (Get-Date).AddDays(-$Days)
foreach ($log in 'Security', 'System', 'Microsoft-Windows-PowerShell/Operational') {
  $name = ($log -replace '[\\/]', '_') + '.csv'
  Get-WinEvent -FilterHashtable @{ LogName = $log; StartTime = $since } -MaxEvents 20000 -ErrorAction SilentlyContinue |
    Select-Object TimeCreated, Id, ProviderName, LevelDisplayName, Message |
    Export-Csv (Join-Path $out $name) -NoTypeInformation
}

Compress-Archive -Path (Join-Path $out '*') -DestinationPath $zip -Force
Remove-Item -Recurse -Force $out
Write-Output "triage written to $zip ($((Get-Item $zip).Length) bytes)"
