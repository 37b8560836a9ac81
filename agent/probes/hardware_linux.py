"""Hardware on Linux: /proc, SMBIOS and /sys (lsblk as fallback), each parsed by a pure function."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yte_compliance.agent.probe import Context, Observed
from yte_compliance.agent.probes.hardware import PhysicalDisk, set_memory, set_os_disk
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import HardwareFacts

# ---- memory ----------------------------------------------------------------------------


def parse_meminfo(text: str) -> int | None:
    m = re.search(r"^MemTotal:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) * 1024 if m else None


def parse_smbios_memory(table: bytes) -> list[int] | None:
    """Sizes (bytes) of the populated memory modules in a raw SMBIOS table
    (/sys/firmware/dmi/tables/DMI), per DMTF DSP0134 types 16 and 17.

    Only modules of arrays used as system memory count (type 16 'Use' = 03h) when such
    arrays are listed. None when a module's size is unknown (FFFFh) or none is listed.
    """
    system_arrays: set[int] = set()
    any_array = False
    modules: list[tuple[int, int]] = []  # (array handle, bytes)
    i = 0
    while i + 4 <= len(table):
        kind, length = table[i], table[i + 1]
        if length < 4 or i + length > len(table):
            break
        body = table[i:i + length]
        end = table.find(b"\0\0", i + length)
        if end < 0:
            break
        handle = int.from_bytes(body[2:4], "little")
        if kind == 16 and length >= 0x07:
            any_array = True
            if body[0x05] == 0x03:
                system_arrays.add(handle)
        elif kind == 17 and length >= 0x0E:
            array = int.from_bytes(body[0x04:0x06], "little")
            size = int.from_bytes(body[0x0C:0x0E], "little")
            if size == 0xFFFF:
                return None
            if size == 0x7FFF and length >= 0x20:
                size_bytes = (int.from_bytes(body[0x1C:0x20], "little") & 0x7FFFFFFF) << 20
            elif size & 0x8000:
                size_bytes = (size & 0x7FFF) << 10
            else:
                size_bytes = size << 20
            if size_bytes:
                modules.append((array, size_bytes))
        elif kind == 127:
            break
        i = end + 2
    sizes = [b for a, b in modules if not any_array or a in system_arrays]
    return sizes or None


# ---- cpu and os ------------------------------------------------------------------------


def parse_cpuinfo(text: str) -> tuple[str | None, int | None, int | None]:
    """(model, physical cores, logical threads)."""
    model = None
    threads = 0
    cores: set[tuple[str, str]] = set()
    phys = core = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            threads += 1
            phys = core = None
        elif key in ("model name", "Model", "cpu model") and model is None:
            model = value
        elif key == "physical id":
            phys = value
        elif key == "core id":
            core = value
        if phys is not None and core is not None:
            cores.add((phys, core))
    return model, (len(cores) or threads or None), (threads or None)


def parse_os_release(text: str) -> tuple[str | None, str | None]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values.get("NAME"), values.get("VERSION_ID") or values.get("VERSION")


_TARGET_ROLES = {"graphical.target": "workstation", "multi-user.target": "server"}
DEFAULT_TARGETS = ("/etc/systemd/system/default.target", "/usr/lib/systemd/system/default.target",
                    "/lib/systemd/system/default.target")


def default_target_role(ctx: Context) -> tuple[str | None, str | None]:
    """A PC someone works at boots to a desktop; a server boots to multi-user. The admin's
    choice (/etc) first, else the distribution's default; a link only, never followed."""
    for name in DEFAULT_TARGETS:
        try:
            target = Path(os.readlink(ctx.path(name))).name
        except OSError:
            continue
        role = _TARGET_ROLES.get(target)
        return role, (f"{name} -> {target}" if role else None)
    return None, None


# ---- the disk holding the operating system ----------------------------------------------


@dataclass(frozen=True)
class RootMount:
    majmin: str
    fstype: str
    source: str


_NOT_A_DISK = {"overlay", "tmpfs", "rootfs", "ramfs", "nfs", "nfs4", "cifs", "9p",
               "virtiofs", "fuse", "aufs", "squashfs"}
_VIRTUAL_VENDORS = ("qemu", "vmware", "vbox", "virtual", "msft", "xen", "red hat",
                    "amazon elastic block store", "persistentdisk", "google")


def parse_root_mount(mountinfo: str) -> RootMount | None:
    """The mount at '/' (the last one, as later mounts hide earlier ones)."""
    found = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        parts = left.split()
        rparts = right.split()
        if sep and len(parts) >= 5 and parts[4] == "/" and len(rparts) >= 2:
            found = RootMount(parts[2], rparts[0], rparts[1])
    return found


def _looks_virtual(*words: str | None) -> bool:
    text = " ".join(w for w in words if w).lower()
    return any(v in text for v in _VIRTUAL_VENDORS)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None


def _sysfs_disk(dev: Path) -> PhysicalDisk:
    name = dev.name
    parts = dev.parts
    rota = _read(dev / "queue" / "rotational")
    vendor, model = _read(dev / "device" / "vendor"), _read(dev / "device" / "model")
    if name.startswith("nvme"):
        bus = "nvme"
    elif name.startswith("mmcblk"):
        bus = "mmc"
    elif any(p.startswith("virtio") for p in parts):
        bus = "virtio"
    elif any(p.startswith("usb") for p in parts):
        bus = "usb"
    elif any(re.fullmatch(r"ata\d+", p) for p in parts):
        bus = "sata"
    elif any(p.startswith("vbd-") for p in parts):
        bus = "xen"
    else:
        bus = "scsi" if any(p.startswith("host") for p in parts) else None
    virtual = (bus in ("virtio", "xen") or "virtual" in parts
               or _looks_virtual(vendor, model))
    return PhysicalDisk(name=name, bus=bus, rotational=None if rota is None else rota == "1",
                        virtual=virtual, model=" ".join(w for w in (vendor, model) if w) or None)


def _sysfs_leaves(dev: Path, sysroot: Path, depth: int = 0) -> list[PhysicalDisk]:
    if depth > 16:
        raise ValueError("block device stack deeper than 16 levels")
    if (dev / "partition").exists():
        dev = dev.parent
    slaves = dev / "slaves"
    lower = sorted(p for p in slaves.iterdir() if p.is_symlink()) if slaves.is_dir() else []
    if not lower:
        return [_sysfs_disk(dev)]
    disks: list[PhysicalDisk] = []
    for link in lower:
        for d in _sysfs_leaves(link.resolve(), sysroot, depth + 1):
            if d not in disks:
                disks.append(d)
    return disks


def sysfs_os_disks(root: Path, mount: RootMount) -> list[PhysicalDisk]:
    """Follow the root file system's device through partitions, dm (LVM, LUKS) and md
    RAID down to the physical disks, reading /sys under ``root``."""
    sysroot = root / "sys"
    if not mount.majmin.startswith("0:"):
        dev = (sysroot / "dev" / "block" / mount.majmin).resolve()
    else:  # btrfs and friends: an anonymous device; go by the mount source instead
        dev = _dev_from_source(sysroot, mount.source)
    if dev is None or not dev.exists():
        raise LookupError(f"no /sys entry for the root device {mount.source} ({mount.majmin})")
    return _sysfs_leaves(dev, sysroot)


def _dev_from_source(sysroot: Path, source: str) -> Path | None:
    if source.startswith("/dev/mapper/"):
        wanted = source.removeprefix("/dev/mapper/")
        for dm in sorted((sysroot / "block").glob("dm-*")):
            if _read(dm / "dm" / "name") == wanted:
                return dm.resolve()
        return None
    if source.startswith("/dev/") and "/" not in source.removeprefix("/dev/"):
        return (sysroot / "class" / "block" / source.removeprefix("/dev/")).resolve()
    return None


def lsblk_os_disks(text: str) -> list[PhysicalDisk]:
    """The same resolution from `lsblk -J -o NAME,TYPE,ROTA,TRAN,MOUNTPOINT,MODEL,VENDOR`:
    the top-level disks of every branch that reaches the '/' mount."""
    tree = json.loads(text).get("blockdevices") or []
    found: list[PhysicalDisk] = []

    def holds_root(node: dict) -> bool:
        points = node.get("mountpoints") or [node.get("mountpoint")]
        if "/" in points:
            return True
        return any(holds_root(c) for c in node.get("children") or [])

    for top in tree:
        if top.get("type") in ("disk", "loop", "rom") and holds_root(top):
            rota = top.get("rota")
            rotational = None if rota is None else rota in (True, "1", 1)
            name, tran = top.get("name", "?"), top.get("tran")
            bus = tran or ("nvme" if name.startswith("nvme") else "mmc" if
                           name.startswith("mmcblk") else "virtio" if name.startswith("vd")
                           else "xen" if name.startswith("xvd") else None)
            virtual = (bus in ("virtio", "xen") or top.get("type") == "loop"
                       or _looks_virtual(top.get("vendor"), top.get("model")))
            model = " ".join(str(w).strip() for w in (top.get("vendor"), top.get("model")) if w)
            disk = PhysicalDisk(name, bus, rotational, virtual, model or None)
            if disk not in found:
                found.append(disk)
    return found


def find_os_disks(ctx: Context) -> tuple[list[PhysicalDisk], str | None]:
    """(disks, reason when none found): /sys first, lsblk when /sys cannot tell."""
    mount = parse_root_mount(ctx.read_text("/proc/self/mountinfo"))
    if mount is None:
        return [], "no '/' mount in /proc/self/mountinfo"
    if mount.fstype in _NOT_A_DISK:
        return [], f"root file system is {mount.fstype} (container or network root), " \
                   "not a local disk"
    try:
        return sysfs_os_disks(ctx.root, mount), None
    except (OSError, LookupError, ValueError) as e:
        sysfs_reason = str(e)
    try:
        result = ctx.run(["lsblk", "-J", "-o", "NAME,TYPE,ROTA,TRAN,MOUNTPOINT,MODEL,VENDOR"])
        disks = lsblk_os_disks(result.stdout) if result.ok else []
    except (CommandError, ValueError):
        disks = []
    return disks, (None if disks else sysfs_reason)


def physical_macs(net: Path) -> list[str]:
    """MACs of the Ethernet interfaces (ARPHRD_ETHER, type 1), loopback aside. An extra
    one (a bridge, a container's veth) can only match a device seen on the LAN."""
    out = []
    for dev in sorted(net.iterdir()) if net.is_dir() else []:
        mac = _read(dev / "address")
        if dev.name == "lo" or _read(dev / "type") != "1" or not mac:
            continue
        if mac != "00:00:00:00:00:00" and mac.lower() not in out:
            out.append(mac.lower())
    return out


# ---- the probe ---------------------------------------------------------------------------


def _each(unknown: dict[str, str], facts: tuple[str, ...], read: Callable[[], None]) -> None:
    """One group of facts read from its own sources: a file missing or unreadable loses
    that group only, each of its facts unknown with the reason."""
    try:
        read()
    except (OSError, ValueError, IndexError, UnicodeError) as e:
        why = (f"{e.filename}: {e.strerror}" if isinstance(e, OSError) and e.filename
               else f"{type(e).__name__}: {e}")
        for fact in facts:
            unknown.setdefault(fact, why)


def collect(ctx: Context) -> Observed:
    facts = HardwareFacts(os_family="linux")
    unknown: dict[str, str] = {}

    def memory() -> None:
        modules = None
        try:
            modules = parse_smbios_memory(ctx.path("/sys/firmware/dmi/tables/DMI").read_bytes())
        except FileNotFoundError:
            pass
        except PermissionError:
            unknown["memory_module_count"] = "SMBIOS table readable by root only"
        try:
            usable = parse_meminfo(ctx.read_text("/proc/meminfo"))
        except OSError:
            usable = None
            unknown["memory_usable_bytes"] = "/proc/meminfo unreadable"
        set_memory(facts, unknown, modules, usable)
        if modules is None and "memory_module_count" not in unknown:
            unknown["memory_module_count"] = "no SMBIOS memory devices listed (virtual machine?)"

    def cpu() -> None:
        facts.cpu_model, facts.cpu_cores, facts.cpu_threads = parse_cpuinfo(
            ctx.read_text("/proc/cpuinfo"))

    def os_release() -> None:
        try:
            facts.os_name, facts.os_version = parse_os_release(ctx.read_text("/etc/os-release"))
        except FileNotFoundError:
            unknown["os_name"] = "/etc/os-release missing"
        facts.os_build = _read(ctx.path("/proc/sys/kernel/osrelease"))

    def role() -> None:
        facts.system_role, facts.system_role_source = default_target_role(ctx)
        if facts.system_role is None:
            unknown["system_role"] = "no systemd default.target (or an unusual one)"

    def macs() -> None:
        facts.mac_addresses = physical_macs(ctx.path("/sys/class/net"))

    def os_disk() -> None:
        disks, why = find_os_disks(ctx)
        set_os_disk(facts, unknown, disks, why)

    _each(unknown, ("memory_installed_bytes", "memory_installed_source", "memory_usable_bytes",
                    "memory_module_count"), memory)
    _each(unknown, ("cpu_model", "cpu_cores", "cpu_threads"), cpu)
    _each(unknown, ("os_name", "os_version", "os_build"), os_release)
    _each(unknown, ("system_role", "system_role_source"), role)
    _each(unknown, ("mac_addresses",), macs)
    _each(unknown, ("os_disk_media", "os_disk_bus", "os_disk_devices"), os_disk)
    return Observed(facts, unknown)
