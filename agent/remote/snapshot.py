"""The shell fallback for a Linux host without a usable python3: one POSIX sh script prints
the files the Linux probes read (base64), the sysfs links they follow and the mtimes they
compare; here they become a tree under a temporary root, and the same probes read it."""

from __future__ import annotations

import base64
import os
import posixpath
from pathlib import Path

from yte_compliance.agent.probes.antivirus_linux import PRODUCTS

# Files read as they are (symlinks followed): /proc, /etc, logs.
FILES = ("/proc/meminfo", "/proc/cpuinfo", "/etc/os-release", "/proc/sys/kernel/osrelease",
         "/proc/sys/kernel/hostname", "/proc/self/mountinfo", "/proc/net/if_inet6",
         "/proc/net/ipv6_route", "/sys/firmware/dmi/tables/DMI", "/etc/machine-id",
         "/var/lib/dbus/machine-id")

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
m() {  # existence and modification time: M path seconds
  for p in "$@"; do
    [ -e "$p" ] && printf 'M\t%s\t%s\n' "$p" "$(date -r "$p" +%s 2>/dev/null || echo 0)"
  done
}
f @FILES@ /var/log/dpkg.log*
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
            .replace("@PATHS@", " ".join(paths)))


class SnapshotError(ValueError):
    pass


def _inside(root: Path, absolute: str) -> Path:
    """``absolute`` under ``root``, refused when relative, not normal, or when what is
    already there (links written earlier) would take it out of the tree."""
    norm = posixpath.normpath(absolute)
    if not absolute.startswith("/") or norm != absolute.rstrip("/"):
        raise SnapshotError(f"refused path {absolute!r}")
    path = root / norm.lstrip("/")
    if not path.parent.resolve().is_relative_to(root.resolve()):
        raise SnapshotError(f"refused path {absolute!r}: leaves the snapshot")
    return path


def materialize(text: str, root: Path) -> list[str]:
    """Write the script's output as a tree under ``root``; returns the unreadable paths.
    Links are recreated only when they stay inside the tree (a host cannot make the probes
    read this machine's files)."""
    unreadable: list[str] = []
    links: list[Path] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        kind, _, rest = lines[i].partition("\t")
        i += 1
        if kind == "F":
            chunk = []
            while i < len(lines) and lines[i] != "=":
                chunk.append(lines[i])
                i += 1
            i += 1
            target = _inside(root, rest)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.is_symlink() and not target.is_dir():
                target.write_bytes(base64.b64decode("".join(chunk)))
        elif kind == "L":
            path, _, dest = rest.partition("\t")
            link = _inside(root, path)
            if dest.startswith("/") or link.is_symlink() or link.exists():
                continue
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(dest, link)
            links.append(link)
        elif kind == "D":
            _inside(root, rest).mkdir(parents=True, exist_ok=True)
        elif kind == "M":
            path, _, seconds = rest.partition("\t")
            target = _inside(root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.touch()
            os.utime(target, (float(seconds), float(seconds)), follow_symlinks=False)
        elif kind == "X":
            unreadable.append(rest)
            target = _inside(root, rest)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch(mode=0)
        elif kind:
            raise SnapshotError(f"unexpected line {lines[i - 1][:80]!r}")
    top = root.resolve()
    for link in links:  # once all are written: a later link can redirect an earlier one
        if not link.resolve().is_relative_to(top):
            raise SnapshotError(f"refused link {link.relative_to(root)}: leaves the snapshot")
    return unreadable
