"""Install the agent over SSH. Linux: its own virtual environment from wheels carried
from here (hosts need no Internet), its config, its site token and the systemd unit.
Windows with OpenSSH: the frozen yte.exe, config, token and the scheduled task. Then one
report. Every step compares first, so a second run changes nothing."""

from __future__ import annotations

import functools
import hashlib
import io
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from yte_compliance.agent.install import TASK_NAME, UNIT_PATH, WINDOWS_CONFIG, WINDOWS_EXE, install_plan
from yte_compliance.agent.remote import ssh, wheel
from yte_compliance.agent.remote.audit import Settings, python_ok
from yte_compliance.agent.remote.inventory import Host
from yte_compliance.agent.runner import CommandError, run
from yte_compliance.core.errors import YteError


@dataclass(frozen=True)
class Layout:
    """Where the agent goes on a Linux host; ``under(root)`` moves it all (a test host's
    folder)."""

    root: str
    venv: str
    wheels: str
    config: str
    token: str
    ca: str
    state: str
    unit: str

    @classmethod
    def under(cls, root: str = "/") -> Layout:
        def at(path: str) -> str:
            return str(Path(root) / path.lstrip("/"))

        return cls(root=root, venv=at("/opt/yte/venv"), wheels=at("/opt/yte/wheels"),
                   config=at("/etc/yte/agent.yaml"), token=at("/etc/yte/token"),
                   ca=at("/etc/yte/collector-ca.pem"), state=at("/var/lib/yte"),
                   unit=at(UNIT_PATH))


# What the agent imports beyond the standard library (each also in pyproject.toml's
# dependencies: tests/unit/test_remote.py checks it).
AGENT_REQUIREMENTS = ("click>=8.1", "pyyaml>=6.0", "netaddr>=1.0")


class DeployError(YteError):
    """The wheels to carry could not be prepared here (pip failed, no checkout)."""


@dataclass(frozen=True)
class Options:
    collector_url: str
    tokens_dir: Path
    ca_file: Path | None = None
    wheel: Path | None = None
    windows_exe: Path | None = None  # the frozen agent for Windows hosts
    dry_run: bool = False
    layout: Layout = Layout.under()
    cache: Path = Path.home() / ".cache" / "yte" / "wheels"


@dataclass
class Outcome:
    host: Host
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False


def agent_config(site: str, url: str, token: str, ca: str | None, spool: str,
                 key: str | None = None) -> str:
    """The agent's YAML; with ``key``, ``token`` is the site's enrollment secret, traded on
    the first run for the PC's own key kept at ``key``."""
    lines = ["# Viết bởi / written by `yte deploy ssh`; chạy lại lệnh đó để đổi / rerun it to change.",
             f"site: {site}", f"collector_url: {url}"]
    lines += ([f"enrollment_secret_file: {token}", f"key_file: {key}"] if key
              else [f"token_file: {token}"])
    if ca:
        lines.append(f"ca_file: {ca}")
    lines.append(f"spool_dir: {spool}")
    return "\n".join(lines) + "\n"


def unit_text(at: Layout) -> str:
    plan = install_plan("linux", config=at.config, exe=f"{at.venv}/bin/yte",
                        interval_seconds=900, jitter_seconds=120, state_dir=at.state)
    return plan.files[UNIT_PATH]


# ---- the wheels carried to the host --------------------------------------------------


def _pip(*args: str) -> None:
    try:
        result = run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                     timeout=600)
    except CommandError as e:
        raise DeployError(f"pip {args[0]}: {e}") from None
    if not result.ok:
        raise DeployError(f"pip {args[0]} failed: {result.stderr.strip()[-500:]}")


_preparing = threading.Lock()  # workers wanting the same wheels wait for one download


def wheels_for(python: str, machine: str, options: Options) -> list[Path]:
    """The project's wheel and the agent's dependencies for a CPython ``python`` ("3.11")
    on ``machine`` ("x86_64"), downloaded once into the cache."""
    folder = options.cache / f"cp{python.replace('.', '')}-{machine}"
    deps = folder / "deps"
    with _preparing:
        if not any(deps.glob("*.whl")):
            folder.mkdir(parents=True, exist_ok=True)
            _pip("download", "--only-binary=:all:", "--no-deps", "--implementation", "cp",
                 "--python-version", python, "--platform", f"manylinux2014_{machine}",
                 "--platform", f"manylinux_2_17_{machine}", "--platform", "any",
                 "-d", str(deps), *AGENT_REQUIREMENTS)
        return sorted(deps.glob("*.whl")) + [options.wheel or _built_wheel()]


@functools.cache
def _built_wheel() -> Path:
    """The project's wheel, once per run: this installation's own files, or, for an
    editable install, a wheel built from its checkout."""
    from importlib import metadata

    out = Path(tempfile.mkdtemp(prefix="yte-wheel-"))
    try:
        dist = metadata.distribution(wheel.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise DeployError("yte-compliance is not installed here: pass --wheel") from None
    checkout = wheel.editable_checkout(dist)
    if checkout is None:
        try:
            return wheel.repack(out, dist)
        except wheel.NotRepackable as e:
            raise DeployError(f"{e}: pass --wheel") from None
    _pip("wheel", "--no-deps", "-q", "-w", str(out), str(checkout))
    return next(out.glob("yte_compliance-*.whl"))


def wheels_digest(wheels: list[Path]) -> str:
    """Stable across rebuilds: each wheel's name and RECORD (the hashes of its files),
    not its bytes (zip timestamps change with every build)."""
    h = hashlib.sha256()
    for w in sorted(wheels, key=lambda p: p.name):
        with zipfile.ZipFile(w) as z:
            record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
            h.update(w.name.encode() + b"\0" + z.read(record) + b"\0")
    return h.hexdigest()


# ---- one host ---------------------------------------------------------------------------


class _Steps:
    """The steps on one connected host, in order; each compares first and says what it
    changed. The platforms differ in how files are written, how the agent and the
    service are installed, and where things go."""

    def __init__(self, session: ssh.Session, host: Host, options: Options, timeout: float,
                 out: Outcome):
        self.session, self.host, self.options, self.timeout, self.out = (
            session, host, options, timeout, out)

    # where things go, and how a file is written: per platform
    config = token_path = ca_path = spool = ""
    key_path: str | None = None  # where an enrolled PC keeps its own key

    def write(self, path: str, content: bytes, mode: int) -> None:
        raise NotImplementedError

    def remote_path(self, path: str) -> str:
        return path

    def agent(self) -> None:
        raise NotImplementedError

    def service(self, changed: bool) -> None:
        raise NotImplementedError

    def command(self, argv: list[str], timeout: float | None = None):
        raise NotImplementedError

    def agent_argv(self) -> list[str]:
        raise NotImplementedError

    def must(self, *argv: str, timeout: float | None = None, what: str | None = None) -> str:
        """The command's stdout; RemoteError with its last words when it fails."""
        rc, out, err = self.command(list(argv), timeout)
        if rc != 0:
            raise ssh.RemoteError(f"{what or ' '.join(argv[:3])} failed ({rc}): "
                                  f"{(err or out).strip()[-300:]}")
        return out

    def ok(self, *argv: str) -> bool:
        return self.command(list(argv))[0] == 0

    def secure_token(self) -> None:
        pass

    def can_send(self) -> bool:
        return True

    def first_report_argv(self) -> list[str]:
        return [*self.agent_argv(), "agent", "run", "--once", "--config", self.config]

    def file(self, path: str, content: bytes, mode: int, what: str) -> bool:
        if self.session.get(self.remote_path(path)) == content:
            return False
        self.out.changed.append(f"{what}: {path}")
        if not self.options.dry_run:
            self.write(path, content, mode)
        return True

    def deploy(self) -> None:
        from yte_compliance.agent.send import read_token
        from yte_compliance.agent.spool import SendError

        self.agent()
        # the site's enrollment secret (<site>.enroll) when there is one: each PC then
        # enrolls for its own key; else the site token (<site>.token)
        secret = self.options.tokens_dir / f"{self.host.site}.enroll"
        key = self.key_path if secret.exists() and self.key_path else None
        try:
            token = read_token(secret if key else
                               self.options.tokens_dir / f"{self.host.site}.token")
        except SendError as e:
            raise ssh.RemoteError(f"no token for site {self.host.site}: {e}") from None
        text = agent_config(self.host.site, self.options.collector_url, self.token_path,
                            self.ca_path if self.options.ca_file else None, self.spool, key)
        changed = self.file(self.config, text.encode(), 0o644, "cấu hình / config")
        enrolled = key is not None and self.session.get(self.remote_path(key)) is not None
        if not enrolled and self.file(self.token_path, (token + "\n").encode(), 0o600,
                                      "token"):
            changed = True
            if not self.options.dry_run:
                self.secure_token()
        if self.options.ca_file:
            ca = self.options.ca_file.read_bytes()
            changed = self.file(self.ca_path, ca, 0o644, "CA") or changed
        self.service(changed or bool(self.out.changed))
        if self.options.dry_run or not self.out.changed or not self.can_send():
            return
        rc, out, err = self.command(self.first_report_argv(), timeout=max(self.timeout, 60))
        said = (err or out).strip().splitlines()
        if rc != 0:
            raise ssh.RemoteError("installed, but the first report was not taken: "
                                  + (said[-1] if said else f"exit {rc}"))
        self.out.notes.append("báo cáo đầu tiên đã tới bộ thu / first report received by the "
                              "collector" + (f" ({said[-1]})" if said else ""))


class _LinuxSteps(_Steps):
    def __init__(self, *args):
        super().__init__(*args)
        self.run = ssh.RemoteRunner(self.session, sudo=self.host.sudo, max_timeout=self.timeout)
        self.at = at = self.options.layout
        self.config, self.token_path, self.ca_path = at.config, at.token, at.ca
        self.spool = f"{at.state}/spool"
        self.key_path = f"{at.state}/host.key"

    def command(self, argv: list[str], timeout: float | None = None):
        r = self.run(argv, timeout=timeout or self.timeout)
        return r.returncode, r.stdout, r.stderr

    def write(self, path: str, content: bytes, mode: int) -> None:
        self.must("mkdir", "-p", str(Path(path).parent))
        self.session.put(content, path + ".yte-new", mode)
        self.must("mv", "-f", path + ".yte-new", path)

    def agent_argv(self) -> list[str]:
        return [f"{self.at.venv}/bin/yte"]

    def agent(self) -> None:
        why = python_ok(self.run, self.host)
        if why:
            raise ssh.RemoteError(f"cannot install the agent: {why}")
        version = self.must(self.host.python, "-c",
                            "import sys; print('%d.%d' % sys.version_info[:2])").strip()
        machine = self.must("uname", "-m").strip()
        wheels = wheels_for(version, machine, self.options)
        digest = wheels_digest(wheels)
        installed = self.session.get(f"{self.at.wheels}/DIGEST")
        if installed == digest.encode() and self.ok(f"{self.at.venv}/bin/yte", "--version"):
            return
        names = ", ".join(w.name for w in wheels)
        self.out.changed.append(f"tác tử / agent: {self.at.venv} ({names})")
        if self.options.dry_run:
            return
        if not self.ok(self.host.python, "-m", "venv", "--help"):
            raise ssh.RemoteError(f"{self.host.python} has no venv module "
                                  f"(Debian: apt install python3-venv)")
        self.must("rm", "-rf", self.at.wheels)
        self.must("mkdir", "-p", self.at.wheels)
        for w in wheels:
            self.session.put(w.read_bytes(), f"{self.at.wheels}/{w.name}", 0o644)
        self.must(self.host.python, "-m", "venv", "--clear", self.at.venv, timeout=300)
        self.must(f"{self.at.venv}/bin/python", "-m", "pip", "install", "-q", "--no-index",
                  "--no-deps", "--disable-pip-version-check",
                  *(f"{self.at.wheels}/{w.name}" for w in wheels), timeout=600)
        self.session.put(digest.encode(), f"{self.at.wheels}/DIGEST", 0o644)

    def service(self, changed: bool) -> None:
        unit_changed = self.file(self.at.unit, unit_text(self.at).encode(), 0o644,
                                 "unit systemd")
        if self.at.root != "/":
            self.out.notes.append(f"cây thử / under {self.at.root}, not the system's root: "
                                  "the unit is written, not enabled")
            return
        if not self.ok("test", "-d", "/run/systemd/system"):
            self.out.notes.append("không có trình quản lý dịch vụ (systemd không chạy) / no "
                                  "service manager running: the unit is written, not enabled")
            return
        enabled = self.ok("systemctl", "is-enabled", "--quiet", "yte-agent.service")
        active = self.ok("systemctl", "is-active", "--quiet", "yte-agent.service")
        if changed or unit_changed or not (enabled and active):
            self.out.changed.append("dịch vụ / service: enabled and (re)started")
            if not self.options.dry_run:
                self.must("systemctl", "daemon-reload")
                self.must("systemctl", "enable", "yte-agent.service")
                self.must("systemctl", "restart", "yte-agent.service")


class _WindowsSteps(_Steps):
    """Windows with OpenSSH Server: the frozen yte.exe (docs/deploy-windows.md), the
    same files under C:\\ProgramData\\yte, the scheduled task by `yte.exe agent install`.
    Commands go through cmd.exe (OpenSSH's default shell); SFTP takes /C:/… paths."""

    DATA = r"C:\ProgramData\yte"

    def __init__(self, *args):
        super().__init__(*args)
        self.config = WINDOWS_CONFIG
        self.token_path, self.ca_path = rf"{self.DATA}\token", rf"{self.DATA}\collector-ca.pem"
        self.spool = rf"{self.DATA}\spool"

    def remote_path(self, path: str) -> str:
        return "/" + path.replace("\\", "/")

    def command(self, argv: list[str], timeout: float | None = None):
        rc, out, err = self.session.execute(ssh.windows_command_line(argv),
                                            timeout=timeout or self.timeout)
        return rc, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")

    def ps(self, script: str) -> str:
        return self.must("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script,
                         what="PowerShell")

    def write(self, path: str, content: bytes, mode: int) -> None:
        parent = path.rsplit("\\", 1)[0]
        self.ps(f"New-Item -ItemType Directory -Force -Path '{parent}' | Out-Null")
        self.session.put(content, self.remote_path(path) + ".yte-new", 0o644)
        self.ps(f"Move-Item -Force -LiteralPath '{path}.yte-new' -Destination '{path}'")

    def secure_token(self) -> None:
        # SIDs, not names: "Administrators" is "Quản trị viên" on a Vietnamese Windows
        self.must("icacls", self.token_path, "/inheritance:r", "/grant:r", "*S-1-5-18:F",
                  "*S-1-5-32-544:F", what="icacls")

    def agent_argv(self) -> list[str]:
        return [WINDOWS_EXE]

    def agent(self) -> None:
        exe = self.options.windows_exe
        if exe is None:
            raise ssh.RemoteError("Windows: cần --windows-exe / pass --windows-exe yte.exe "
                                  "(the frozen agent, docs/deploy-windows.md)")
        data = exe.read_bytes()
        want = hashlib.sha256(data).hexdigest()
        have = self.ps(f"if (Test-Path -LiteralPath '{WINDOWS_EXE}') {{ (Get-FileHash "
                       f"-Algorithm SHA256 -LiteralPath '{WINDOWS_EXE}').Hash }}")
        if have.strip().lower() == want:
            return
        self.out.changed.append(f"tác tử / agent: {WINDOWS_EXE} (sha256 {want[:12]}…)")
        if not self.options.dry_run:
            self.write(WINDOWS_EXE, data, 0o755)

    def service(self, changed: bool) -> None:
        exists = self.ok("schtasks", "/Query", "/TN", TASK_NAME)
        if changed or not exists:
            self.out.changed.append(f"tác vụ định kỳ / scheduled task: {TASK_NAME}")
            if not self.options.dry_run:
                self.must(WINDOWS_EXE, "agent", "install", "--config", self.config,
                          what="yte.exe agent install")


# TLS 1.2 for PowerShell 2.0 (.NET 3.5) and SChannel's client on Windows 7: the values
# Microsoft documents with KB3154518 ("TLS 1.2 support for .NET 3.5.1") and for SChannel.
NET35 = r"HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727"
NET35_WOW = r"HKLM\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v2.0.50727"
SCHANNEL_TLS12 = r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL" \
                 r"\Protocols\TLS 1.2\Client"
TLS12_VALUES = ((NET35, "SystemDefaultTlsVersions", 1), (NET35, "SchUseStrongCrypto", 1),
                (NET35_WOW, "SystemDefaultTlsVersions", 1), (NET35_WOW, "SchUseStrongCrypto", 1),
                (SCHANNEL_TLS12, "DisabledByDefault", 0), (SCHANNEL_TLS12, "Enabled", 1))
TLS12_UPDATE = "KB3154518"  # .NET 3.5.1 on Windows 7 SP1 / Server 2008 R2 SP1
PS2_SCRIPT = r"C:\ProgramData\yte\collect-ps2.ps1"


class _Windows7Steps(_WindowsSteps):
    """Windows 7 (PowerShell 2.0; Python 3.9+ does not run there): collect-ps2.ps1 and the
    token, TLS 1.2 switched on for .NET 3.5 and SChannel, a scheduled task that runs the
    script every 15 minutes. Without KB3154518 the script cannot send: said, not hidden."""

    update_missing = False  # set by tls(): KB3154518 is not installed

    def agent(self) -> None:
        from yte_compliance.core.assets import asset_text

        script = asset_text("yte_compliance.agent", "windows/collect-ps2.ps1").encode("utf-8")
        self.file(PS2_SCRIPT, script, 0o644, "tác tử / agent (collect-ps2.ps1)")
        self.tls12()

    def tls12(self) -> None:
        for key, name, value in TLS12_VALUES:
            rc, out, _ = self.command(["reg", "query", key, "/v", name])
            if rc == 0 and out.split() and out.split()[-1].lower() in (f"0x{value:x}", str(value)):
                continue
            self.out.changed.append(f"TLS 1.2: {key} {name}={value}")
            if not self.options.dry_run:
                self.must("reg", "add", key, "/v", name, "/t", "REG_DWORD", "/d", str(value),
                          "/f", what="reg add")
        found = self.ps(f"@(Get-WmiObject Win32_QuickFixEngineering -Filter "
                        f"\"HotFixID='{TLS12_UPDATE}'\").Count")
        self.update_missing = found.strip() in ("", "0")
        if self.update_missing:
            self.out.notes.append(
                f"CHƯA GỬI ĐƯỢC / cannot send yet: {TLS12_UPDATE} (TLS 1.2 for .NET 3.5.1) is "
                "not installed; install it from the Microsoft Update Catalog, then deploy "
                "again. Reports wait in the spool meanwhile.")

    def can_send(self) -> bool:
        return not self.update_missing

    def script_argv(self) -> list[str]:
        return ["powershell.exe", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File",
                PS2_SCRIPT, "-Collector", self.options.collector_url,
                "-TokenFile", self.token_path, "-Site", self.host.site]

    def first_report_argv(self) -> list[str]:
        return self.script_argv()

    def service(self, changed: bool) -> None:
        exists = self.ok("schtasks", "/Query", "/TN", TASK_NAME)
        if changed or not exists:
            self.out.changed.append(f"tác vụ định kỳ / scheduled task: {TASK_NAME}")
            if not self.options.dry_run:
                command = ssh.windows_command_line(self.script_argv())
                self.must("schtasks", "/Create", "/TN", TASK_NAME, "/RU", "SYSTEM", "/SC",
                          "MINUTE", "/MO", "15", "/F", "/TR", command, what="schtasks")


def _windows_steps(session, host: Host, timeout: float) -> type[_Steps]:
    """Windows 7 answers PowerShell 2: the script, not the frozen agent."""
    rc, out, _ = session.execute(ssh.windows_command_line(
        ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command",
         "$PSVersionTable.PSVersion.Major"]), timeout=timeout)
    major = out.decode("utf-8", errors="replace").strip()
    return _Windows7Steps if rc == 0 and major == "2" else _WindowsSteps


def deploy_host(host: Host, settings: Settings, options: Options, *,
                connect: Callable[..., object] = ssh.connect) -> Outcome:
    out = Outcome(host, dry_run=options.dry_run)
    try:
        session = connect(host, settings.keys, timeout=settings.connect_timeout,
                         password=settings.passwords.get(host.name))
        try:
            steps = (_windows_steps(session, host, settings.command_timeout)
                     if host.platform == "windows" else _LinuxSteps)
            steps(session, host, options, settings.command_timeout, out).deploy()
        finally:
            session.close()
    except (ssh.RemoteError, DeployError) as e:
        out.error = str(e)
    except Exception as e:  # noqa: BLE001 - one host never stops the others
        out.error = f"{type(e).__name__}: {e}"
    return out


def deploy_all(hosts: Iterable[Host], settings: Settings, options: Options, *,
               workers: int = 4, on_done: Callable[[Outcome], None] = lambda o: None
               ) -> list[Outcome]:
    hosts = list(hosts)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(deploy_host, h, settings, options) for h in hosts]
        for f in as_completed(futures):
            on_done(f.result())
        return [f.result() for f in futures]


def summary(outcomes: list[Outcome]) -> str:
    out = io.StringIO()
    for o in outcomes:
        if o.error:
            out.write(f"{o.host.label}: LỖI/FAILED {o.error}\n")
            continue
        if not o.changed:
            out.write(f"{o.host.label}: không có gì thay đổi / nothing to change\n")
        else:
            verb = "sẽ đổi / would change" if o.dry_run else "đã đổi / changed"
            out.write(f"{o.host.label}: {verb}:\n")
            for c in o.changed:
                out.write(f"  - {c}\n")
        for n in o.notes:
            out.write(f"  · {n}\n")
    return out.getvalue().rstrip("\n")
