# yte-compliance package for Windows: what the MSI runs (as SYSTEM) after copying its files,
# and before removing them. PowerShell 2.0 and later: Windows 7 to 11, Server 2008 R2 to 2025.
#   -Install    the data folder for SYSTEM and Administrators only; the site's enrollment
#               secret moved there (kept only until the PC has its own key); the collector's
#               CA trusted when the package carries one; the scheduled task registered and
#               started. An upgrade runs it again: the spool and the host key stay.
#   -Uninstall  the task stopped and removed, any run of the agent ended, the CA removed,
#               the data folder deleted: nothing is left running.
# Only PowerShell 2.0 constructs: tests/unit/test_powershell.py refuses any later one.
param([switch]$Install, [switch]$Uninstall)
$ErrorActionPreference = 'Stop'
$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$Data = Join-Path $env:ProgramData 'yte'
$Task = 'yte-agent'
$Unicode = New-Object Text.UnicodeEncoding $false, $true

function Protect-YtePath([string]$path) {
  # SYSTEM and Administrators only, by SID (the names differ by Windows language);
  # for a folder, inherited by what is created in it
  $grant = @('*S-1-5-18:F', '*S-1-5-32-544:F')
  if ((Get-Item $path).PSIsContainer) { $grant = @('*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F') }
  & icacls $path /inheritance:r /grant:r $grant[0] $grant[1] | Out-Null
  if ($LASTEXITCODE -ne 0) { throw ('icacls ' + $path + ' failed: ' + $LASTEXITCODE) }
}

if ($Install) {
  if (-not (Test-Path $Data)) { New-Item -ItemType Directory -Path $Data | Out-Null }
  Protect-YtePath $Data
  $secret = Join-Path $Here 'enroll.secret'
  if (Test-Path $secret) {
    # a PC that has its key already keeps it (an upgrade): the secret is not needed there
    if (-not (Test-Path (Join-Path $Data 'host.key'))) {
      Copy-Item -Force $secret (Join-Path $Data 'enroll.secret')
      Protect-YtePath (Join-Path $Data 'enroll.secret')
    }
    Remove-Item -Force $secret   # never left where every user may read Program Files
  }
  $ca = Join-Path $Here 'collector-ca.crt'
  if (Test-Path $ca) {
    $cert = New-Object Security.Cryptography.X509Certificates.X509Certificate2 $ca
    & certutil -f -addstore Root $ca | Out-Null
    if ($LASTEXITCODE -ne 0) { throw ('certutil -addstore failed: ' + $LASTEXITCODE) }
    [IO.File]::WriteAllText((Join-Path $Data 'ca.thumbprint'), $cert.Thumbprint)
  }
  # the task runs this folder's script, wherever the MSI put it
  $xml = [IO.File]::ReadAllText((Join-Path $Here 'yte-agent-task.xml'))
  $xml = $xml.Replace('{install_dir}', $Here.TrimEnd('\'))
  $taskFile = Join-Path $Data 'yte-agent-task.xml'
  [IO.File]::WriteAllText($taskFile, $xml, $Unicode)
  & schtasks /Create /TN $Task /XML $taskFile /F | Out-Null
  if ($LASTEXITCODE -ne 0) { throw ('schtasks /Create failed: ' + $LASTEXITCODE) }
  & schtasks /Run /TN $Task | Out-Null
}

if ($Uninstall) {
  $ErrorActionPreference = 'Continue'   # best effort: every step is tried
  & schtasks /End /TN $Task 2>$null | Out-Null
  & schtasks /Delete /TN $Task /F 2>$null | Out-Null
  foreach ($p in @(Get-WmiObject Win32_Process -Filter "Name='powershell.exe'")) {
    if ([string]$p.CommandLine -like '*yte-agent.ps1*') { [void]$p.Terminate() }
  }
  $thumbprint = Join-Path $Data 'ca.thumbprint'
  if (Test-Path $thumbprint) { & certutil -delstore Root ([IO.File]::ReadAllText($thumbprint)).Trim() | Out-Null }
  if (Test-Path $Data) { Remove-Item -Recurse -Force $Data }
}
