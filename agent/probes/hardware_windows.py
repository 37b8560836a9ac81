"""Hardware on Windows: Win32_PhysicalMemory / Win32_OperatingSystem / Win32_Processor and
the system drive's disk (Get-Partition → Get-Disk → MSFT_PhysicalDisk, seek penalty)."""

from __future__ import annotations

from typing import Any

from yte_compliance.agent.probe import Context, Observed
from yte_compliance.agent.probes.hardware import PhysicalDisk, set_memory, set_os_disk
from yte_compliance.agent.probes.windows import SourceFailed, enum_name, source
from yte_compliance.core.report import HardwareFacts

# MSFT_PhysicalDisk / MSFT_Disk numeric values (Storage Management API documentation).
MEDIA_TYPES = {0: "Unspecified", 3: "HDD", 4: "SSD", 5: "SCM"}
BUS_TYPES = {0: "Unknown", 1: "SCSI", 2: "ATAPI", 3: "ATA", 4: "1394", 5: "SSA",
             6: "Fibre Channel", 7: "USB", 8: "RAID", 9: "iSCSI", 10: "SAS", 11: "SATA",
             12: "SD", 13: "MMC", 14: "Virtual", 15: "File Backed Virtual",
             16: "Storage Spaces", 17: "NVMe", 18: "SCM", 19: "UFS"}
_VIRTUAL_MODELS = ("virtual", "vmware", "qemu", "vbox", "xen", "red hat")
_VIRTUAL_BUSES = ("Virtual", "File Backed Virtual")

WINDOWS_11_FIRST_BUILD = 22000


def parse_memory(rows: list[dict[str, Any]]) -> list[int] | None:
    sizes = [int(r["Capacity"]) for r in rows if r.get("Capacity")]
    return sizes or None


def os_name(caption: str | None, build: str | None) -> str | None:
    """Windows 11 still calls itself 'Windows 10' in places: the build number decides."""
    if caption is None:
        return None
    name = caption.removeprefix("Microsoft ").strip()
    try:
        number = int(build or 0)
    except ValueError:
        number = 0
    if number >= WINDOWS_11_FIRST_BUILD and "Windows 10" in name and "Server" not in name:
        name = name.replace("Windows 10", "Windows 11")
    return name


def product_role(product_type: Any) -> tuple[str | None, str | None]:
    """Win32_OperatingSystem.ProductType: 1 workstation, 2 domain controller, 3 server."""
    role = {1: "workstation", 2: "server", 3: "server"}.get(
        int(product_type) if str(product_type).isdigit() else -1)
    return role, (f"ProductType={product_type}" if role else None)


def parse_cpu(rows: list[dict[str, Any]]) -> tuple[str | None, int | None, int | None]:
    if not rows:
        return None, None, None
    model = (rows[0].get("Name") or "").strip(" \t\x00") or None  # SMBIOS pads with NULs
    cores = sum(int(r.get("NumberOfCores") or 0) for r in rows) or None
    threads = sum(int(r.get("NumberOfLogicalProcessors") or 0) for r in rows) or None
    return model, cores, threads


# Windows 7's WinSAT caps a spinning disk's score at 5.9 (its scale reaches 7.9); SSDs
# score 6.5 and more. Used only when the seek-penalty query could not run (Add-Type
# refused): a high score says SSD; a low one proves nothing (an old SSD can score low).
WINSAT_SSD_MIN = 6.5


def winsat_says_ssd(score: Any) -> bool:
    try:
        return float(score) >= WINSAT_SSD_MIN
    except (TypeError, ValueError):
        return False


def os_disk_unknown_why(row: dict[str, Any]) -> str | None:
    """Why the media stays unknown when the seek-penalty helper could not be built."""
    error = row.get("SeekPenaltyError")
    if not error:
        return None
    score = row.get("WinSATDiskScore")
    return (f"seek penalty not read (Add-Type: {str(error)[:120]}); WinSAT disk score "
            f"{score if score is not None else 'not available'}: not conclusive")


def parse_os_disk(row: dict[str, Any]) -> list[PhysicalDisk]:
    """The system drive's disk as a PhysicalDisk: MediaType first; the seek-penalty
    property when MediaType is Unspecified or MSFT_PhysicalDisk is missing; virtual
    disks (Hyper-V, VMware, QEMU, VirtualBox) stay unknown whatever they claim."""
    name = f"PhysicalDrive{row.get('DiskNumber')}"
    model = row.get("Model") or row.get("FriendlyName") or ""
    physical = row.get("Physical") or []
    physical = physical if isinstance(physical, list) else [physical]
    disk_bus = enum_name(row.get("BusType"), BUS_TYPES)
    bus = enum_name(physical[0].get("BusType"), BUS_TYPES) if physical else disk_bus
    media = enum_name(physical[0].get("MediaType"), MEDIA_TYPES) if physical else None
    virtual = (bus in _VIRTUAL_BUSES or disk_bus in _VIRTUAL_BUSES
               or any(v in model.lower() for v in _VIRTUAL_MODELS))
    if media in ("SSD", "SCM"):
        rotational: bool | None = False
    elif media == "HDD":
        rotational = True
    else:
        penalty = row.get("IncursSeekPenalty")
        rotational = None if penalty is None else bool(penalty)
        if rotational is None and winsat_says_ssd(row.get("WinSATDiskScore")):
            rotational = False
    return [PhysicalDisk(name=name, bus=(bus or "").lower() or None, rotational=rotational,
                         virtual=virtual, model=model or None)]


def parse_adapters(rows: list[dict[str, Any]]) -> list[str]:
    """Get-NetAdapter -Physical prints MACs as 00-1B-21-3A-4B-5C."""
    out = []
    for r in rows:
        text = str(r.get("MacAddress") or "").lower()
        digits = "".join(c for c in text if c in "0123456789abcdef")
        if len(digits) == 12:
            out.append(":".join(digits[i:i + 2] for i in range(0, 12, 2)))
    return out


def collect(ctx: Context) -> Observed:
    facts = HardwareFacts(os_family="windows")
    unknown: dict[str, str] = {}
    usable = None
    try:
        os_row = source(ctx, "os")[0]
        usable = int(os_row["TotalVisibleMemorySize"]) * 1024
        facts.os_name = os_name(os_row.get("Caption"), os_row.get("BuildNumber"))
        facts.os_version = os_row.get("Version")
        facts.os_build = os_row.get("BuildNumber")
        facts.system_role, facts.system_role_source = product_role(os_row.get("ProductType"))
        if facts.system_role is None:
            unknown["system_role"] = f"ProductType {os_row.get('ProductType')!r} not known"
    except (SourceFailed, IndexError, KeyError, TypeError, ValueError) as e:
        unknown["os_name"] = str(e)
    modules = None
    try:
        modules = parse_memory(source(ctx, "memory"))
    except (SourceFailed, KeyError, TypeError, ValueError) as e:
        unknown["memory_module_count"] = str(e)
    set_memory(facts, unknown, modules, usable)
    try:
        facts.cpu_model, facts.cpu_cores, facts.cpu_threads = parse_cpu(source(ctx, "cpu"))
    except (SourceFailed, TypeError, ValueError) as e:
        unknown["cpu_model"] = str(e)
    try:
        facts.mac_addresses = parse_adapters(source(ctx, "adapters"))
    except SourceFailed as e:
        unknown["mac_addresses"] = str(e)
    try:
        rows = source(ctx, "os_disk")
        disks = parse_os_disk(rows[0]) if rows else []
    except (SourceFailed, TypeError, ValueError, AttributeError) as e:
        disks, why = [], str(e)
    else:
        why = os_disk_unknown_why(rows[0]) if rows else None
    set_os_disk(facts, unknown, disks, why)
    return Observed(facts, unknown)
