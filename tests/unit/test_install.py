"""`yte agent install`: the systemd unit and the Windows scheduled task it would install."""

import configparser
import subprocess
import sys
import xml.etree.ElementTree as ET

from yte_compliance.agent.install import UNIT_PATH, execute, install_plan, uninstall_plan
from yte_compliance.agent.runner import RecordedRunner

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}


def cli(*args):
    out = subprocess.run([sys.executable, "-m", "yte_compliance", "agent", *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_dry_run_prints_the_systemd_unit(tmp_path):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("site: tyt-xa-a\ninterval_seconds: 600\nspool_dir: /var/lib/yte/spool\n")
    text = cli("install", "--dry-run", "--platform", "linux", "--config", str(cfg))
    unit_text = text.split(f"# ---- {UNIT_PATH} ----\n", 1)[1].split("\nsystemctl", 1)[0]
    unit = configparser.ConfigParser(interpolation=None)
    unit.read_string(unit_text)
    assert unit["Service"]["ExecStart"].endswith(f"agent run --config {cfg}")
    assert unit["Service"]["Restart"] == "always"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "systemctl enable --now yte-agent.service" in text


def test_dry_run_prints_the_windows_task(tmp_path):
    cfg = tmp_path / "agent.yaml"
    cfg.write_text("site: tyt-xa-a\ninterval_seconds: 1800\njitter_seconds: 300\n")
    text = cli("install", "--dry-run", "--platform", "windows", "--config", str(cfg))
    xml = text[text.index("<?xml"):text.index("</Task>") + len("</Task>")]
    task = ET.fromstring(xml.replace('encoding="UTF-16"', ""))  # noqa: S314 - our own output
    assert task.find("t:Principals/t:Principal/t:UserId", NS).text == "S-1-5-18"  # SYSTEM
    assert task.find("t:Triggers/t:BootTrigger/t:Repetition/t:Interval", NS).text == "PT30M"
    assert task.find("t:Triggers/t:TimeTrigger/t:RandomDelay", NS).text == "PT5M"
    exec_ = task.find("t:Actions/t:Exec", NS)
    assert exec_.find("t:Command", NS).text.endswith("yte.exe")
    assert exec_.find("t:Arguments", NS).text == f'agent run --once --config "{cfg}"'
    assert "schtasks /Create /TN yte-agent /XML" in text
    assert "schtasks /Delete /TN yte-agent /F" in cli("uninstall", "--dry-run", "--platform",
                                                      "windows")


def test_execute_without_systemd_writes_the_unit_and_says_what_it_skipped(tmp_path):
    plan = install_plan("linux", config="/etc/yte/agent.yaml", exe="/opt/yte/bin/yte",
                        interval_seconds=900, jitter_seconds=120)
    runner = RecordedRunner({})
    said = execute(plan, runner, root=tmp_path)
    assert (tmp_path / UNIT_PATH.lstrip("/")).read_text().count("ExecStart=/opt/yte/bin/yte") == 1
    assert runner.calls == [] and sum("skipped (no running systemd" in s for s in said) == 2


def test_execute_with_systemd_runs_its_commands(tmp_path):
    (tmp_path / "run/systemd/system").mkdir(parents=True)
    plan = install_plan("linux", config="/etc/yte/agent.yaml", exe="/opt/yte/bin/yte",
                        interval_seconds=900, jitter_seconds=120)
    runner = RecordedRunner({"systemctl daemon-reload": (0, "", ""),
                             "systemctl enable --now yte-agent.service": (0, "", "")})
    said = execute(plan, runner, root=tmp_path)
    assert runner.calls == ["systemctl daemon-reload", "systemctl enable --now yte-agent.service"]
    assert all(not s.startswith("failed") for s in said)
    assert [c[0] for c in uninstall_plan("linux").commands] == ["systemctl", "rm", "systemctl"]
