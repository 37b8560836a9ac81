"""The disk holding the OS, through partitions, LVM, dm-crypt, md RAID, NVMe and eMMC,
from recorded /sys trees and lsblk outputs (one fixture file per machine)."""

import json
from pathlib import Path

import pytest

from tests.trees import materialize
from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.hardware import PhysicalDisk, os_disk_bus, os_disk_media
from yte_compliance.agent.probes.hardware_linux import find_os_disks, lsblk_os_disks
from yte_compliance.agent.runner import RecordedRunner

CASES = sorted((Path(__file__).parent.parent / "fixtures/linux/os-disk").glob("*.json"))


def _load(path: Path) -> dict:
    case = json.loads(path.read_text())
    assert case["origin"] and case["description"]  # every fixture says what it is
    return case


def _check(disks, expected, reason):
    media, media_reason = os_disk_media(disks)
    assert [d.name for d in disks] == expected["devices"]
    assert media == expected["media"]
    assert os_disk_bus(disks) == expected["bus"]
    if expected["media"] is None:
        assert expected["reason_has"] in (reason or media_reason)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_sysfs(path, tmp_path):
    case = _load(path)
    files = dict(case["files"], **{"/proc/self/mountinfo": case["mountinfo"]})
    root = materialize(tmp_path, files, case["links"])
    # no lsblk recorded for the /sys path: it must resolve on its own
    disks, reason = find_os_disks(Context(root=root, run=RecordedRunner({})))
    _check(disks, case["expected"], reason)


LSBLK = [p for p in CASES if "lsblk" in json.loads(p.read_text())]


@pytest.mark.parametrize("path", LSBLK, ids=[p.stem for p in LSBLK])
def test_lsblk_gives_the_same_answer(path):
    case = _load(path)
    disks = lsblk_os_disks(json.dumps(case["lsblk"]))
    _check(disks, case["expected"], None)


def test_lsblk_is_the_fallback_when_sysfs_cannot_tell(tmp_path):
    case = _load(Path(__file__).parent.parent / "fixtures/linux/os-disk/linux-ubuntu2204-nvme-lvm.json")
    root = materialize(tmp_path, {"/proc/self/mountinfo": case["mountinfo"]}, {})  # no /sys
    argv = "lsblk -J -o NAME,TYPE,ROTA,TRAN,MOUNTPOINT,MODEL,VENDOR"
    runner = RecordedRunner({argv: (0, json.dumps(case["lsblk"]), "")})
    disks, reason = find_os_disks(Context(root=root, run=runner))
    assert [d.name for d in disks] == ["nvme0n1"] and reason is None
    assert runner.calls == [argv]


@pytest.mark.parametrize(
    ("disks", "media"),
    [
        ([PhysicalDisk("nvme0n1", "nvme", rotational=True)], "ssd"),  # NVMe is flash by design
        ([PhysicalDisk("sda", "sata", rotational=False)], "ssd"),
        ([PhysicalDisk("sda", "sata", rotational=False), PhysicalDisk("sdb", "sata", True)], "hdd"),
        ([PhysicalDisk("sda", "sata", rotational=None)], None),  # unreadable is unknown, not SSD
        ([PhysicalDisk("vda", "virtio", rotational=False, virtual=True)], None),
        ([PhysicalDisk("sda", "sata", False), PhysicalDisk("vdb", "virtio", False, True)], None),
        ([], None),
    ],
)
def test_media_rule(disks, media):
    assert os_disk_media(disks)[0] == media
