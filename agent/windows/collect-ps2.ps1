# yte-compliance for Windows 7 (PowerShell 2.0, .NET 3.5): gathers the same sources as
# collect.ps1 through WMI and COM, and posts them as a batch to the collector, which
# parses them with the agent's own parsers (POST /api/v1/windows-batches).
# Reports that cannot be sent wait in %ProgramData%\yte\spool and go first next time.
#   powershell -ExecutionPolicy Bypass -File collect-ps2.ps1 -Collector https://yte.soyte.example.vn:8746 `
#              -TokenFile C:\ProgramData\yte\token -Site tyt-xa-a
#   powershell -File collect-ps2.ps1 -Print          # the batch to stdout, nothing sent
param([string]$Collector, [string]$TokenFile, [string]$Site, [switch]$Print)
$ErrorActionPreference = 'Stop'
$AgentVersion = 'ps2-0.1.0'

function ConvertTo-YteJson($v) {
  if ($v -eq $null) { return 'null' }
  if ($v -is [bool]) { if ($v) { return 'true' } else { return 'false' } }
  if ($v -is [byte] -or $v -is [int16] -or $v -is [uint16] -or $v -is [int] -or $v -is [uint32] -or
      $v -is [long] -or $v -is [uint64] -or $v -is [double] -or $v -is [single] -or $v -is [decimal]) {
    return [string]::Format([Globalization.CultureInfo]::InvariantCulture, '{0}', $v)
  }
  if ($v -is [datetime]) { return '"' + $v.ToUniversalTime().ToString('o') + '"' }
  if ($v -is [string] -or $v -is [char] -or $v -is [guid]) {
    $s = [string]$v
    $s = $s.Replace('\', '\\').Replace('"', '\"').Replace("`r", '\r').Replace("`n", '\n').Replace("`t", '\t')
    return '"' + $s + '"'
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

$profileTypes = @(@(1, 'Domain', 'DomainAuthenticated'), @(2, 'Private', 'Private'), @(4, 'Public', 'Public'))
$sources = New-Object Collections.Specialized.OrderedDictionary
$sources['computer'] = { Row @{ Name = $env:COMPUTERNAME } }
$sources['memory'] = { Get-WmiObject Win32_PhysicalMemory | Select-Object Capacity, DeviceLocator }
$sources['os'] = { Get-WmiObject Win32_OperatingSystem | Select-Object Caption, Version, BuildNumber, TotalVisibleMemorySize, ProductType }
$sources['cpu'] = { Get-WmiObject Win32_Processor | Select-Object Name, NumberOfCores, NumberOfLogicalProcessors }
$sources['os_disk'] = {
  $ld = Get-WmiObject Win32_LogicalDisk -Filter "DeviceID='$($env:SystemDrive)'"
  $part = @($ld.GetRelated('Win32_DiskPartition'))[0]
  $drive = @($part.GetRelated('Win32_DiskDrive'))[0]
  Add-Type -TypeDefinition $seekPenalty
  Row @{ DiskNumber = [int]$drive.Index; FriendlyName = $drive.Caption; Model = $drive.Model
         BusType = [string]$drive.InterfaceType; IncursSeekPenalty = [YteSeekPenalty]::Get([int]$drive.Index)
         Physical = @() }
}
$sources['antivirus'] = { Get-WmiObject -Namespace 'root\SecurityCenter2' -Class AntiVirusProduct |
                          Select-Object displayName, productState, pathToSignedProductExe }
$sources['defender'] = { throw 'Windows 7: Defender is antispyware only; antivirus comes from Security Center' }
$sources['av_services'] = { Get-Service -ErrorAction SilentlyContinue -Name ekrn, 'AVP*', BkavService, BkavProService,
                              ntrtscan, TmListen, SepMasterService, CmcAvService, MsMpSvc |
                            Select-Object Name, DisplayName, @{n='Status'; e={ [string]$_.Status }} }
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
                         Where-Object { $_.MACAddress } | Select-Object Name, @{n='MacAddress'; e={ $_.MACAddress }} }
$sources['hotfixes'] = { Get-HotFix | Where-Object { $_.InstalledOn } |
                         Select-Object HotFixID, @{n='InstalledOn'; e={ $_.InstalledOn.ToUniversalTime().ToString('o') }} }

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
if ($Print) { $json; return }

$spool = Join-Path $env:ProgramData 'yte\spool'
if (-not (Test-Path $spool)) { New-Item -ItemType Directory -Path $spool | Out-Null }
$file = Join-Path $spool ((Get-Date).ToUniversalTime().ToString('yyyyMMddHHmmssfff') + '-' + $envelope['report_id'] + '.json')
[IO.File]::WriteAllText($file + '.tmp', $json, (New-Object Text.UTF8Encoding $false))
Move-Item -Force ($file + '.tmp') $file

# TLS 1.2 on Windows 7 needs .NET 3.5 SP1 with KB3154518 (or .NET 4.5+); see docs/deploy-windows.md
try { [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]3072 } catch { }
$token = ([IO.File]::ReadAllText($TokenFile)).Trim()
foreach ($pending in @(Get-ChildItem $spool -Filter '*.json' | Sort-Object Name)) {
  $client = New-Object Net.WebClient
  $client.Headers.Add('Authorization', 'Bearer ' + $token)
  $client.Headers.Add('Content-Type', 'application/json')
  $client.Encoding = [Text.Encoding]::UTF8
  try {
    [void]$client.UploadString($Collector.TrimEnd('/') + '/api/v1/windows-batches', [IO.File]::ReadAllText($pending.FullName))
    Remove-Item $pending.FullName
  } catch [Net.WebException] {
    $code = 0; if ($_.Exception.Response) { $code = [int]$_.Exception.Response.StatusCode }
    if ($code -ge 400 -and $code -lt 500 -and $code -ne 408 -and $code -ne 429) {
      $rejected = Join-Path $spool 'rejected'; if (-not (Test-Path $rejected)) { New-Item -ItemType Directory $rejected | Out-Null }
      Move-Item -Force $pending.FullName $rejected
    } else { break }   # unreachable: keep the spool, try again next run
  }
}
