"""The wheel as users install it: built by the test command, installed into fresh virtual
environments with no source tree on the path, every command run from an empty folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.fleet import ROOT, free_port, http
from tests.monitoring import wait_ready

pytestmark = pytest.mark.integration

PACKAGE_ROOTS = {"yte": "yte_compliance", "agent": "yte_compliance/agent",
                 "collector": "yte_compliance/collector", "checks": "yte_compliance/checks",
                 "exporters": "yte_compliance/exporters", "configs": "yte_compliance/configs"}
SERVER_STACK = {"uvicorn", "starlette", "prometheus-client", "weasyprint", "jinja2", "openpyxl",
                "paramiko", "scapy", "psutil"}


def _wheel() -> Path:
    path = os.environ.get("YTE_WHEEL")
    if not path:
        message = "YTE_WHEEL not set: scripts/test.sh builds the wheel and sets it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return Path(path)


class Env:
    """A fresh venv with the wheel installed; commands run from an empty folder."""

    def __init__(self, folder: Path, spec: str):
        self.folder = folder
        venv.create(folder / "venv", with_pip=True)
        self.python = folder / "venv/bin/python"
        self.yte = folder / "venv/bin/yte"
        self.cwd = folder / "work"
        self.cwd.mkdir()
        done = subprocess.run([str(self.python), "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", spec],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "YTE_WHEEL")}
        return {**env, "PYTHONNOUSERSITE": "1"}

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.yte), *args], cwd=self.cwd, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([str(self.yte), *args], cwd=self.cwd, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def installed(self) -> set[str]:
        done = subprocess.run([str(self.python), "-m", "pip", "list", "--format=json"],
                              capture_output=True, text=True, timeout=60)
        return {p["name"].lower() for p in json.loads(done.stdout)}


@pytest.fixture(scope="module")
def agent_env(tmp_path_factory) -> Env:
    return Env(tmp_path_factory.mktemp("agent-install"), str(_wheel()))


@pytest.fixture(scope="module")
def server_env(tmp_path_factory) -> Env:
    return Env(tmp_path_factory.mktemp("server-install"), f"{_wheel()}[collector,report]")


def test_wheel_holds_every_source_file_and_nothing_else():
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                              *PACKAGE_ROOTS], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    expected = set()
    for path in tracked:
        top, _, rest = path.partition("/")
        if path.endswith((".py", ".ps1", ".j2", ".css", ".md", ".yaml", ".yml", ".json", ".xml",
                          ".service", "py.typed")):
            expected.add(f"{PACKAGE_ROOTS[top]}/{rest}")
    with zipfile.ZipFile(_wheel()) as z:
        names = {n for n in z.namelist() if ".dist-info/" not in n}
        top_level = z.read(next(n for n in z.namelist() if n.endswith("top_level.txt")))
    assert names == expected, (sorted(expected - names), sorted(names - expected))
    assert top_level.decode().split() == ["yte_compliance"]  # one import name, no clashes


def test_the_suite_itself_runs_the_installed_wheel():
    import yte_compliance

    where = Path(yte_compliance.__file__).resolve()
    if "site-packages" not in where.parts and not IN_CI:
        pytest.skip(f"an editable install ({where}); CI runs the installed wheel")
    assert "site-packages" in where.parts, where
    for folder in PACKAGE_ROOTS:  # not the checkout's folders, as an editable install is
        assert not where.is_relative_to(ROOT / folder), where


def test_agent_install_is_light_and_says_which_extra_the_rest_needs(agent_env):
    installed = agent_env.installed()
    assert installed & SERVER_STACK == set(), installed & SERVER_STACK
    assert {"click", "pyyaml", "netaddr", "yte-compliance"} <= installed

    plan = agent_env.run("agent", "install", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "ExecStart=" in plan.stdout and "yte-agent.service" in plan.stdout

    facts = agent_env.run("agent", "collect", "--json")
    assert facts.returncode == 0, facts.stderr
    assert json.loads(facts.stdout)["probes"]["hardware"]["status"] in ("ok", "unknown")

    listing = agent_env.run("--help")
    assert listing.returncode == 0 and "collector" in listing.stdout, listing.stderr
    for args, extra in ((["collector", "serve", "-c", "x.yaml"], "collector"),
                        (["audit", "ssh", "-i", "inv.yaml"], "ssh"),
                        (["report", "-c", "x.yaml", "--year", "2026"], "report")):
        done = agent_env.run(*args)
        assert done.returncode != 0, done.stdout
        assert "Traceback" not in done.stderr, done.stderr
        assert f"pip install 'yte-compliance[{extra}]'" in done.stderr, done.stderr
        assert "gói bổ sung" in done.stderr  # Vietnamese first


def _minimal_collector(folder: Path, port: int) -> Path:
    """No targets_files: the shipped defaults apply."""
    (folder / "sites.yaml").write_text(
        "version: 1\nsites:\n  - id: tyt-a\n    name: Trạm Y tế xã A\n    type: commune_station\n"
        "    province: Lâm Đồng\n    district: Đức Trọng\n", encoding="utf-8")
    (folder / "collector.yaml").write_text(
        f"listen: 127.0.0.1:{port}\ndatabase: collector.db\nsites_file: sites.yaml\n"
        "allow_plain_http: true\n", encoding="utf-8")
    return folder / "collector.yaml"


def test_demo_runs_from_the_wheel(server_env):
    done = server_env.run("demo", "--no-wait", "--port", str(free_port()),
                          "--workdir", str(server_env.cwd / "demo"), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Đánh giá" in done.stdout and "/metrics" in done.stdout


def test_minimal_collector_takes_a_real_agent_report_then_reports_the_year(server_env):
    work = server_env.cwd / "province"
    work.mkdir()
    port = free_port()
    config = _minimal_collector(work, port)
    token = server_env.run("collector", "token", "add", "tyt-a", "-c", str(config))
    assert token.returncode == 0, token.stderr
    assert "creating a new database" in token.stderr
    (work / "token").write_text(token.stdout.strip())
    (work / "token").chmod(0o600)
    (work / "agent.yaml").write_text(
        f"site: tyt-a\ncollector_url: http://127.0.0.1:{port}\ntoken_file: token\n"
        "spool_dir: spool\nhost_id: wheel-test-pc\n", encoding="utf-8")

    server = server_env.start("collector", "serve", "-c", str(config))
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", server, "yte collector serve")
        sent = server_env.run("agent", "run", "--once", "--config", str(work / "agent.yaml"))
        assert sent.returncode == 0, sent.stderr
        added = server_env.run("collector", "viewer", "add", "wheel-test", "-c", str(config),
                               "--scope", "site:tyt-a")
        assert added.returncode == 0, added.stderr
        viewer = added.stdout.strip()
        status, _, body = http("GET", f"http://127.0.0.1:{port}/api/v1/sites/tyt-a",
                               token=viewer)
        assert status == 200
        detail = json.loads(body)
        assert {c["check"] for c in detail["checks"]} >= {"pc.os_supported", "pc.firewall"}
        status, _, spec = http("GET", f"http://127.0.0.1:{port}/openapi.yaml", token=viewer)
        assert status == 200 and b"/api/v1/reports" in spec
    finally:
        server.terminate()
        server.wait(timeout=20)

    year = str(time.localtime().tm_year)
    out = work / "report.json"
    report = server_env.run("report", "-c", str(config), "--year", year, "--format", "json",
                            "--out", str(out))
    assert report.returncode == 0, report.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [(s["id"], s["hosts_reporting"]) for s in data["sites"]] == [("tyt-a", 1)]

    # a typo in database: is refused, naming the file, the line and the key
    typo = work / "typo.yaml"
    typo.write_text(config.read_text().replace("collector.db", "colector.db"), encoding="utf-8")
    refused = server_env.run("report", "-c", str(typo), "--year", year, "--format", "json",
                             "--out", str(work / "empty.json"))
    assert refused.returncode != 0
    assert f"{typo}:2: database:" in refused.stderr and "colector.db" in refused.stderr
    assert not (work / "colector.db").exists() and not (work / "empty.json").exists()


def test_generated_files_check_against_the_shipped_copies(server_env):
    for group in ("rules", "dashboards"):
        done = server_env.run("exporters", group, "--check")
        assert done.returncode == 0, done.stderr
        assert "up to date" in done.stdout
    missing = server_env.run("exporters", "rules", "--check", "--out", "no-such-folder")
    assert missing.returncode != 0 and "no folder no-such-folder" in missing.stderr


def test_imports_resolve_inside_the_venv_only(server_env):
    done = subprocess.run([str(server_env.python), "-c",
                           "import yte_compliance, sys; print(yte_compliance.__file__)"],
                          cwd=server_env.cwd, env=server_env.env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(server_env.folder / "venv") in done.stdout
    assert sys.prefix not in done.stdout
