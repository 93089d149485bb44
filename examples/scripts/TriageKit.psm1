# TriageKit: persistence checks pushed to the device with putFile and imported by run-triagekit.ps1.
# Live Response puts library files in the Defender "Downloads" folder of the device.

function Get-TriagePersistence {
  [CmdletBinding()]
  param()
  $rows = [System.Collections.Generic.List[object]]::new()
  foreach ($key in @(
      'HKLM:\Software\Microsoft\Windows\CurrentVersion\Run',
      'HKLM:\Software\Microsoft\Windows\CurrentVersion\RunOnce',
      'HKLM:\Software\WOW6432Node\Microsoft\Windows\CurrentVersion\Run',
      'HKLM:\System\CurrentControlSet\Control\Session Manager\BootExecute'
    )) {
    $item = Get-ItemProperty $key -ErrorAction SilentlyContinue
    if ($item) {
      $item.PSObject.Properties | Where-Object { $_.Name -notlike 'PS*' } | ForEach-Object {
        $rows.Add([pscustomobject]@{ Kind = 'RegistryRun'; Location = $key; Name = $_.Name; Value = "$($_.Value)" })
      }
    }
  }
  Get-ScheduledTask -ErrorAction SilentlyContinue | Where-Object { $_.TaskPath -notlike '\Microsoft\*' } | ForEach-Object {
    $rows.Add([pscustomobject]@{ Kind = 'ScheduledTask'; Location = $_.TaskPath; Name = $_.TaskName; Value = ($_.Actions.Execute -join '; ') })
  }
  Get-CimInstance Win32_Service | Where-Object { $_.PathName -and $_.PathName -notmatch '\\Windows\\' } | ForEach-Object {
    $rows.Add([pscustomobject]@{ Kind = 'Service'; Location = $_.StartMode; Name = $_.Name; Value = $_.PathName })
  }
  Get-CimInstance -Namespace root/subscription -ClassName __EventConsumer -ErrorAction SilentlyContinue | ForEach-Object {
    $rows.Add([pscustomobject]@{ Kind = 'WmiConsumer'; Location = $_.__CLASS; Name = $_.Name; Value = "$($_.CommandLineTemplate)$($_.ScriptText)" })
  }
  $rows
}

Export-ModuleMember -Function Get-TriagePersistence
