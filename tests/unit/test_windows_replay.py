"""The real Windows probes on recorded machines (tests/fixtures/windows/<case>/)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from yte_compliance.agent.replay import replay_windows
from yte_compliance.core.report import parse_report

CASES = sorted(p for p in (Path(__file__).parent.parent / "fixtures/windows").iterdir()
               if p.is_dir())
NOW = 1_795_500_000.0


def test_the_issue_cases_are_all_here():
    names = {c.name for c in CASES}
    for needed in ("defender-on-current", "kaspersky-on-defender-passive",
                   "bkav-signatures-out-of-date", "no-antivirus", "winserver2019-no-security-center",
                   "hdd-system-disk", "nvme-ssd", "virtual-disk-unspecified",
                   "vietnamese-netsh", "firewall-public-off"):
        assert any(needed in n for n in names), needed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_replay(case):
    check_case(case)


def check_case(case: Path) -> None:
    """A case folder replays to its case.json: any new folder, constructed or captured
    (`yte agent capture`), is checked with no code change."""
    spec = json.loads((case / "case.json").read_text(encoding="utf-8"))
    assert spec["windows"] and spec["product"] and spec["origin"]
    report = replay_windows(case, "tyt-xa-a", NOW)
    statuses = {name: p.status for name, p in report.probes.items()}
    assert statuses == spec["expected_status"], {n: p.reason for n, p in report.probes.items()}
    facts = parse_report(json.loads(json.dumps(report.to_json_obj()))).flat_facts()
    for fact, expected in spec["expected"].items():
        got = facts[fact]
        if fact == "antivirus.products":
            got = [p["name"] for p in got]
        assert got == expected, f"{case.name}: {fact}"
    assert report.platform == "windows" and report.source == "replay"
    assert report.host_id.startswith("h")
    assert report.hostname == spec.get("hostname", "TYT-XA-A-PC01")


def test_unknown_disk_says_why():
    case = next(c for c in CASES if "virtual-disk" in c.name)
    report = replay_windows(case, "s", NOW)
    assert "virtual disk" in report.probes["hardware"].unknown["os_disk_media"]


def test_passive_defender_does_not_count_and_does_not_mask_kaspersky():
    case = next(c for c in CASES if "kaspersky" in c.name)
    products = {p.name: p for p in replay_windows(case, "s", NOW).probes["antivirus"].facts.products}
    assert products["Kaspersky Endpoint Security for Windows"].running is True
    assert products["Windows Defender"].running is False
    assert "Passive Mode" in products["Windows Defender"].detail
    assert len(products) == 2  # Defender listed once, not twice


def test_server_without_security_center_and_nothing_known_is_unknown_with_reason():
    case = next(c for c in CASES if "nothing-known" in c.name)
    av = replay_windows(case, "s", NOW).probes["antivirus"]
    assert av.status == "unknown" and "Security Center" in av.reason


def test_cli_replay(tmp_path):
    case = next(c for c in CASES if "defender-on-current" in c.name)
    out = subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "collect", "--json",
                          "--replay", str(case)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    report = parse_report(json.loads(out.stdout))
    assert report.flat_facts()["hardware.os_disk_media"] == "ssd"
