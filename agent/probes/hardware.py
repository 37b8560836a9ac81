"""Hardware rules shared by every platform: installed memory and the OS disk's media."""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20

# Installed sizes a PC is sold with, in GiB: the smallest one that can hold what the
# operating system sees is the estimate (firmware and integrated graphics reserve part of
# the installed memory, never add to it).
_COMMON_SIZES_GIB = (1, 2, 3, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256,
                     384, 512, 768, 1024, 1536, 2048)


def estimate_installed(usable_bytes: int) -> int:
    """The installed size the usable total must come from: 7.8 GiB visible → 8 GiB."""
    for size in _COMMON_SIZES_GIB:
        if size * GiB >= usable_bytes:
            return size * GiB
    step = 512 * GiB
    return -(-usable_bytes // step) * step


def installed_memory(module_sizes: list[int] | None, usable_bytes: int | None
                     ) -> tuple[int | None, str | None, str | None]:
    """(installed bytes, source, reason if unknown).

    The sum of the memory modules when the firmware lists them; otherwise the estimate
    from the usable total, marked as such; unknown when neither can be read.
    """
    if module_sizes:
        return sum(module_sizes), "smbios", None
    if usable_bytes:
        return estimate_installed(usable_bytes), "estimated", None
    return None, None, "neither memory modules nor usable memory could be read"


@dataclass(frozen=True)
class PhysicalDisk:
    """One physical (or virtual) disk under the operating system's file system."""

    name: str
    bus: str | None = None  # nvme, sata, sas, usb, mmc, virtio, scsi, …
    rotational: bool | None = None  # the device's own flag; None when unreadable
    virtual: bool = False  # a hypervisor's disk: its rotational flag says nothing
    model: str | None = None


def disk_media(disk: PhysicalDisk) -> tuple[str | None, str | None]:
    """(ssd | hdd | None, reason when None). NVMe and eMMC are solid state by design."""
    if disk.virtual:
        return None, f"{disk.name}: virtual disk ({disk.bus or disk.model or 'hypervisor'}); " \
                     "the physical media behind it is not visible"
    if disk.bus in ("nvme", "mmc"):
        return "ssd", None
    if disk.rotational is None:
        return None, f"{disk.name}: rotational flag unreadable"
    return ("hdd" if disk.rotational else "ssd"), None


def os_disk_media(disks: list[PhysicalDisk]) -> tuple[str | None, str | None]:
    """Media of the disks holding the OS: ssd only when every one is; hdd when any is."""
    if not disks:
        return None, "the disk holding the operating system was not found"
    judged = [disk_media(d) for d in disks]
    medias = [m for m, _ in judged]
    if "hdd" in medias:
        return "hdd", None
    if all(m == "ssd" for m in medias):
        return "ssd", None
    return None, "; ".join(r for _, r in judged if r)


def os_disk_bus(disks: list[PhysicalDisk]) -> str | None:
    buses = sorted({d.bus for d in disks if d.bus})
    return ",".join(buses) or None


def set_memory(facts, unknown: dict[str, str], modules: list[int] | None,
               usable: int | None) -> None:
    """Installed (modules, or the estimate), usable and module count on ``facts``."""
    installed, origin, reason = installed_memory(modules, usable)
    facts.memory_installed_bytes, facts.memory_installed_source = installed, origin
    facts.memory_usable_bytes = usable
    facts.memory_module_count = len(modules) if modules else None
    if reason:
        unknown["memory_installed_bytes"] = reason


def set_os_disk(facts, unknown: dict[str, str], disks: list[PhysicalDisk],
                why: str | None) -> None:
    """The OS disk's devices, bus and media on ``facts``; unknown media says why."""
    facts.os_disk_devices = [d.name for d in disks]
    facts.os_disk_bus = os_disk_bus(disks)
    facts.os_disk_media, media_reason = os_disk_media(disks)
    if facts.os_disk_media is None:
        unknown["os_disk_media"] = why or media_reason or "unknown"
