"""Linux parsers (IPv6, antivirus, patches, CPU, OS) and a whole collect on a recorded root."""

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from tests.trees import materialize
from yte_compliance.agent.collect import collect_report
from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.antivirus_linux import Process, match_products
from yte_compliance.agent.probes.hardware_linux import parse_cpuinfo, parse_os_release
from yte_compliance.agent.probes.ipv6 import classify
from yte_compliance.agent.probes.ipv6_linux import parse_default_route, parse_if_inet6
from yte_compliance.agent.probes.patches_linux import parse_dpkg_log, parse_rpm_installtimes
from yte_compliance.agent.runner import CommandNotFound, RecordedRunner, run
from yte_compliance.core.report import parse_report

FIX = Path(__file__).parent.parent / "fixtures/linux"


@pytest.mark.parametrize(
    ("address", "cls"),
    [("2402:800:1234::5", "global"), ("fe80::1", "link-local"), ("fd00::2", "unique-local"),
     ("2001:db8::1", "documentation"), ("2002:c000:204::1", "6to4"), ("2001:0:53aa::1", "teredo"),
     ("::1", "loopback"), ("ff02::1", "multicast"), ("fe80::1%eth0", "link-local")],
)
def test_ipv6_classes(address, cls):
    assert classify(address) == cls


def test_recorded_vm_has_route_but_no_global_address():
    addrs = parse_if_inet6((FIX / "proc/debian12-ci-vm.if_inet6").read_text())
    assert [(a, c) for a, c, dev in addrs if dev != "lo"] == [
        ("fe80:0000:0000:0000:00fc:00ff:fe00:0001", "link-local"),
        ("fd00:0000:0000:0000:0000:0000:0000:0002", "unique-local")]
    assert parse_default_route((FIX / "proc/debian12-ci-vm.ipv6_route").read_text()) is True


def test_kernel_unreachable_default_on_lo_is_not_a_route():
    text = (FIX / "proc/debian12-ci-vm.ipv6_route").read_text()
    only_lo = "\n".join(line for line in text.splitlines() if line.split()[-1] == "lo")
    assert parse_default_route(only_lo) is False


def test_antivirus_absent_is_false_not_unknown():
    facts = match_products([Process("sshd", "/usr/sbin/sshd")], set(), {})
    assert facts.products == [] and facts.any_running is False


def test_antivirus_installed_but_stopped_and_running_with_signatures():
    facts = match_products([Process("startd", "/opt/eset/efs/sbin/startd")],
                           {"/usr/bin/clamscan"}, {"/var/lib/clamav/daily.cld": 1.79e9})
    by_name = {p.name: p for p in facts.products}
    assert by_name["ClamAV"].running is False
    assert by_name["ESET Endpoint/Server Security"].running is True
    assert facts.any_running is True
    assert facts.signatures_updated_at is None  # ClamAV's date does not speak for ESET


def test_dpkg_log_newest_upgrade():
    text = ("2026-09-01 10:00:00 install foo:amd64 <none> 1\n"
            "2026-09-22 04:45:23 upgrade linux-libc-dev:amd64 6.1.140-1 6.1.187-1\n"
            "2026-09-10 08:00:00 upgrade bar:amd64 1 2\n")
    assert parse_dpkg_log(text) == dt.datetime(2026, 9, 22, 4, 45, 23)
    assert parse_dpkg_log("2026-09-01 10:00:00 install foo:amd64 <none> 1\n") is None
    assert parse_rpm_installtimes("1700000000\n1790000000\n(none)\n") == 1790000000.0


def test_cpuinfo_counts_cores_and_threads():
    block = ("processor\t: {p}\nmodel name\t: Intel(R) Core(TM) i5-4570\n"
             "physical id\t: 0\ncore id\t: {c}\n\n")
    text = "".join(block.format(p=p, c=p % 2) for p in range(4))  # 2 cores, 4 threads
    assert parse_cpuinfo(text) == ("Intel(R) Core(TM) i5-4570", 2, 4)
    assert parse_os_release('NAME="Ubuntu"\nVERSION_ID="22.04"\n') == ("Ubuntu", "22.04")


def test_whole_collect_on_a_recorded_root(tmp_path):
    disk = json.loads((FIX / "os-disk/linux-ubuntu2204-nvme-lvm.json").read_text())
    files = dict(disk["files"])
    files.update({
        "/proc/self/mountinfo": disk["mountinfo"],
        "/proc/meminfo": "MemTotal:        8012345 kB\n",  # 7.64 GiB visible of 8 GB
        "/proc/cpuinfo": "processor\t: 0\nmodel name\t: Intel(R) Pentium(R) G4560\n",
        "/etc/os-release": 'NAME="Ubuntu"\nVERSION_ID="22.04"\n',
        "/proc/sys/kernel/osrelease": "5.15.0-91-generic\n",
        "/proc/net/if_inet6": (FIX / "proc/debian12-ci-vm.if_inet6").read_text(),
        "/proc/net/ipv6_route": (FIX / "proc/debian12-ci-vm.ipv6_route").read_text(),
        "/proc/4242/comm": "clamd\n",
        "/proc/4242/cmdline": "/usr/sbin/clamd\0--foreground\0",
        "/usr/sbin/clamd": "",
        "/var/lib/clamav/daily.cld": "",
    })
    root = materialize(tmp_path, files, disk["links"])
    (root / "var/log").mkdir(parents=True)
    (root / "var/log/dpkg.log.2.gz").write_bytes(
        gzip.compress(b"2026-08-01 09:00:00 upgrade libc6:amd64 2.35-0 2.35-1\n"))
    nft = (FIX / "firewall/nft-input-policy-drop.nft.json").read_text()
    ctx = Context(root=root, run=RecordedRunner({"nft -j list ruleset": (0, nft, "")}),
                  now=lambda: 1_790_000_000.0)
    report = collect_report(ctx, platform="linux", site="tyt-xa-a", host_id="h-recorded",
                            hostname="pc-01")
    assert all(p.status == "ok" for p in report.probes.values()), report.probes
    again = parse_report(json.loads(json.dumps(report.to_json_obj())))  # the wire round trip
    f = again.flat_facts()
    assert f["hardware.memory_installed_bytes"] == 8 << 30
    assert f["hardware.memory_installed_source"] == "estimated"
    assert (f["hardware.os_disk_media"], f["hardware.os_disk_bus"]) == ("ssd", "nvme")
    assert f["firewall.inbound_filtering"] is True
    assert f["antivirus.any_running"] is True
    assert f["ipv6.default_route"] is True and f["ipv6.has_global_address"] is False
    assert f["patches.last_update_at"] == dt.datetime(2026, 8, 1, 9).timestamp()


def test_each_hardware_fact_fails_alone(tmp_path):
    """No /proc/cpuinfo (and an unreadable os-release): the CPU facts are unknown with the
    reason; memory and the OS disk are still read. Before, the whole probe failed."""
    disk = json.loads((FIX / "os-disk/linux-ubuntu2204-nvme-lvm.json").read_text())
    files = dict(disk["files"], **{"/proc/self/mountinfo": disk["mountinfo"],
                                   "/proc/meminfo": "MemTotal:        8012345 kB\n"})
    root = materialize(tmp_path, files, disk["links"])
    report = collect_report(Context(root=root), platform="linux", site="s", host_id="h",
                            hostname="pc")
    hw = report.probes["hardware"]
    assert hw.status == "ok", hw
    assert hw.facts.memory_installed_bytes == 8 << 30
    assert (hw.facts.os_disk_media, hw.facts.os_disk_bus) == ("ssd", "nvme")
    assert hw.facts.cpu_model is None and "cpuinfo" in hw.unknown["cpu_model"]


def test_a_recorded_root_runs_nothing_of_this_machine(tmp_path):
    """A tree without the root device's /sys entry: lsblk would describe the machine the
    agent runs on, so with an injected root nothing is run and the disk is unknown."""
    files = {"/proc/self/mountinfo": "22 1 259:2 / / rw,relatime - ext4 /dev/nvme0n1p2 rw\n",
             "/proc/meminfo": "MemTotal:        8012345 kB\n", "/proc/cpuinfo": "",
             "/etc/os-release": 'NAME="Ubuntu"\n'}
    root = materialize(tmp_path, files, {})
    ctx = Context(root=root)
    with pytest.raises(CommandNotFound, match="not run"):
        ctx.run(["lsblk", "-J"])
    assert Context().run is run and Context(root=root, run=run).run is run  # as given
    report = collect_report(ctx, platform="linux", site="s", host_id="h", hostname="pc")
    hw = report.probes["hardware"]
    assert hw.facts.os_disk_media is None and "os_disk_media" in hw.unknown


@pytest.mark.parametrize(("links", "role"), [
    ({"etc/systemd/system/default.target": "/lib/systemd/system/multi-user.target"}, "server"),
    ({"etc/systemd/system/default.target": "/usr/lib/systemd/system/graphical.target",
      "usr/lib/systemd/system/default.target": "multi-user.target"}, "workstation"),
    ({"lib/systemd/system/default.target": "graphical.target"}, "workstation"),  # the distro's
    ({"etc/systemd/system/default.target": "rescue.target"}, None),
    ({}, None),
])
def test_the_role_is_the_default_boot_target(tmp_path, links, role):
    """A desktop boots to graphical.target, a server to multi-user; the link is read, never
    followed (its target need not exist under the root)."""
    from yte_compliance.agent.probes.hardware_linux import default_target_role

    for name, dest in links.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).symlink_to(dest)
    found, source = default_target_role(Context(root=tmp_path))
    assert found == role and (source is None) == (role is None)
