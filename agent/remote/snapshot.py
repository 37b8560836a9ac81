"""The shell fallback for a Linux host without a usable python3: one POSIX sh script prints
the files the Linux probes read (base64), the sysfs links they follow and the mtimes they
compare; here they become a tree under a temporary root, and the same probes read it."""

from __future__ import annotations

import base64
import os
import posixpath
from pathlib import Path

from yte_compliance.agent.probes.antivirus_linux import PRODUCTS
from yte_compliance.agent.probes.hardware_linux import DEFAULT_TARGETS

# Files read as they are (symlinks followed): /proc, /etc, logs.
FILES = ("/proc/meminfo", "/proc/cpuinfo", "/etc/os-release", "/proc/sys/kernel/osrelease",
         "/proc/sys/kernel/hostname", "/proc/self/mountinfo", "/proc/net/if_inet6",
         "/proc/net/ipv6_route", "/sys/firmware/dmi/tables/DMI", "/etc/machine-id",
         "/var/lib/dbus/machine-id", "/proc/sys/net/ipv6/conf/all/disable_ipv6")

_SCRIPT = r"""
LC_ALL=C; export LC_ALL
command -v base64 >/dev/null 2>&1 || { echo "base64: command not found" >&2; exit 127; }
f() {  # files, links followed: F path, base64 lines, '='; X path when unreadable
  for p in "$@"; do
    [ -e "$p" ] || continue
    if d=$(base64 < "$p" 2>/dev/null); then printf 'F\t%s\n%s\n=\n' "$p" "$d"
    else printf 'X\t%s\n' "$p"; fi
  done
}
l() {  # sysfs entries as they are: L path target | D path
  for p in "$@"; do
    if [ -L "$p" ]; then printf 'L\t%s\t%s\n' "$p" "$(readlink "$p")"
    elif [ -d "$p" ]; then printf 'D\t%s\n' "$p"; fi
  done
}
n() {  # links read for their name only (systemd's default target): N path target
  for p in "$@"; do [ -L "$p" ] && printf 'N\t%s\t%s\n' "$p" "$(readlink "$p")"; done
}
m() {  # existence and modification time: M path seconds
  for p in "$@"; do
    [ -e "$p" ] && printf 'M\t%s\t%s\n' "$p" "$(date -r "$p" +%s 2>/dev/null || echo 0)"
  done
}
f @FILES@ /var/log/dpkg.log*
n @NAMES@
for n in /sys/class/net/*; do l "$n"; t=$(readlink -f "$n"); f "$t/address" "$t/type"; done
l /sys/dev/block/* /sys/class/block/* /sys/block/*
for b in /sys/class/block/*; do
  t=$(readlink -f "$b"); l "$t"
  f "$t/partition" "$t/queue/rotational" "$t/dm/name"
  l "$t/device" "$t"/slaves/*
  d=$(readlink -f "$t/device") && f "$d/vendor" "$d/model"
done
for p in /proc/[0-9]*; do f "$p/comm" "$p/cmdline"; done
m @PATHS@
exit 0
"""


def script() -> str:
    paths = sorted({p for prod in PRODUCTS for p in (*prod.paths, *prod.signatures)})
    return (_SCRIPT.replace("@FILES@", " ".join(FILES))
            .replace("@NAMES@", " ".join(DEFAULT_TARGETS))
            .replace("@PATHS@", " ".join(paths)))


class SnapshotError(ValueError):
    pass


MAX_ENTRY_BYTES = 16 << 20  # one file (the largest real one, a dpkg log, is a few MiB)
MAX_TOTAL_BYTES = 64 << 20  # the whole tree


def _target(root: Path, absolute: str) -> Path:
    """``absolute`` under ``root``, for writing. Refused, before anything is touched, when
    relative or not normal, or when it or any folder on the way is a link: nothing is
    ever written through a link, so a host cannot make this machine write outside."""
    norm = posixpath.normpath(absolute)
    if not absolute.startswith("/") or norm != absolute.rstrip("/") or norm == "/":
        raise SnapshotError(f"refused path {absolute!r}")
    path = root
    for part in norm.lstrip("/").split("/"):
        path = path / part
        if path.is_symlink():
            raise SnapshotError(f"refused path {absolute!r}: it goes through a link")
    return path


def _stays_inside(link: str, dest: str) -> bool:
    """Does the relative link at ``link`` (absolute, normal) point inside the tree?
    Counted, not normalised: "/../x" is outside here, though normpath makes it "/x"."""
    parts = link.strip("/").split("/")[:-1]
    for step in dest.split("/"):
        if step == "..":
            if not parts:
                return False
            parts.pop()
        elif step not in ("", "."):
            parts.append(step)
    return True


def materialize(text: str, root: Path) -> list[str]:
    """Write the script's output as a tree under ``root``; returns the unreadable paths.
    Links are recreated only when they stay inside the tree (a host cannot make the probes
    read this machine's files), and no write follows one (nor can it write elsewhere)."""
    unreadable: list[str] = []
    links: list[Path] = []
    written = 0
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        kind, _, rest = lines[i].partition("\t")
        i += 1
        if kind == "F":
            chunk, size = [], 0
            while i < len(lines) and lines[i] != "=":
                chunk.append(lines[i])
                size += len(lines[i])
                if size * 3 // 4 > MAX_ENTRY_BYTES:
                    raise SnapshotError(f"{rest[:80]!r}: larger than {MAX_ENTRY_BYTES >> 20} MiB")
                i += 1
            i += 1
            target = _target(root, rest)
            data = base64.b64decode("".join(chunk))
            written += len(data)
            if written > MAX_TOTAL_BYTES:
                raise SnapshotError(f"the snapshot is larger than {MAX_TOTAL_BYTES >> 20} MiB")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_dir():
                target.write_bytes(data)
        elif kind == "L":
            path, _, dest = rest.partition("\t")
            link = _target(root, path)
            if dest.startswith("/") or link.exists():
                continue
            if not _stays_inside(posixpath.normpath(path), dest):
                raise SnapshotError(f"refused link {path!r} → {dest!r}: leaves the snapshot")
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(dest, link)
            links.append(link)
        elif kind == "N":  # only its last part matters: a link beside it, inside the tree
            path, _, dest = rest.partition("\t")
            name = posixpath.basename(dest.rstrip("/"))
            link = _target(root, path)
            if name in ("", ".", "..") or link.exists() or link.is_symlink():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(name, link)
        elif kind == "D":
            _target(root, rest).mkdir(parents=True, exist_ok=True)
        elif kind == "M":
            path, _, seconds = rest.partition("\t")
            target = _target(root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.touch()
            try:
                stamp = float(seconds)
                os.utime(target, (stamp, stamp), follow_symlinks=False)
            except (ValueError, OverflowError, OSError):
                raise SnapshotError(f"bad time {seconds[:40]!r} for {path[:80]!r}") from None
        elif kind == "X":
            unreadable.append(rest)
            target = _target(root, rest)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.touch(mode=0)
        elif kind:
            raise SnapshotError(f"unexpected line {lines[i - 1][:80]!r}")
    top = root.resolve()
    for link in links:  # once all are written: a later link can redirect an earlier one
        if not link.resolve().is_relative_to(top):
            raise SnapshotError(f"refused link {link.relative_to(root)}: leaves the snapshot")
    return unreadable
