"""`yte deploy ssh` onto a Windows host with OpenSSH, replayed: a host that keeps files
by SFTP path and answers the commands deploy sends (PowerShell Get-FileHash, New-Item,
Move-Item, icacls, schtasks, yte.exe), as documented by Microsoft. Constructed from
that documentation, not captured; the Linux path runs against a real sshd
(tests/integration/test_audit_ssh.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from yte_compliance.agent.remote.audit import Settings
from yte_compliance.agent.remote.deploy import Options, deploy_host, summary
from yte_compliance.agent.remote.inventory import Host
from yte_compliance.agent.remote.ssh import HostKeys

EXE = "/C:/Program Files/yte/yte.exe"


class WindowsHost:
    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.commands: list[str] = []
        self.task = False
        self.reports = 0

    @staticmethod
    def sftp(path: str) -> str:
        return "/" + path.replace("\\", "/")

    def put(self, data: bytes, remote: str, mode: int = 0o600) -> None:
        self.files[remote] = data

    def get(self, remote: str) -> bytes | None:
        return self.files.get(remote)

    def remove(self, remote: str) -> None:
        self.files.pop(remote, None)

    def close(self) -> None:
        pass

    def execute(self, command: str, *, timeout: float, stdin=None):
        self.commands.append(command)
        if command.startswith("powershell.exe"):
            script = command.split(" -Command ", 1)[1].strip('"')
            paths = re.findall(r"'([^']+)'", script)
            if script.startswith("if (Test-Path"):
                data = self.files.get(self.sftp(paths[0]))
                digest = hashlib.sha256(data).hexdigest().upper() if data else ""
                return 0, f"{digest}\r\n".encode() if data else b"", b""
            if script.startswith("New-Item"):
                return 0, b"", b""
            if script.startswith("Move-Item"):
                self.files[self.sftp(paths[1])] = self.files.pop(self.sftp(paths[0]))
                return 0, b"", b""
        if command.startswith("icacls"):
            return 0, b"processed file: C:\\ProgramData\\yte\\token\r\n", b""
        if command.startswith("schtasks /Query"):
            return (0, b"yte-agent  Ready\r\n", b"") if self.task else (
                1, b"", b"ERROR: The system cannot find the file specified.\r\n")
        if command.startswith('"C:\\Program Files\\yte\\yte.exe" agent install'):
            self.task = True
            return 0, b"ok: schtasks /Create /TN yte-agent\r\n", b""
        if command.startswith('"C:\\Program Files\\yte\\yte.exe" agent run --once'):
            self.reports += 1
            return 0, b"", "yte agent: đã gửi / sent 1 report(s)\r\n".encode()
        return 1, b"", f"'{command.split()[0]}' is not recognized".encode()


def _deploy(host_state: WindowsHost, tmp_path: Path, **options):
    tokens = tmp_path / "tokens"
    tokens.mkdir(exist_ok=True)
    (tokens / "tyt-xa-a.token").write_text("yte_0123456789ab_" + "x" * 43)
    (tokens / "tyt-xa-a.token").chmod(0o600)
    host = Host(name="tram-a", address="198.18.20.11", site="tyt-xa-a", platform="windows")
    opts = Options(collector_url="https://yte.soyte.example.vn:8746", tokens_dir=tokens,
                   **options)
    return deploy_host(host, Settings(HostKeys(tmp_path / "known_hosts")), opts,
                       connect=lambda *a, **k: host_state)


def test_windows_deploy_installs_then_changes_nothing(tmp_path):
    exe = tmp_path / "yte.exe"
    exe.write_bytes(b"MZ frozen agent")
    win = WindowsHost()

    planned = _deploy(win, tmp_path, windows_exe=exe, dry_run=True)
    assert planned.error is None and not win.files and win.reports == 0
    assert "would change" in summary([planned])

    first = _deploy(win, tmp_path, windows_exe=exe)
    assert first.error is None, first.error
    assert win.files[EXE] == b"MZ frozen agent"
    config = win.files["/C:/ProgramData/yte/agent.yaml"].decode()
    assert "site: tyt-xa-a" in config and r"token_file: C:\ProgramData\yte\token" in config
    assert r"spool_dir: C:\ProgramData\yte\spool" in config
    acl = [c for c in win.commands if c.startswith("icacls")]
    assert acl and "*S-1-5-18:F" in acl[0] and "*S-1-5-32-544:F" in acl[0]  # SIDs, not names
    assert win.task and win.reports == 1
    assert "first report received by the collector" in summary([first])

    win.commands.clear()
    second = _deploy(win, tmp_path, windows_exe=exe)
    assert second.error is None and second.changed == []
    assert "nothing to change" in summary([second])
    assert not [c for c in win.commands if "Move-Item" in c or "agent install" in c]
    assert win.reports == 1

    exe.write_bytes(b"MZ frozen agent, next release")
    third = _deploy(win, tmp_path, windows_exe=exe)
    assert [c.split(":")[0] for c in third.changed] == ["tác tử / agent",
                                                         "tác vụ định kỳ / scheduled task"]
    assert win.reports == 2


def test_windows_deploy_without_the_exe_says_what_is_missing(tmp_path):
    outcome = _deploy(WindowsHost(), tmp_path)
    assert "--windows-exe" in outcome.error
