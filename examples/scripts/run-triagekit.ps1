<#
.SYNOPSIS
  Imports TriageKit.psm1 (pushed by the previous putFile step) and writes
  C:\Windows\Temp\persistence.csv for the next getFile step.
#>
param(
  [string]$OutFile = (Join-Path $env:WINDIR 'Temp\persistence.csv')
)
$ErrorActionPreference = 'Stop'
$downloads = Join-Path $env:ProgramData 'Microsoft\Windows Defender Advanced Threat Protection\Downloads'
Import-Module (Join-Path $downloads 'TriageKit.psm1') -Force
$rows = Get-TriagePersistence
$rows | Export-Csv -Path $OutFile -NoTypeInformation
Write-Output "$($rows.Count) persistence entries written to $OutFile"
