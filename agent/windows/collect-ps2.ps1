# yte-compliance for every Windows from 7 to 11 and Server 2008 R2 to 2025 (PowerShell 2.0
# and later, .NET 3.5+): gathers the same sources as collect.ps1 through WMI and COM, and
# posts them as a batch to the collector, which parses them with the agent's own parsers
# (POST /api/v1/windows-batches). No Python on the PC (docs/deploy-windows.md).
# Reports that cannot be sent wait in %ProgramData%\yte\spool and go first next time; while
# the collector cannot be reached, sending backs off (1 minute doubling to 6 hours).
#   the package (`yte package windows`): its scheduled task runs
#     powershell -ExecutionPolicy Bypass -File yte-agent.ps1 -ConfigFile agent.cfg
#   agent.cfg holds site= and collector=; on the first run the PC trades the site's
#   enrollment secret (%ProgramData%\yte\enroll.secret) for its own key (host.key)
#   by hand, with a site token:
#   powershell -ExecutionPolicy Bypass -File collect-ps2.ps1 -Collector https://yte.soyte.example.vn:8746 `
#              -TokenFile C:\ProgramData\yte\token -Site tyt-xa-a
#   powershell -File collect-ps2.ps1 -Print          # the batch to stdout (UTF-8), nothing sent
#   powershell -File collect-ps2.ps1 -Capture D:\case  # a fixture folder for the project's tests
# Only PowerShell 2.0 constructs: tests/unit/test_powershell.py refuses any later one.
param([string]$Collector, [string]$TokenFile, [string]$Site, [switch]$Print, [string]$Capture,
      [string]$ConfigFile)
$ErrorActionPreference = 'Stop'
$AgentVersion = 'ps2-0.3.0'
$Utf8 = New-Object Text.UTF8Encoding $false
$Home_ = Join-Path $env:ProgramData 'yte'
if (-not (Test-Path $Home_)) { New-Item -ItemType Directory -Path $Home_ | Out-Null }
$KeyFile = Join-Path $Home_ 'host.key'
$EnrollFile = Join-Path $Home_ 'enroll.secret'
$BackoffFile = Join-Path $Home_ 'backoff'
if ($ConfigFile) {   # key=value lines, written by the package (yte package windows)
  foreach ($line in [IO.File]::ReadAllLines($ConfigFile, $Utf8)) {
    $pair = $line.Split([char[]]'=', 2)
    if ($pair.Count -ne 2 -or $line.StartsWith('#')) { continue }
    $value = $pair[1].Trim()
    switch ($pair[0].Trim()) {
      'site' { $Site = $value }
      'collector' { $Collector = $value }
    }
  }
}

function Write-YteLog([string]$text) {
  $line = (Get-Date).ToUniversalTime().ToString('o') + ' ' + $text + "`r`n"
  [IO.File]::AppendAllText((Join-Path $Home_ 'agent.log'), $line, $Utf8)
}

function ConvertTo-YteJson($v) {
  if ($v -eq $null) { return 'null' }
  if ($v -is [bool]) { if ($v) { return 'true' } else { return 'false' } }
  if ($v -is [byte] -or $v -is [int16] -or $v -is [uint16] -or $v -is [int] -or $v -is [uint32] -or
      $v -is [long] -or $v -is [uint64] -or $v -is [double] -or $v -is [single] -or $v -is [decimal]) {
    return [string]::Format([Globalization.CultureInfo]::InvariantCulture, '{0}', $v)
  }
  if ($v -is [datetime]) { return '"' + $v.ToUniversalTime().ToString('o') + '"' }
  if ($v -is [string] -or $v -is [char] -or $v -is [guid]) {
    # every control character escaped (RFC 8259): WMI strings can hold any of them
    $sb = New-Object Text.StringBuilder
    [void]$sb.Append('"')
    foreach ($c in ([string]$v).ToCharArray()) {
      $n = [int]$c
      if ($c -eq '"') { [void]$sb.Append('\"') }
      elseif ($c -eq '\') { [void]$sb.Append('\\') }
      elseif ($n -eq 10) { [void]$sb.Append('\n') }
      elseif ($n -eq 13) { [void]$sb.Append('\r') }
      elseif ($n -eq 9) { [void]$sb.Append('\t') }
      elseif ($n -lt 32 -or $n -eq 0x2028 -or $n -eq 0x2029) { [void]$sb.Append('\u' + $n.ToString('x4')) }
      else { [void]$sb.Append($c) }
    }
    [void]$sb.Append('"')
    return $sb.ToString()
  }
  if ($v -is [Collections.IDictionary]) {
    $parts = @(); foreach ($k in $v.Keys) { $parts += (ConvertTo-YteJson ([string]$k)) + ':' + (ConvertTo-YteJson $v[$k]) }
    return '{' + ($parts -join ',') + '}'
  }
  if ($v -is [Collections.IEnumerable]) {
    $parts = @(); foreach ($i in $v) { $parts += ConvertTo-YteJson $i }
    return '[' + ($parts -join ',') + ']'
  }
  $parts = @(); foreach ($p in $v.PSObject.Properties) { $parts += (ConvertTo-YteJson $p.Name) + ':' + (ConvertTo-YteJson $p.Value) }
  return '{' + ($parts -join ',') + '}'
}

function Row($hash) { New-Object PSObject -Property $hash }

# The same derivation as agent/identity.py: HMAC-SHA256(key, lower(MachineGuid)), 15 hex digits.
function Get-YteHostId {
  $guid = ([string](Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography').MachineGuid).Trim().ToLower()
  $hmac = New-Object Security.Cryptography.HMACSHA256 (,[Text.Encoding]::UTF8.GetBytes('yte-compliance host id v1'))
  $hash = $hmac.ComputeHash([Text.Encoding]::UTF8.GetBytes($guid))
  return 'h' + ((($hash | ForEach-Object { $_.ToString('x2') }) -join '').Substring(0, 15))
}

$seekPenalty = @'
using System;
using System.Runtime.InteropServices;
public static class YteSeekPenalty {
  [StructLayout(LayoutKind.Sequential)] struct Query { public uint PropertyId; public uint QueryType; public byte Extra; }
  [StructLayout(LayoutKind.Sequential)] struct Descriptor { public uint Version; public uint Size; [MarshalAs(UnmanagedType.U1)] public bool IncursSeekPenalty; }
  [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
  static extern IntPtr CreateFile(string name, uint access, uint share, IntPtr sa, uint disposition, uint flags, IntPtr template);
  [DllImport("kernel32.dll", SetLastError = true)]
  static extern bool DeviceIoControl(IntPtr h, uint code, ref Query q, int qs, out Descriptor d, int ds, out uint returned, IntPtr o);
  [DllImport("kernel32.dll")] static extern bool CloseHandle(IntPtr h);
  public static object Get(int disk) {
    IntPtr h = CreateFile(@"\\.\PhysicalDrive" + disk, 0, 3, IntPtr.Zero, 3, 0, IntPtr.Zero);
    if (h == new IntPtr(-1)) return null;
    try {
      Query q = new Query(); q.PropertyId = 7; q.QueryType = 0;
      Descriptor d; uint n;
      if (!DeviceIoControl(h, 0x2D1400, ref q, Marshal.SizeOf(q), out d, Marshal.SizeOf(typeof(Descriptor)), out n, IntPtr.Zero)) return null;
      return d.IncursSeekPenalty;
    } finally { CloseHandle(h); }
  }
}
'@

# TLS 1.2, which the collector requires, from PowerShell 2.0 on .NET 3.5: needs KB3154518
# (.NET 3.5.1's TLS 1.2 support) with SystemDefaultTlsVersions = 1, and SChannel's TLS 1.2
# client on (Windows 7: off unless its registry keys say otherwise). Tried, and what is
# missing said: in the batch (`transport`) and in agent.log.
function Get-RegValue([string]$path, [string]$name) {
  $item = Get-ItemProperty -Path $path -ErrorAction SilentlyContinue
  if ($item -eq $null) { return $null }
  return $item.$name
}
function Test-YteTls12 {
  $missing = @()
  $fixes = @(Get-WmiObject Win32_QuickFixEngineering -ErrorAction SilentlyContinue | ForEach-Object { [string]$_.HotFixID })
  if ([Environment]::OSVersion.Version.Major -eq 6 -and [Environment]::OSVersion.Version.Minor -eq 1 -and
      $fixes -notcontains 'KB3154518') { $missing += 'KB3154518 (.NET 3.5.1 TLS 1.2)' }
  if ((Get-RegValue 'HKLM:\SOFTWARE\Microsoft\.NETFramework\v2.0.50727' 'SystemDefaultTlsVersions') -ne 1) {
    $missing += 'HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727 SystemDefaultTlsVersions=1'
  }
  $client = 'HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client'
  if ((Get-RegValue $client 'DisabledByDefault') -ne 0) { $missing += 'SCHANNEL TLS 1.2\Client DisabledByDefault=0' }
  $ok = $true; $error_ = ''
  try { [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]3072 }
  catch { $ok = $false; $error_ = [string]$_.Exception.Message }
  $clr = 'PowerShell ' + [string]$PSVersionTable.PSVersion + ', .NET CLR ' + [string][Environment]::Version
  Row @{ Tls12 = $ok; Client = $clr; Missing = $missing; Error = $error_ }
}
$transport = Test-YteTls12
if (-not $transport.Tls12) {
  Write-YteLog ('TLS 1.2 không dùng được / TLS 1.2 unavailable: ' + $transport.Error + '; thiếu / missing: ' + ($transport.Missing -join '; '))
}

$profileTypes = @(@(1, 'Domain', 'DomainAuthenticated'), @(2, 'Private', 'Private'), @(4, 'Public', 'Public'))
$sources = New-Object Collections.Specialized.OrderedDictionary
$sources['computer'] = { Row @{ Name = $env:COMPUTERNAME } }
$sources['memory'] = { Get-WmiObject Win32_PhysicalMemory | Select-Object 'Capacity', 'DeviceLocator' }
$sources['os'] = { Get-WmiObject Win32_OperatingSystem | Select-Object 'Caption', 'Version', 'BuildNumber', 'TotalVisibleMemorySize', 'ProductType' }
$sources['cpu'] = { Get-WmiObject Win32_Processor | Select-Object 'Name', 'NumberOfCores', 'NumberOfLogicalProcessors' }
$sources['os_disk'] = {
  $ld = Get-WmiObject Win32_LogicalDisk -Filter "DeviceID='$($env:SystemDrive)'"
  $part = @($ld.GetRelated('Win32_DiskPartition'))[0]
  $drive = @($part.GetRelated('Win32_DiskDrive'))[0]
  $penalty = $null; $penaltyError = $null; $score = $null
  try {   # refused under Constrained Language Mode, or when antivirus blocks csc.exe
    Add-Type -TypeDefinition $seekPenalty
    $penalty = [YteSeekPenalty]::Get([int]$drive.Index)
  } catch {
    $penaltyError = [string]$_.Exception.Message
    $winsat = @(Get-WmiObject Win32_WinSAT -ErrorAction SilentlyContinue)
    if ($winsat.Count -gt 0) { $score = $winsat[0].DiskScore }
  }
  Row @{ DiskNumber = [int]$drive.Index; FriendlyName = $drive.Caption; Model = $drive.Model
         BusType = [string]$drive.InterfaceType; IncursSeekPenalty = $penalty
         SeekPenaltyError = $penaltyError; WinSATDiskScore = $score; Physical = @() }
}
$sources['antivirus'] = { Get-WmiObject -Namespace 'root\SecurityCenter2' -Class AntiVirusProduct |
                          Select-Object 'displayName', 'productState', 'pathToSignedProductExe' }
# Windows 8 and later, Server 2016 and later (no Security Center on Server): Defender's own
# WMI class, which Get-MpComputerStatus reads; Windows 7 has none (Defender there is
# antispyware only) and says so by the namespace's error
$sources['defender'] = {
  foreach ($mp in @(Get-WmiObject -Namespace 'root\Microsoft\Windows\Defender' -Class 'MSFT_MpComputerStatus')) {
    $updated = $null
    if ($mp.AntivirusSignatureLastUpdated) {
      $updated = [Management.ManagementDateTimeConverter]::ToDateTime([string]$mp.AntivirusSignatureLastUpdated)
    }
    Row @{ AMRunningMode = $mp.AMRunningMode; AMServiceEnabled = $mp.AMServiceEnabled
           AntivirusEnabled = $mp.AntivirusEnabled; RealTimeProtectionEnabled = $mp.RealTimeProtectionEnabled
           AntivirusSignatureAge = $mp.AntivirusSignatureAge; AntivirusSignatureLastUpdated = $updated }
  }
}
$sources['av_services'] = { Get-Service -ErrorAction SilentlyContinue -Name 'ekrn', 'AVP*', 'BkavService', 'BkavProService',
                              'ntrtscan', 'TmListen', 'SepMasterService', 'CmcAvService', 'MsMpSvc' |
                            Select-Object 'Name', 'DisplayName', @{n='Status'; e={ [string]$_.Status }} }
$sources['firewall'] = {
  $fw = New-Object -ComObject HNetCfg.FwPolicy2
  foreach ($t in $profileTypes) {
    $action = 'Allow'; if ($fw.DefaultInboundAction($t[0]) -eq 0) { $action = 'Block' }
    Row @{ Name = $t[1]; Enabled = [string]$fw.FirewallEnabled($t[0]); DefaultInboundAction = $action }
  }
}
$sources['net_profiles'] = {
  $current = (New-Object -ComObject HNetCfg.FwPolicy2).CurrentProfileTypes
  foreach ($t in $profileTypes) { if ($current -band $t[0]) { Row @{ InterfaceAlias = ''; NetworkCategory = $t[2] } } }
}
$sources['ipv6_addresses'] = {
  foreach ($nic in @(Get-WmiObject Win32_NetworkAdapterConfiguration -Filter 'IPEnabled=TRUE')) {
    foreach ($a in @($nic.IPAddress)) {
      if ($a -like '*:*') { Row @{ IPAddress = $a; InterfaceAlias = $nic.Description; AddressState = 'Preferred' } }
    }
  }
}
$sources['ipv6_routes'] = {
  # `route print -6` rows read "If Metric Network-Destination Gateway" in every language
  foreach ($line in @(route print -6)) {
    $f = ([string]$line).Trim() -split '\s+'
    if ($f.Count -ge 4 -and $f[2] -eq '::/0') { Row @{ InterfaceAlias = "if $($f[0])"; NextHop = $f[3]; RouteMetric = [int]$f[1] } }
  }
}
$sources['adapters'] = { Get-WmiObject Win32_NetworkAdapter -Filter 'PhysicalAdapter=TRUE' |
                         Where-Object { $_.MACAddress } | Select-Object 'Name', @{n='MacAddress'; e={ $_.MACAddress }} }
# WMI's own InstalledOn text (M/d/yyyy whatever the culture): Get-HotFix would parse it
# in the machine's culture and swap day and month on Vietnamese regional settings
$sources['hotfixes'] = { Get-WmiObject Win32_QuickFixEngineering | Where-Object { $_.InstalledOn } |
                         Select-Object 'HotFixID', @{n='InstalledOn'; e={ [string]$_.InstalledOn }} }
$sources['transport'] = { $transport }

$batch = New-Object Collections.Specialized.OrderedDictionary
foreach ($name in @($sources.Keys)) {
  try { $batch[$name] = @{ ok = $true; data = @(& $sources[$name]) } }
  catch { $batch[$name] = @{ ok = $false; error = [string]$_.Exception.Message } }
}
$envelope = New-Object Collections.Specialized.OrderedDictionary
$envelope['schema'] = 1
$envelope['report_id'] = [guid]::NewGuid().ToString()
$envelope['site'] = $Site
$envelope['host_id'] = Get-YteHostId
$envelope['hostname'] = $env:COMPUTERNAME
$envelope['collected_at'] = (Get-Date).ToUniversalTime().ToString('o')
$envelope['agent_version'] = $AgentVersion
$envelope['batch'] = $batch
$json = ConvertTo-YteJson $envelope
if ($Print) {
  $stdout = [Console]::OpenStandardOutput()
  $bytes = $Utf8.GetBytes($json + "`n"); $stdout.Write($bytes, 0, $bytes.Length); $stdout.Flush()
  return
}
if ($Capture) {   # the raw batch and the machine's settings, for `yte agent capture --from-batch`
  if (-not (Test-Path $Capture)) { New-Item -ItemType Directory -Path $Capture | Out-Null }
  [IO.File]::WriteAllText((Join-Path $Capture 'batch.json'), $json, $Utf8)
  $netsh = (& netsh advfirewall show allprofiles state | Out-String)
  $info = New-Object Collections.Specialized.OrderedDictionary
  $info['oem_code_page'] = [Console]::OutputEncoding.CodePage
  $info['ansi_code_page'] = [Text.Encoding]::Default.CodePage
  $info['culture'] = [Globalization.CultureInfo]::CurrentCulture.Name
  $info['ui_culture'] = [Globalization.CultureInfo]::CurrentUICulture.Name
  $info['powershell'] = [string]$PSVersionTable.PSVersion
  $info['netsh'] = $netsh
  [IO.File]::WriteAllText((Join-Path $Capture 'machine.json'), (ConvertTo-YteJson $info), $Utf8)
  return
}

$spool = Join-Path $Home_ 'spool'
if (-not (Test-Path $spool)) { New-Item -ItemType Directory -Path $spool | Out-Null }
$file = Join-Path $spool ((Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmssfff') + '-' + $envelope['report_id'] + '.json')
[IO.File]::WriteAllText($file + '.tmp', $json, $Utf8)
Move-Item -Force ($file + '.tmp') $file

if (-not $transport.Tls12) {
  Write-YteLog 'không gửi được: máy thu thập yêu cầu TLS 1.2; báo cáo được giữ trong spool / not sent: the collector requires TLS 1.2; reports stay in the spool (docs/deploy-windows.md)'
  return
}

function Get-YteNow {
  return [long]((Get-Date).ToUniversalTime() - (New-Object DateTime 1970, 1, 1, 0, 0, 0, ([DateTimeKind]::Utc))).TotalSeconds
}
# While the collector cannot be reached, wait longer between tries: 1 minute doubling up
# to 6 hours, a random part so that a site's PCs do not all come back at once
$failures = 0; $notBefore = 0
if (Test-Path $BackoffFile) {
  $state = ([IO.File]::ReadAllText($BackoffFile)).Trim().Split(' ')
  $failures = [int]$state[0]; $notBefore = [long]$state[1]
}
if ((Get-YteNow) -lt $notBefore) { return }   # the report waits in the spool
function Set-YteBackoff([bool]$failed) {
  if (-not $failed) { if (Test-Path $BackoffFile) { Remove-Item -Force $BackoffFile }; return }
  $n = $failures + 1
  $wait = [Math]::Min(21600, 60 * [Math]::Pow(2, [Math]::Min($n - 1, 9)))
  $wait = [long]($wait * (0.75 + 0.5 * (New-Object Random).NextDouble()))
  [IO.File]::WriteAllText($BackoffFile, [string]$n + ' ' + [string]((Get-YteNow) + $wait), $Utf8)
}

function Send-YteJson([string]$path, [string]$token, [string]$body) {
  $client = New-Object Net.WebClient
  $client.Headers.Add('Authorization', 'Bearer ' + $token)
  $client.Headers.Add('Content-Type', 'application/json')
  $client.Encoding = [Text.Encoding]::UTF8
  return $client.UploadString($Collector.TrimEnd('/') + $path, $body)
}
function Get-YteHttpStatus($exception) {
  # a .NET method's WebException reaches PowerShell wrapped (MethodInvocationException):
  # its response, and the HTTP status, are on an inner exception
  $e = $exception
  while ($e -ne $null -and -not ($e -is [Net.WebException])) { $e = $e.InnerException }
  if ($e -ne $null -and $e.Response -ne $null) { return [int]$e.Response.StatusCode }
  return 0
}
function Protect-YteFile([string]$path) {
  # SYSTEM and Administrators only, named by SID: the names differ by Windows language
  & icacls $path /inheritance:r /grant:r '*S-1-5-18:F' '*S-1-5-32-544:F' | Out-Null
}

# The credential: this PC's own key; on the first run, the site's enrollment secret is
# traded for it (POST /api/v1/enroll) and then deleted; else a site token (-TokenFile).
function Get-YteCredential {
  if (Test-Path $KeyFile) { return ([IO.File]::ReadAllText($KeyFile)).Trim() }
  if (-not (Test-Path $EnrollFile)) {
    if ($TokenFile) { return ([IO.File]::ReadAllText($TokenFile)).Trim() }
    Write-YteLog 'không có khoá, mã đăng ký hay mã cơ sở / no host key, enrollment secret or site token'
    return $null
  }
  $request = New-Object Collections.Specialized.OrderedDictionary
  $request['host_id'] = Get-YteHostId
  $request['hostname'] = $env:COMPUTERNAME
  try {
    $answer = Send-YteJson '/api/v1/enroll' ([IO.File]::ReadAllText($EnrollFile)).Trim() (ConvertTo-YteJson $request)
  } catch {
    Write-YteLog ('chưa đăng ký được / not enrolled (' + (Get-YteHttpStatus $_.Exception) + '): ' + [string]$_.Exception.Message)
    return $null
  }
  $found = [regex]::Match($answer, '"host_key"\s*:\s*"([A-Za-z0-9_-]+)"')
  if (-not $found.Success) { Write-YteLog 'enrollment answer without host_key'; return $null }
  $key = $found.Groups[1].Value
  [IO.File]::WriteAllText($KeyFile + '.new', $key, $Utf8)
  Protect-YteFile ($KeyFile + '.new')
  Move-Item -Force ($KeyFile + '.new') $KeyFile
  Remove-Item -Force $EnrollFile   # enrolled: the secret is of no more use on this PC
  Write-YteLog 'đã đăng ký, khoá riêng của máy đã lưu / enrolled, the host key is kept'
  return $key
}

$token = Get-YteCredential
if ($token -eq $null) { Set-YteBackoff $true; return }
$failed = $false
foreach ($pending in @(Get-ChildItem $spool -Filter '*.json' | Sort-Object Name)) {
  try {
    [void](Send-YteJson '/api/v1/windows-batches' $token ([IO.File]::ReadAllText($pending.FullName)))
    Remove-Item $pending.FullName
  } catch {
    $code = Get-YteHttpStatus $_.Exception
    if ($code -ge 400 -and $code -lt 500 -and $code -ne 408 -and $code -ne 429) {
      $rejected = Join-Path $spool 'rejected'; if (-not (Test-Path $rejected)) { New-Item -ItemType Directory $rejected | Out-Null }
      Move-Item -Force $pending.FullName $rejected
      Write-YteLog ('bị từ chối / rejected (' + $code + '): ' + $pending.Name)
    } else {   # unreachable: keep the spool, try again after the backoff
      Write-YteLog ('chưa gửi được / not sent: ' + [string]$_.Exception.Message)
      $failed = $true
      break
    }
  }
}
Set-YteBackoff $failed
