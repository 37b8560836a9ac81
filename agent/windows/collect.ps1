# yte-compliance: one PowerShell run gathers every Windows source the probes parse.
# Output: one JSON object {name: {ok: true, data: [...]} | {ok: false, error: "..."}}.
# Enums are converted to their names and dates to ISO 8601 UTC here, so the output does
# not depend on the display language or on the PowerShell version's JSON encoding.
# Requires PowerShell 3.0+ (Windows 8 / Server 2012 and later); see docs/deploy-windows.md.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# UTF-8 out, whatever the console's OEM code page: the agent decodes UTF-8, and Vietnamese
# hostnames and product names survive
[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false

function Iso($d) { if ($d) { ([datetime]$d).ToUniversalTime().ToString('o') } }

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
  // IOCTL_STORAGE_QUERY_PROPERTY with StorageDeviceSeekPenaltyProperty (7), PropertyStandardQuery (0)
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

$sources = [ordered]@{
  machine_guid   = { (Get-ItemProperty 'HKLM:\SOFTWARE\Microsoft\Cryptography').MachineGuid }
  computer       = { [pscustomobject]@{ Name = $env:COMPUTERNAME } }
  memory         = { Get-CimInstance Win32_PhysicalMemory | Select-Object 'Capacity', 'DeviceLocator' }
  os             = { Get-CimInstance Win32_OperatingSystem | Select-Object 'Caption', 'Version', 'BuildNumber', 'TotalVisibleMemorySize', 'ProductType' }
  cpu            = { Get-CimInstance Win32_Processor | Select-Object 'Name', 'NumberOfCores', 'NumberOfLogicalProcessors' }
  os_disk        = {
    $part = Get-Partition -DriveLetter $env:SystemDrive.TrimEnd(':')
    $disk = Get-Disk -Number $part.DiskNumber
    $phys = @(Get-PhysicalDisk | Where-Object { $_.DeviceId -eq [string]$disk.Number })
    $penalty = $null; $penaltyError = $null
    if (-not $phys -or [string]$phys[0].MediaType -eq 'Unspecified') {
      try {   # refused under Constrained Language Mode, or when antivirus blocks csc.exe
        Add-Type -TypeDefinition $seekPenalty
        $penalty = [YteSeekPenalty]::Get([int]$disk.Number)
      } catch { $penaltyError = [string]$_.Exception.Message }
    }
    [pscustomobject]@{
      DiskNumber = $disk.Number; FriendlyName = $disk.FriendlyName; Model = $disk.Model
      BusType = [string]$disk.BusType; IncursSeekPenalty = $penalty; SeekPenaltyError = $penaltyError
      Physical = @($phys | ForEach-Object { [pscustomobject]@{
        FriendlyName = $_.FriendlyName; MediaType = [string]$_.MediaType; BusType = [string]$_.BusType } })
    }
  }
  antivirus      = { Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct |
                     Select-Object 'displayName', 'productState', 'pathToSignedProductExe' }
  defender       = { Get-MpComputerStatus | Select-Object 'AMRunningMode', 'AMServiceEnabled',
                       'AntivirusEnabled', 'RealTimeProtectionEnabled', 'AntivirusSignatureAge',
                       @{n='AntivirusSignatureLastUpdated'; e={ Iso $_.AntivirusSignatureLastUpdated }} }
  av_services    = { Get-Service -ErrorAction SilentlyContinue -Name 'ekrn', 'AVP*', 'BkavService', 'BkavProService',
                       'ntrtscan', 'TmListen', 'SepMasterService', 'CmcAvService', 'WinDefend' |
                     Select-Object 'Name', 'DisplayName', @{n='Status'; e={ [string]$_.Status }} }
  firewall       = { Get-NetFirewallProfile -PolicyStore ActiveStore |
                     Select-Object 'Name', @{n='Enabled'; e={ [string]$_.Enabled }},
                       @{n='DefaultInboundAction'; e={ [string]$_.DefaultInboundAction }} }
  net_profiles   = { Get-NetConnectionProfile | Select-Object 'InterfaceAlias',
                       @{n='NetworkCategory'; e={ [string]$_.NetworkCategory }} }
  ipv6_addresses = { Get-NetIPAddress -AddressFamily IPv6 | Select-Object 'IPAddress', 'InterfaceAlias',
                       @{n='AddressState'; e={ [string]$_.AddressState }} }
  ipv6_routes    = { Get-NetRoute -DestinationPrefix '::/0' -ErrorAction SilentlyContinue |
                     Select-Object 'InterfaceAlias', 'NextHop', 'RouteMetric' }
  adapters       = { Get-NetAdapter -Physical | Select-Object 'Name', 'MacAddress' }
  # WMI's own InstalledOn text (M/d/yyyy whatever the culture), never a culture-parsed date
  hotfixes       = { Get-CimInstance Win32_QuickFixEngineering | Where-Object { $_.InstalledOn } |
                     Select-Object 'HotFixID', @{n='InstalledOn'; e={ [string]$_.InstalledOn }} }
}

$out = [ordered]@{}
foreach ($name in $sources.Keys) {
  try { $out[$name] = @{ ok = $true; data = @(& $sources[$name]) } }
  catch { $out[$name] = @{ ok = $false; error = [string]$_.Exception.Message } }
}
$out | ConvertTo-Json -Depth 6 -Compress
