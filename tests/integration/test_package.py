"""`yte package windows` without Windows: the MSI is built here with wixl, read back with
msitools (msiinfo, msiextract), its scripts checked with a PowerShell grammar, its
configuration read, and the enrollment it carries replayed against the real collector
(the PowerShell side from tests/fixtures/windows-requests/, the collector real)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import need_binary
from tests.fleet import ROOT, make_bed, serving
from tests.unit.test_powershell import parse_errors, ps3_constructs
from yte_compliance.cli import main as yte

FIXTURE = ROOT / "tests/fixtures/windows-requests/ps2-enroll-then-batch.json"
COLLECTOR = "https://yte.soyte.lamdong.example.vn:8746"


def msi_table(msi: Path, table: str) -> list[dict[str, str]]:
    out = subprocess.run([need_binary("msiinfo"), "export", str(msi), table],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    lines = out.splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=False)) for line in lines[3:]]


def make_ca(folder: Path) -> Path:
    """A department's private CA certificate (openssl, self-signed)."""
    ca = folder / "ca.pem"
    if not ca.exists():
        subprocess.run([need_binary("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(folder / "ca.key"),
                        "-out", str(ca), "-days", "30", "-subj", "/CN=So Y te CA"],
                       check=True, capture_output=True, timeout=60)
    return ca


def build(tmp_path: Path, bed, *extra: str) -> Path:
    need_binary("wixl")
    out = tmp_path / "yte-agent-tyt-xa-a.msi"
    make_ca(tmp_path)
    done = CliRunner().invoke(yte, ["package", "windows", "--site", "tyt-xa-a", "--collector",
                                    COLLECTOR, "--config", str(bed.config), "--ca",
                                    str(tmp_path / "ca.pem"), "--out", str(out), *extra])
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("package")
    bed = make_bed(folder / "c")
    msi = build(folder, bed)
    files = folder / "files"
    subprocess.run([need_binary("msiextract"), "-C", str(files), str(msi)], check=True,
                   capture_output=True, timeout=60)
    return bed, msi, files / "yte"


def test_the_msi_holds_the_agent_its_configuration_and_the_site_secret(package):
    bed, msi, files = package
    assert sorted(p.name for p in files.iterdir()) == [
        "agent.cfg", "collector-ca.crt", "enroll.secret", "install.ps1", "yte-agent-task.xml",
        "yte-agent.ps1"]
    assert (files / "agent.cfg").read_text().splitlines()[1:] == [
        "site=tyt-xa-a", f"collector={COLLECTOR}"]
    ca = (files / "collector-ca.crt").read_text()
    assert ca.startswith("-----BEGIN CERTIFICATE-----") and ca == (
        files.parent.parent / "ca.pem").read_text()
    # the secret is a live enrollment of this site in the collector's store
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import token_id_of, verify

    secret = (files / "enroll.secret").read_text()
    store = Store(bed.folder / "collector.db")
    info = store.enrollment(token_id_of(secret))
    store.close()
    assert info.site == "tyt-xa-a" and verify(secret, info.token)
    props = {r["Property"]: r["Value"] for r in msi_table(msi, "Property")}
    assert props["ProductName"] == "yte-compliance agent (tyt-xa-a)"
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["ProductVersion"])


def test_every_script_in_it_parses_and_runs_on_powershell_2(package):
    _, _, files = package
    for script in ("yte-agent.ps1", "install.ps1"):
        source = (files / script).read_bytes()
        assert parse_errors(source) == [], script
        assert ps3_constructs(source) == [], script


def test_the_task_runs_the_agent_as_system_from_where_it_is_installed(package):
    _, _, files = package
    xml = (files / "yte-agent-task.xml").read_bytes().decode("utf-16")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    assert "<UserId>S-1-5-18</UserId>" in xml
    assert r"<Command>%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe</Command>" in xml
    assert (r'-File "{install_dir}\yte-agent.ps1" -ConfigFile "{install_dir}\agent.cfg"' in xml)
    install = (files / "install.ps1").read_text()
    assert "$xml.Replace('{install_dir}'" in install  # filled in on the PC


def test_install_runs_as_system_and_uninstall_only_when_not_upgrading(package):
    _, msi, _ = package
    actions = {r["Action"]: r for r in msi_table(msi, "CustomAction")}
    # 50 (an exe named by a property) + deferred (1024) + as SYSTEM, no impersonation (2048)
    assert int(actions["YteInstall"]["Type"]) == 50 + 1024 + 2048
    assert int(actions["YteUninstall"]["Type"]) == 50 + 1024 + 2048 + 64  # errors ignored
    assert actions["YteInstall"]["Target"].endswith('install.ps1" -Install')
    sequence = {r["Action"]: r for r in msi_table(msi, "InstallExecuteSequence")}
    order = {a: int(r["Sequence"]) for a, r in sequence.items()}
    assert order["InstallInitialize"] < order["YteUninstall"] < order["RemoveFiles"]
    assert order["InstallFiles"] < order["YteInstall"] < order["InstallFinalize"]
    assert order["InstallFinalize"] < order["RemoveExistingProducts"]
    assert sequence["YteUninstall"]["Condition"] == 'REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE'
    upgrade = msi_table(msi, "Upgrade")[0]
    assert upgrade["ActionProperty"] == "YTEPREVIOUS" and upgrade["VersionMin"] == "0.0.0"


def test_a_newer_package_shares_its_components_so_an_upgrade_keeps_the_files(package, tmp_path):
    bed, msi, _ = package
    again = build(tmp_path, bed)
    ids = {r["Component"]: r["ComponentId"] for r in msi_table(msi, "Component")}
    assert ids == {r["Component"]: r["ComponentId"] for r in msi_table(again, "Component")}
    codes = [{r["Property"]: r["Value"] for r in msi_table(m, "Property")} for m in (msi, again)]
    assert codes[0]["UpgradeCode"] == codes[1]["UpgradeCode"]
    assert codes[0]["ProductCode"] != codes[1]["ProductCode"]


def test_the_install_script_keeps_the_key_on_upgrade_and_leaves_nothing_on_removal(package):
    """What only Windows can run, read: the secret is moved out of Program Files and not
    copied where the PC has its key; uninstall ends the task and any run, removes the data."""
    _, _, files = package
    install = (files / "install.ps1").read_text()
    assert "if (-not (Test-Path (Join-Path $Data 'host.key')))" in install
    assert "Remove-Item -Force $secret" in install
    for step in ("schtasks /End /TN $Task", "schtasks /Delete /TN $Task /F",
                 "[void]$p.Terminate()", "certutil -delstore Root",
                 "Remove-Item -Recurse -Force $Data"):
        assert step in install, step
    assert "'*S-1-5-18:F', '*S-1-5-32-544:F'" in install  # SYSTEM and Administrators, by SID


def test_the_recorded_enrollment_and_batch_against_the_real_collector(package):
    """The PowerShell side replayed: enrollment with the package's secret, the key parsed
    with the script's own pattern, the spooled batch sent with it; a copy of the package
    cannot enroll the same PC again."""
    from tests.unit.test_windows_batches import envelope

    bed, _, files = package
    script = (files / "yte-agent.ps1").read_text()
    pattern = re.search(r"\[regex\]::Match\(\$answer, '([^']+)'\)", script).group(1)
    batch = envelope()
    values = {"enrollment_secret": (files / "enroll.secret").read_text(),
              "host_id": batch["host_id"]}
    with serving(bed.config):
        for request in json.loads(FIXTURE.read_text())["requests"]:
            headers = {k: v.format(**values) for k, v in request["headers"].items()}
            body = (json.dumps(batch) if "body_from_case" in request
                    else request["body"].replace("{host_id}", values["host_id"]))
            req = urllib.request.Request(bed.url + request["path"], data=body.encode(),  # noqa: S310
                                         method=request["method"], headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
                    status, answer = r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                status, answer = e.code, e.read().decode()
            assert status == request["expect_status"], (request["what"], answer)
            if request["path"] == "/api/v1/enroll" and status == 201:
                values["host_key"] = re.search(pattern, answer).group(1)
    # the batch was stored under the PC's own id, taken with its key
    from yte_compliance.collector.store import Store

    store = Store(bed.folder / "collector.db")
    try:
        assert store.host_key_of(batch["host_id"]).active
        assert store.report_count("tyt-xa-a") == 1
    finally:
        store.close()
