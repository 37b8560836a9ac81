"""Real OpenSSH servers for the tests: keys made here, a config of our own, on loopback or
inside a network namespace; stopped after. Never the machine's own sshd or keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.fleet import free_port
from tests.procs import stop_process


def sshd_binary() -> str:
    path = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else None)
    if path is None:
        message = "sshd not installed (Debian package openssh-server; scripts/setup.sh --test)"
        if IN_CI:
            pytest.fail(f"CI must have sshd: {message}")
        pytest.skip(message)
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI runs as root: the SSH tests must run")
        pytest.skip("a test sshd that logs users in needs root")
    return path


def keygen(path: Path, kind: str = "ed25519") -> Path:
    path.unlink(missing_ok=True)
    Path(f"{path}.pub").unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "yte-test", "-f", str(path)],
                   check=True, capture_output=True, timeout=30)
    return path


def openssh_fingerprint(public_key: Path) -> str:
    """What `ssh-keygen -l` says: the independent reference for our fingerprints."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key)],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.split()[1]


class Sshd:
    """One sshd: its host key, a client key it accepts, its config and log in ``folder``."""

    def __init__(self, folder: Path, *, address: str = "127.0.0.1", port: int | None = None,
                 netns: str | None = None, extra: str = "", client_key: Path | None = None):
        self.binary = sshd_binary()
        self.folder, self.address, self.netns, self.extra = folder, address, netns, extra
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.host_key = keygen(folder / "host_key")
        self.client_key = client_key or keygen(folder / "client_key")
        (folder / "authorized_keys").write_text(Path(f"{self.client_key}.pub").read_text())
        self.proc: subprocess.Popen | None = None

    @property
    def fingerprint(self) -> str:
        return openssh_fingerprint(Path(f"{self.host_key}.pub"))

    def config(self) -> Path:
        f = self.folder
        text = f"""Port {self.port}
ListenAddress {self.address}
HostKey {self.host_key}
PidFile {f}/sshd.pid
AuthorizedKeysFile {f}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel VERBOSE
{self.extra}
"""
        (f / "sshd_config").write_text(text)
        return f / "sshd_config"

    def start(self) -> Sshd:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation
        argv = [self.binary, "-D", "-e", "-f", str(self.config())]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        log = open(self.folder / "sshd.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self._log = log
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.folder / 'sshd.log').read_text()}")
            if "Server listening" in (self.folder / "sshd.log").read_text(errors="replace"):
                return self
            time.sleep(0.05)
        raise RuntimeError("sshd did not start listening within 15 s")

    def stop(self) -> None:
        stop_process(self.proc, grace=10)
        self.proc = None
        if getattr(self, "_log", None):
            self._log.close()

    def new_host_key(self) -> None:
        """The host 'reinstalled': a new key, the server restarted."""
        self.stop()
        keygen(self.host_key)
        self.start()

    def known_hosts_line(self) -> str:
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        name = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return f"{name} {kind} {blob}\n"

