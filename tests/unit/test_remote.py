"""The SSH audit's parts without a network: the inventory's errors, the shell snapshot
against a direct collection of this machine, the bundle run by this python, a recorded
Windows host through the same session interface, and the summary."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.windows import NETSH_FIREWALL
from yte_compliance.agent.remote.audit import Outcome, Settings, audit_host, audit_windows, summary
from yte_compliance.agent.remote.bundle import build_bundle
from yte_compliance.agent.remote.inventory import Host, load_inventory
from yte_compliance.agent.remote.onhost import linux_report
from yte_compliance.agent.remote.snapshot import SnapshotError, materialize, script
from yte_compliance.agent.remote.ssh import HostKeys, RemoteError, windows_command_line
from yte_compliance.agent.replay import batch_from_folder, replay_windows
from yte_compliance.agent.runner import run
from yte_compliance.core.yamlconf import ConfigError

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "tests/fixtures/windows"


def probe_facts(report: dict) -> dict:
    return {n: {k: v for k, v in r.items() if k != "duration_seconds"}
            for n, r in report["probes"].items()}


# ---- inventory ---------------------------------------------------------------------------


def test_example_inventory_loads_and_limits_by_group_or_host():
    inv = load_inventory(ROOT / "configs/inventory.example.yaml")
    assert [h.name for h in inv.select(("servers",))] == ["his-server", "pacs"]
    assert [h.name for h in inv.select(("tyt-xa-b-pc1",))] == ["tyt-xa-b-pc1"]
    windows = inv.select(("stations",))[0]
    assert windows.platform == "windows" and windows.key_file is None
    assert windows.password_env == "YTE_SSH_PASSWORD"
    with pytest.raises(ValueError, match="no host or group named nowhere"):
        inv.select(("nowhere",))


@pytest.mark.parametrize(("text", "where", "words"), [
    ("hosts:\n  pc1:\n    address: 198.18.0.5\n    site: s\n    password: hunter2\n",
     ":5: hosts.pc1.password:", "never read from the inventory"),
    ("hosts:\n  pc1:\n    address: 198.18.0.5\n    site: s\n    usr: root\n",
     ":5: hosts.pc1.usr:", "did you mean 'user'"),
    ("defaults:\n  password: x\nhosts:\n  pc1: {address: a, site: s}\n",
     ":2: defaults.password:", "password_env"),
    ("hosts:\n  pc1:\n    address: 198.18.0.5\n    site: s\n    platform: macos\n",
     ":5: hosts.pc1.platform:", "linux, windows"),
    ("hosts:\n  pc1:\n    address: 198.18.0.5\n", ":3: hosts.pc1.site:", "required"),
])
def test_inventory_errors_name_file_line_and_key(tmp_path, text, where, words):
    path = tmp_path / "inventory.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_inventory(path)
    assert f"{path}{where}" in str(e.value) and words in str(e.value)


# ---- Linux: snapshot and bundle against a direct collection ------------------------------


def test_shell_snapshot_gives_the_same_facts_as_collecting_here(tmp_path):
    out = subprocess.run(["sh", "-s"], input=script(), capture_output=True, text=True,
                         timeout=120, check=True)
    materialize(out.stdout, tmp_path)
    # the snapshot is of this very machine, so its commands may run here (an audit runs
    # them on the host through RemoteRunner)
    from_snapshot = linux_report(Context(root=tmp_path, run=run), "s").to_json_obj()
    direct = linux_report(Context(), "s").to_json_obj()
    assert from_snapshot["host_id"] == direct["host_id"]
    assert from_snapshot["hostname"] == direct["hostname"]
    assert probe_facts(from_snapshot) == probe_facts(direct)
    hardware = from_snapshot["probes"]["hardware"]["facts"]
    assert hardware["memory_usable_bytes"] > 0 and hardware["cpu_threads"] >= 1


@pytest.mark.parametrize("stream", [
    "L\t/sys/class/net/eth0\t../../../../../../../etc\n",  # climbs out of the tree
    "F\t/proc/../etc/passwd\ncm9vdA==\n=\n",  # not a normal path
    "F\tproc/meminfo\nAA==\n=\n",  # relative
    # a link made harmless first, then redirected by a later one
    "L\t/a/b\tc/../../x\nL\t/a/c\t..\n",
    "Q\tsomething\n",
])
def test_snapshot_refuses_paths_that_leave_the_tree(tmp_path, stream):
    with pytest.raises(SnapshotError):
        materialize(stream, tmp_path / "root")
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize("then", [
    "X\t/sys/x\n",  # an unreadable file, "touched" at the link
    "M\t/sys/x\t1\n",  # an mtime, "touched" and re-dated at the link
    "F\t/sys/x\naGk=\n=\n",  # a file written at the link
    "D\t/sys/x/d\n",  # a folder made through it
])
def test_snapshot_never_writes_through_a_link_it_made(tmp_path, then):
    """A hostile host: a link pointing out of the tree, then a line that would write at
    it. Nothing outside the tree is created or re-dated, before or after the refusal."""
    victim = tmp_path / "victim"
    root = tmp_path / "snap" / "root"
    depth = "../" * 12
    stream = f"L\t/sys/x\t{depth}{victim.relative_to('/')}\n{then}"
    with pytest.raises(SnapshotError):
        materialize(stream, root)
    assert not victim.exists()
    victim.write_text("mine")
    before = victim.stat().st_mtime
    with pytest.raises(SnapshotError):
        materialize(stream, tmp_path / "snap2")
    assert victim.read_text() == "mine" and victim.stat().st_mtime == before


def test_snapshot_keeps_only_a_links_name_where_the_name_is_what_is_read(tmp_path):
    """systemd's default target is an absolute link: kept as a link to its last part beside
    it, so the role probe reads the same name and nothing outside the tree is reachable."""
    import os

    root = tmp_path / "root"
    materialize("N\t/etc/systemd/system/default.target\t/lib/systemd/system/graphical.target\n"
                "N\t/lib/systemd/system/default.target\t..\n", root)
    link = root / "etc/systemd/system/default.target"
    assert os.readlink(link) == "graphical.target"
    assert not (root / "lib/systemd/system/default.target").is_symlink()


def test_snapshot_entries_and_the_whole_are_bounded(tmp_path, monkeypatch):
    import base64

    from yte_compliance.agent.remote import snapshot

    big = base64.b64encode(b"x" * ((16 << 20) + 3)).decode()
    with pytest.raises(SnapshotError, match="larger than 16 MiB"):
        materialize(f"F\t/var/log/dpkg.log\n{big}\n=\n", tmp_path / "a")
    monkeypatch.setattr(snapshot, "MAX_TOTAL_BYTES", 1000)  # a small bound, same rule
    many = "".join(f"F\t/f{i}\n{base64.b64encode(b'y' * 300).decode()}\n=\n" for i in range(4))
    with pytest.raises(SnapshotError, match="snapshot is larger"):
        materialize(many, tmp_path / "b")


def test_the_ssh_answer_is_read_up_to_a_bound(tmp_path):
    """A host that answers without end (a paramiko channel stand-in that never stops):
    the read stops at the bound with a clear error."""
    from yte_compliance.agent.remote.ssh import RemoteError, Session

    class Chan:
        eof_received = False

        def settimeout(self, t): pass
        def exec_command(self, c): pass
        def shutdown_write(self): pass
        def recv_ready(self): return True
        def recv(self, n): return b"z" * n
        def recv_stderr_ready(self): return False
        def exit_status_ready(self): return False
        def close(self): pass

    class Transport:
        def is_active(self): return True
        def open_session(self, timeout): return Chan()

    class Client:
        def get_transport(self): return Transport()

    with pytest.raises(RemoteError, match="answer larger than 1 MiB"):
        Session(Client()).execute("sh -s", timeout=30, max_bytes=1 << 20)


def test_bundle_runs_with_python_alone_and_reports_like_the_agent(tmp_path):
    bundle = tmp_path / "yte.pyz"
    bundle.write_bytes(build_bundle())
    assert build_bundle() == bundle.read_bytes()  # cached and reproducible
    out = subprocess.run([sys.executable, "-I", "-S", str(bundle), "bv-tinh"],
                         capture_output=True, text=True, timeout=120, check=True)
    remote = json.loads(out.stdout)  # -I -S: no site-packages, only what the zip carries
    direct = linux_report(Context(), "bv-tinh").to_json_obj()
    assert remote["source"] == "ssh" and remote["site"] == "bv-tinh"
    assert remote["host_id"] == direct["host_id"]
    assert probe_facts(remote) == probe_facts(direct)


# ---- Windows over SSH, replayed ------------------------------------------------------------


class RecordedWindowsSession:
    """A Windows host with OpenSSH, answering from a recorded case folder."""

    def __init__(self, folder: Path):
        self.folder, self.files, self.commands = folder, {}, []

    def put(self, data: bytes, remote: str, mode: int = 0o600) -> None:
        self.files[remote] = data

    def remove(self, remote: str) -> None:
        self.files.pop(remote)

    def execute(self, command: str, *, timeout: float, stdin=None):
        self.commands.append(command)
        if command.startswith("powershell.exe") and "-File" in command:
            assert command.split()[-1] in self.files  # the script copied first
            return 0, json.dumps(batch_from_folder(self.folder)).encode(), b""
        netsh = windows_command_line(NETSH_FIREWALL)  # PowerShell, the console set to UTF-8
        if command == netsh and (self.folder / "netsh.txt").exists():
            return 0, (self.folder / "netsh.txt").read_bytes(), b""
        return 1, b"", b"not recorded"

    def close(self) -> None:
        pass


@pytest.mark.parametrize("case", sorted(p.name for p in WINDOWS.iterdir() if p.is_dir()))
def test_windows_host_over_ssh_gives_the_replayed_facts(case):
    session = RecordedWindowsSession(WINDOWS / case)
    host = Host(name="pc", address="198.18.0.9", site="tyt-xa-a", platform="windows")
    report, method, _ = audit_windows(session, host, timeout=30)
    replayed = replay_windows(WINDOWS / case, "tyt-xa-a", report.collected_at)
    assert method == "powershell" and report.source == "ssh" and not session.files
    assert report.host_id == replayed.host_id and report.hostname == replayed.hostname
    assert probe_facts(report.to_json_obj()) == probe_facts(replayed.to_json_obj())


# ---- failures and the summary ----------------------------------------------------------------


def test_a_failing_host_is_an_outcome_with_its_reason_and_the_summary_lists_it():
    def refuse(host, keys, *, timeout, password=None):
        raise RemoteError("xác thực bị từ chối / authentication refused for user root")

    host = Host(name="pacs", address="198.18.0.7", site="bv-tinh")
    outcome = audit_host(host, Settings(HostKeys(Path("/nonexistent"))), connect=refuse)
    assert not outcome.ok and "authentication refused" in outcome.error
    text = summary([outcome, Outcome(Host(name="pc2", address="198.18.0.8", site="bv-tinh"),
                                     error="không kết nối được / unreachable: timeout")])
    assert "# Lỗi / failures: 2" in text
    assert "pacs (198.18.0.7:22): xác thực bị từ chối" in text
    assert "bv-tinh        0/2 máy đã kiểm" in text


def test_the_wheels_deploy_carries_are_dependencies_of_the_project():
    from yte_compliance.agent.remote.deploy import AGENT_REQUIREMENTS

    tomllib = pytest.importorskip("tomllib", reason="tomllib comes with Python 3.11")

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ]", d, maxsplit=1)[0].lower() for d in declared}
    for requirement in AGENT_REQUIREMENTS:
        assert re.split(r"[<>=]", requirement, maxsplit=1)[0] in names, requirement
