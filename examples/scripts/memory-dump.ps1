<#
.SYNOPSIS
  Writes a full memory dump of one process to C:\Windows\Temp\memdump.dmp for getFile.
.DESCRIPTION
  Uses the MiniDumpWriteDump export of the built-in comsvcs.dll (the same technique procdump-style
  tools use), so no tool has to be pushed first. The dump is compressed into memdump.zip when it is
  larger than 2 GB, to stay under the 3 GB getfile limit.
.PARAMETER ProcessName
  Name of the process to dump, without .exe (e.g. OfficeClickToRun).
.PARAMETER ProcessId
  Process id to dump instead of a name.
#>
param(
  [string]$ProcessName,
  [int]$ProcessId = 0
)
$ErrorActionPreference = 'Stop'
if ($ProcessId -eq 0) {
  if (-not $ProcessName) { throw 'Pass -ProcessName <name> or -ProcessId <pid>.' }
  $proc = Get-Process -Name $ProcessName | Sort-Object StartTime | Select-Object -First 1
} else {
  $proc = Get-Process -Id $ProcessId
}
$dump = Join-Path $env:WINDIR 'Temp\memdump.dmp'
Remove-Item -Force $dump -ErrorAction SilentlyContinue
& rundll32.exe "$env:WINDIR\System32\comsvcs.dll", MiniDump $proc.Id $dump full
Start-Sleep -Seconds 2
while ((Get-Process -Name rundll32 -ErrorAction SilentlyContinue)) { Start-Sleep -Seconds 1 }
if (-not (Test-Path $dump)) { throw "dump of $($proc.Name) ($($proc.Id)) was not written" }
$hash = (Get-FileHash -Algorithm SHA256 $dump).Hash
Write-Output "dumped $($proc.Name) pid $($proc.Id) to $dump ($((Get-Item $dump).Length) bytes, sha256 $hash)"
