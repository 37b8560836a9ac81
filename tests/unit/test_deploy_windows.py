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


class Windows7Host(WindowsHost):
    """PowerShell 2.0: no OpenSSH-era agent; reg.exe, WMI and schtasks answer as
    documented. ``kb`` says whether KB3154518 is installed."""

    def __init__(self, kb: bool):
        super().__init__()
        self.kb = kb
        self.registry: dict[tuple[str, str], int] = {}
        self.task_command = ""

    def execute(self, command: str, *, timeout: float, stdin=None):
        if command.endswith('-Command $PSVersionTable.PSVersion.Major'):
            self.commands.append(command)
            return 0, b"2\r\n", b""
        if "Win32_QuickFixEngineering" in command:
            self.commands.append(command)
            return 0, b"1\r\n" if self.kb else b"0\r\n", b""
        if command.startswith("reg query"):
            self.commands.append(command)
            key, name = re.match(r'reg query "?(.+?)"? /v (\w+)$', command).groups()
            if (key, name) not in self.registry:
                return 1, b"", (b"ERROR: The system was unable to find the specified "
                                b"registry key or value.\r\n")
            value = self.registry[key, name]
            return 0, f"\r\n{key}\r\n    {name}    REG_DWORD    0x{value:x}\r\n".encode(), b""
        if command.startswith("reg add"):
            self.commands.append(command)
            key, name, value = re.match(r'reg add "?(.+?)"? /v (\w+) /t REG_DWORD /d (\d+) /f$',
                                        command).groups()
            self.registry[key, name] = int(value)
            return 0, b"The operation completed successfully.\r\n", b""
        if command.startswith("schtasks /Create"):
            self.commands.append(command)
            self.task, self.task_command = True, command
            return 0, (b'SUCCESS: The scheduled task "yte-agent" has successfully been '
                       b"created.\r\n"), b""
        if command.startswith("powershell.exe -NoProfile -ExecutionPolicy Bypass -File"):
            self.commands.append(command)
            self.reports += 1
            return 0, b"", b""
        return super().execute(command, timeout=timeout, stdin=stdin)


def test_windows_7_gets_the_script_tls12_and_a_task_then_nothing_changes(tmp_path):
    win = Windows7Host(kb=True)
    first = _deploy(win, tmp_path)  # no --windows-exe: Windows 7 runs the script
    assert first.error is None, first.error
    assert b"PowerShell 2.0" in win.files["/C:/ProgramData/yte/collect-ps2.ps1"]
    assert win.registry[(r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
                         r"\Protocols\TLS 1.2\Client", "DisabledByDefault")] == 0
    assert win.registry[(r"HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727",
                         "SystemDefaultTlsVersions")] == 1
    assert "-File C:\\ProgramData\\yte\\collect-ps2.ps1" in win.task_command
    assert "-Site tyt-xa-a" in win.task_command and "/SC MINUTE /MO 15" in win.task_command
    assert win.reports == 1 and "first report received" in summary([first])
    again = _deploy(win, tmp_path)
    assert again.error is None and again.changed == [] and win.reports == 1


def test_windows_7_without_kb3154518_is_told_it_cannot_send(tmp_path):
    win = Windows7Host(kb=False)
    outcome = _deploy(win, tmp_path)
    assert outcome.error is None and win.task
    assert win.reports == 0  # no first report: it could not be sent
    assert any("KB3154518" in n and "cannot send" in n for n in outcome.notes)
