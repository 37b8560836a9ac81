"""`yte agent capture`: a Windows PC (here, recorded ones) written as a fixture case the
replay test accepts, with the PC's names replaced by stable pseudonyms."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.test_windows_replay import check_case
from yte_compliance.agent.capture import MACHINE_SCRIPT, capture_here
from yte_compliance.agent.probes.windows import NETSH_FIREWALL, collect_argv, powershell_argv
from yte_compliance.agent.replay import batch_from_folder, replay_windows
from yte_compliance.agent.runner import RecordedRunner
from yte_compliance.cli import main

WINDOWS = Path(__file__).parent.parent / "fixtures/windows"
NOW = 1_795_500_000.0
MACHINE = {"oem_code_page": 1258, "ansi_code_page": 1258, "culture": "vi-VN",
           "ui_culture": "vi-VN", "powershell": "5.1.19041.5129"}


def recorded_pc(case: str) -> RecordedRunner:
    folder = WINDOWS / case
    netsh = folder / "netsh.txt"
    return RecordedRunner({
        " ".join(powershell_argv(MACHINE_SCRIPT)): (0, json.dumps(MACHINE), ""),
        " ".join(collect_argv()): (0, json.dumps(batch_from_folder(folder)), ""),
        " ".join(NETSH_FIREWALL): (0, netsh.read_text("utf-8") if netsh.exists() else "", ""),
    })


def facts_without_names(report):
    facts = report.flat_facts()
    return {k: v for k, v in facts.items()
            if k not in ("hardware.mac_addresses", "ipv6.addresses")}


@pytest.mark.parametrize("case", ["win10-22h2-vietnamese-netsh-fallback", "win11-23h2-ipv6-ready"])
def test_a_captured_pc_replays_to_the_same_facts_under_pseudonyms(tmp_path, case):
    folder = capture_here(recorded_pc(case), tmp_path / "case", clock=lambda: NOW)
    check_case(folder)  # the replay test's own check, as for any folder in fixtures/
    spec = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    assert spec["captured"] is True and spec["origin"].startswith("captured on ")
    assert "culture vi-VN" in spec["windows"] and "OEM 1258" in spec["windows"]
    original, captured = replay_windows(WINDOWS / case, "s", NOW), replay_windows(folder, "s", NOW)
    assert facts_without_names(captured) == facts_without_names(original)
    classes = [a.rsplit("/", 1)[1] for a in captured.flat_facts()["ipv6.addresses"]]
    assert classes == [a.rsplit("/", 1)[1] for a in original.flat_facts()["ipv6.addresses"]]
    text = "\n".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    guids = json.loads((WINDOWS / case / "machine_guid.json").read_text())
    macs = [a["MacAddress"] for a in json.loads((WINDOWS / case / "adapters.json").read_text())]
    for secret in ("TYT-XA-A-PC01", *guids, *macs):
        assert secret not in text, secret
    again = capture_here(recorded_pc(case), tmp_path / "again", clock=lambda: NOW)
    assert (again / "adapters.json").read_text() == (folder / "adapters.json").read_text()


def test_the_windows_7_script_capture_folder_becomes_a_case(tmp_path):
    source = WINDOWS / "win7-sp1-ps2-no-tls12-vietnamese-dates"
    batch = batch_from_folder(source)
    batch.pop("machine_guid")  # the script sends its derived host id instead
    ps2 = tmp_path / "ps2"
    ps2.mkdir()
    (ps2 / "batch.json").write_text(json.dumps({
        "schema": 1, "report_id": "0f0f0f0f-0000-4000-8000-000000000001", "site": "tyt-xa-a",
        "host_id": "h0123456789abcde", "hostname": "TYT-XA-A-PC01",
        "collected_at": "2026-11-20T01:00:00.0000000Z", "agent_version": "ps2-0.2.0",
        "batch": batch}), encoding="utf-8")
    (ps2 / "machine.json").write_text(json.dumps({**MACHINE, "powershell": "2.0",
                                                  "netsh": "Ok.\n"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["agent", "capture", "--out", str(tmp_path / "case"),
                                       "--from-ps2", str(ps2)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "case"
    check_case(folder)
    facts = replay_windows(folder, "s", NOW).flat_facts()
    assert facts["transport.tls12"] is False and facts["patches.last_update_at"] == 1583107200.0


def test_capture_refuses_a_folder_in_use_and_a_non_windows_pc(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("keep")
    result = CliRunner().invoke(main, ["agent", "capture", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "not empty" in result.output
    result = CliRunner().invoke(main, ["agent", "capture", "--out", str(tmp_path / "y")])
    assert result.exit_code != 0 and "Windows" in result.output
