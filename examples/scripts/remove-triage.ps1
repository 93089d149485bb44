<#
.SYNOPSIS
  Removes what collect-triage.ps1 left on the device (C:\Windows\Temp\triage.zip and its work folder),
  once the archive has been collected.
#>
$ErrorActionPreference = 'Continue'
$removed = 0
foreach ($p in (Join-Path $env:WINDIR 'Temp\triage.zip'), (Join-Path $env:WINDIR 'Temp\triage')) {
  if (Test-Path $p) {
    Remove-Item -Recurse -Force $p
    $removed++
  }
}
Write-Output "removed $removed triage artefact(s)"
