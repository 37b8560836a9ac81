"""This installation of yte-compliance as a wheel, to carry to a host: the files that run
here, repacked with a fresh RECORD (a wheel install keeps every file the wheel held)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "yte-compliance"
_DROPPED = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}  # written by the installer
_STAMP = (2026, 1, 1, 0, 0, 0)  # fixed: the same files give the same bytes


class NotRepackable(Exception):
    """An editable install: its code is a checkout, not installed files."""


def editable_checkout(dist: metadata.Distribution) -> Path | None:
    """The source folder of an editable install (PEP 610), else None."""
    raw = dist.read_text("direct_url.json")
    if not raw:
        return None
    info = json.loads(raw)
    if not info.get("dir_info", {}).get("editable"):
        return None
    url = info.get("url", "")
    return Path(url.removeprefix("file://")) if url.startswith("file://") else None


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(out_dir: Path, dist: metadata.Distribution | None = None) -> Path:
    """Write ``yte_compliance-VERSION-py3-none-any.whl`` into ``out_dir`` from the files
    this installation recorded (console scripts and caches left out: the host's
    installer writes its own)."""
    dist = dist or metadata.distribution(DISTRIBUTION)
    if editable_checkout(dist) is not None:
        raise NotRepackable("an editable install: build the wheel from its checkout")
    version = dist.version
    info_dir = f"yte_compliance-{version}.dist-info"
    members = []
    for rel in dist.files or []:
        parts = rel.parts
        if parts[0] == ".." or "__pycache__" in parts or rel.suffix == ".pyc":
            continue
        if parts[0] == info_dir and rel.name in _DROPPED:
            continue
        members.append((rel.as_posix(), Path(dist.locate_file(rel)).read_bytes()))
    if not any(name.startswith("yte_compliance/") for name, _ in members):
        raise NotRepackable(f"{DISTRIBUTION} lists no installed files")
    record = [f"{name},{_digest(data)},{len(data)}" for name, data in members]
    record.append(f"{info_dir}/RECORD,,")
    members.append((f"{info_dir}/RECORD", ("\n".join(record) + "\n").encode()))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"yte_compliance-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(members, key=lambda m: (m[0].startswith(info_dir), m[0])):
            z.writestr(zipfile.ZipInfo(name, _STAMP), data, zipfile.ZIP_DEFLATED)
    return path
