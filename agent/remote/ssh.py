"""One SSH connection (paramiko): strict host-key checking, timeouts on every step, and a
Runner that runs an argument list on the far side."""

from __future__ import annotations

import base64
import hashlib
import io
import shlex
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from yte_compliance.agent.remote.inventory import Host
from yte_compliance.agent.runner import CommandNotFound, CommandResult, CommandTimeout


class RemoteError(Exception):
    """This host could not be audited or deployed; the message says why, for the summary."""


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form: SHA256:<base64 of the key blob's SHA-256, unpadded>."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@dataclass
class HostKeys:
    """The known_hosts file and what this run accepted on first use (shared by workers)."""

    path: Path
    trust_on_first_use: bool = False
    accepted: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def unknown(self, name: str, key: paramiko.PKey) -> None:
        fp = fingerprint(key)
        if not self.trust_on_first_use:
            raise RemoteError(
                f"khoá máy chưa biết, từ chối / unknown host key, refused: {name} offers "
                f"{key.get_name()} {fp}, not in {self.path}. Check the fingerprint with the "
                f"host's administrator, then add it (ssh-keyscan) or run once with "
                f"--trust-on-first-use")
        line = f"{name} {key.get_name()} {key.get_base64()}\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="ascii") as f:
                f.write(line)
            self.path.chmod(0o600)
            self.accepted.append(f"{name} {key.get_name()} {fp}")


class _KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """paramiko's hook for a host missing from known_hosts: HostKeys decides."""

    def __init__(self, keys: HostKeys):
        self.keys = keys

    def missing_host_key(self, client, hostname, key):
        self.keys.unknown(hostname, key)


def connect(host: Host, keys: HostKeys, *, timeout: float, password: str | None = None
            ) -> Session:
    """A connected, authenticated session, or RemoteError with the reason."""
    client = paramiko.SSHClient()
    if keys.path.exists():
        client.load_host_keys(str(keys.path))
    client.set_missing_host_key_policy(_KnownHostsPolicy(keys))
    try:
        client.connect(
            host.address, port=host.port, username=host.user,
            key_filename=str(host.key_file) if host.key_file else None,
            allow_agent=host.ssh_agent, look_for_keys=False, password=password,
            timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
            channel_timeout=timeout)
    except Exception as e:
        client.close()
        why = None if isinstance(e, RemoteError) else _refusal(e, host, keys.path, timeout)
        if why is None:
            raise
        raise RemoteError(why) from None
    return Session(client)


def _refusal(e: Exception, host: Host, known_hosts: Path, timeout: float) -> str | None:
    """The summary's words for a connection that failed; None for any other error."""
    if isinstance(e, paramiko.BadHostKeyException):
        return (f"KHOÁ MÁY ĐÃ ĐỔI, từ chối / HOST KEY CHANGED, refused: {host.label} now offers "
                f"{e.key.get_name()} {fingerprint(e.key)}, {known_hosts} has "
                f"{fingerprint(e.expected_key)}. Someone may be intercepting; if the host was "
                f"reinstalled, confirm the new key and remove the old one "
                f"(ssh-keygen -R '[{host.address}]:{host.port}' -f {known_hosts})")
    if isinstance(e, paramiko.AuthenticationException):
        return f"xác thực bị từ chối / authentication refused for user {host.user}: {e}"
    if isinstance(e, TimeoutError):
        return f"hết thời gian / no answer within {timeout:g} s"
    if isinstance(e, (paramiko.SSHException, OSError, EOFError)):
        reason = str(e) or type(e).__name__
        if isinstance(e, paramiko.ssh_exception.NoValidConnectionsError):
            reason = "; ".join(f"{a[0]} port {a[1]}: {err.strerror or err}"
                               for a, err in e.errors.items())
        if any(w in reason for w in ("banner", "No existing session", "Negotiation")):
            # paramiko's words for a server that never finished the handshake in time
            reason = f"no SSH handshake within {timeout:g} s ({reason})"
        return f"không kết nối được / unreachable: {reason}"
    return None


MAX_ANSWER_BYTES = 96 << 20  # above a snapshot's own bound (64 MiB of files, base64)


class Session:
    """What the audit and deploy do on a host: run a command, copy a file in or out. A
    paramiko client in production; tests replay a recorded Windows host through the same."""

    def __init__(self, client: paramiko.SSHClient):
        self.client = client

    def execute(self, command: str, *, timeout: float, stdin: bytes | None = None,
                clock: Callable[[], float] = time.monotonic,
                max_bytes: int = MAX_ANSWER_BYTES) -> tuple[int, bytes, bytes]:
        """(exit status, stdout, stderr) of one command; CommandTimeout past ``timeout``,
        RemoteError past ``max_bytes`` of answer (a host cannot fill this machine)."""
        transport = self.client.get_transport()
        if transport is None or not transport.is_active():
            raise RemoteError("the SSH connection closed")
        deadline = clock() + timeout
        chan = transport.open_session(timeout=timeout)
        try:
            chan.settimeout(timeout)
            chan.exec_command(command)
            if stdin is not None:
                chan.sendall(stdin)
            chan.shutdown_write()
            out, err = io.BytesIO(), io.BytesIO()
            while True:
                busy = False
                if chan.recv_ready():
                    out.write(chan.recv(1 << 16))
                    busy = True
                if chan.recv_stderr_ready():
                    err.write(chan.recv_stderr(1 << 16))
                    busy = True
                if out.tell() + err.tell() > max_bytes:
                    raise RemoteError(f"{command.split()[0]}: answer larger than "
                                      f"{max_bytes >> 20} MiB")
                if not busy:
                    if chan.exit_status_ready() and chan.eof_received:
                        break
                    if clock() > deadline:
                        raise CommandTimeout(
                            f"{command.split()[0]}: no answer within {timeout:g} s")
                    time.sleep(0.002)
            return chan.recv_exit_status(), out.getvalue(), err.getvalue()
        finally:
            chan.close()

    def put(self, data: bytes, remote: str, mode: int = 0o600) -> None:
        with self.client.open_sftp() as sftp:
            sftp.putfo(io.BytesIO(data), remote)
            sftp.chmod(remote, mode)

    def get(self, remote: str) -> bytes | None:
        """A remote file's bytes, None when it does not exist."""
        with self.client.open_sftp() as sftp:
            try:
                with sftp.open(remote, "rb") as f:
                    return f.read()
            except FileNotFoundError:
                return None

    def remove(self, remote: str) -> None:
        with self.client.open_sftp() as sftp:
            try:
                sftp.remove(remote)
            except OSError:
                pass

    def close(self) -> None:
        self.client.close()


def windows_command_line(argv: Sequence[str]) -> str:
    """argv as cmd.exe, OpenSSH for Windows' default shell, reads it."""
    return subprocess.list2cmdline(list(argv))


class RemoteRunner:
    """The agent's Runner over SSH: argv quoted for a POSIX shell, the C locale, optionally
    `sudo -n`. Exit 127 (or sudo's "command not found") is CommandNotFound, as locally."""

    def __init__(self, session: Session, *, sudo: bool = False, max_timeout: float = 120.0):
        self.session, self.sudo, self.max_timeout = session, sudo, max_timeout

    def command_line(self, argv: Sequence[str]) -> str:
        prefix = ["sudo", "-n"] if self.sudo else []
        return shlex.join([*prefix, "env", "LC_ALL=C", "LANG=C", *argv])

    def __call__(self, argv: Sequence[str], timeout: float = 10.0) -> CommandResult:
        rc, out, err = self.session.execute(self.command_line(argv),
                                            timeout=min(timeout, self.max_timeout))
        text = err.decode(errors="replace")
        if rc == 127 or (self.sudo and rc == 1 and "command not found" in text):
            raise CommandNotFound(f"{argv[0]}: command not found")
        return CommandResult(tuple(argv), rc, out.decode(errors="replace"), text)
