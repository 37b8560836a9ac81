"""Install the agent on Linux hosts over SSH: its own virtual environment from wheels
carried from here (hosts need no Internet), its config, its site token and the systemd
unit; then one report. Every step compares first, so a second run changes nothing."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from agent.install import UNIT_PATH, install_plan
from agent.remote import ssh
from agent.remote.audit import Settings, python_ok
from agent.remote.inventory import Host


@dataclass(frozen=True)
class Layout:
    """Where the agent goes on the host; ``root`` moves it all (a test host's folder)."""

    root: str = "/"

    def _at(self, path: str) -> str:
        return str(Path(self.root) / path.lstrip("/"))

    @property
    def venv(self) -> str:
        return self._at("/opt/yte/venv")

    @property
    def wheels(self) -> str:
        return self._at("/opt/yte/wheels")

    @property
    def config(self) -> str:
        return self._at("/etc/yte/agent.yaml")

    @property
    def token(self) -> str:
        return self._at("/etc/yte/token")

    @property
    def ca(self) -> str:
        return self._at("/etc/yte/collector-ca.pem")

    @property
    def state(self) -> str:
        return self._at("/var/lib/yte")

    @property
    def unit(self) -> str:
        return self._at(UNIT_PATH)

# What the agent imports beyond the standard library (checked against pyproject.toml).
AGENT_REQUIREMENTS = ("click>=8.1", "pyyaml>=6.0", "netaddr>=1.0")
PROJECT = Path(__file__).resolve().parents[2]


class DeployError(Exception):
    """Nothing can be deployed (no wheel to carry): said before any host is touched."""


@dataclass(frozen=True)
class Options:
    collector_url: str
    tokens_dir: Path
    ca_file: Path | None = None
    wheel: Path | None = None
    dry_run: bool = False
    layout: Layout = Layout()
    cache: Path = Path.home() / ".cache" / "yte" / "wheels"


@dataclass
class Outcome:
    host: Host
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False


def agent_config(host: Host, options: Options) -> str:
    at = options.layout
    lines = ["# Viết bởi / written by `yte deploy ssh`; chạy lại lệnh đó để đổi / rerun it to change.",
             f"site: {host.site}", f"collector_url: {options.collector_url}",
             f"token_file: {at.token}"]
    if options.ca_file:
        lines.append(f"ca_file: {at.ca}")
    lines.append(f"spool_dir: {at.state}/spool")
    return "\n".join(lines) + "\n"


def unit_text(at: Layout) -> str:
    plan = install_plan("linux", config=at.config, exe=f"{at.venv}/bin/yte",
                        interval_seconds=900, jitter_seconds=120, state_dir=at.state)
    return plan.files[UNIT_PATH]


# ---- the wheels carried to the host --------------------------------------------------


def _pip(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise DeployError(f"pip {args[0]} failed: {proc.stderr.strip()[-500:]}")


def wheels_for(python: str, machine: str, options: Options) -> list[Path]:
    """The project's wheel and the agent's dependencies for a CPython ``python`` ("3.11")
    on ``machine`` ("x86_64"), downloaded once into the cache."""
    folder = options.cache / f"cp{python.replace('.', '')}-{machine}"
    folder.mkdir(parents=True, exist_ok=True)
    deps = folder / "deps"
    if not any(deps.glob("*.whl")):
        _pip("download", "--only-binary=:all:", "--no-deps", "--implementation", "cp",
             "--python-version", python, "--platform", f"manylinux2014_{machine}",
             "--platform", f"manylinux_2_17_{machine}", "--platform", "any", "-d", str(deps),
             *AGENT_REQUIREMENTS)
    return sorted(deps.glob("*.whl")) + [project_wheel(options)]


_project_wheel: dict[str, Path] = {}


def project_wheel(options: Options) -> Path:
    if options.wheel:
        return options.wheel
    if "built" not in _project_wheel:
        if not (PROJECT / "pyproject.toml").exists():
            raise DeployError("no checkout to build the agent's wheel from: pass --wheel")
        out = Path(tempfile.mkdtemp(prefix="yte-wheel-"))
        _pip("wheel", "--no-deps", "-q", "-w", str(out), str(PROJECT))
        _project_wheel["built"] = next(out.glob("yte_compliance-*.whl"))
    return _project_wheel["built"]


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


class _Host:
    """The steps on one connected host; each says what it changed, or nothing."""

    def __init__(self, session: ssh.Session, host: Host, options: Options, timeout: float,
                 out: Outcome):
        self.session, self.host, self.options, self.timeout, self.out = (
            session, host, options, timeout, out)
        self.run = ssh.RemoteRunner(session, sudo=host.sudo, max_timeout=timeout)
        self.at = options.layout

    def sh(self, *argv: str, timeout: float | None = None):
        return self.run(list(argv), timeout=timeout or self.timeout)

    def must(self, *argv: str, timeout: float | None = None) -> str:
        r = self.sh(*argv, timeout=timeout)
        if not r.ok:
            raise ssh.RemoteError(f"{' '.join(argv[:3])} failed ({r.returncode}): "
                                  f"{(r.stderr or r.stdout).strip()[-300:]}")
        return r.stdout

    def file(self, path: str, content: bytes, mode: int, what: str) -> bool:
        if self.session.get(path) == content:
            return False
        self.out.changed.append(f"{what}: {path}")
        if not self.options.dry_run:
            self.must("mkdir", "-p", str(Path(path).parent))
            self.session.put(content, path + ".yte-new", mode)
            self.must("mv", "-f", path + ".yte-new", path)
        return True

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
        works = self.sh(f"{self.at.venv}/bin/yte", "--version").ok if installed else False
        if installed == digest.encode() and works:
            return
        self.out.changed.append(f"tác tử / agent: {self.at.venv} ({', '.join(w.name for w in wheels)})")
        if self.options.dry_run:
            return
        if not self.sh(self.host.python, "-m", "venv", "--help").ok:
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

    def service(self, unit_changed: bool) -> None:
        if self.at.root != "/":
            self.out.notes.append(f"cây thử / under {self.at.root}, not the system's root: "
                                  "the unit is written, not enabled")
            return
        if not self.sh("test", "-d", "/run/systemd/system").ok:
            self.out.notes.append("không có trình quản lý dịch vụ (systemd không chạy) / no "
                                  "service manager running: the unit is written, not enabled")
            return
        enabled = self.sh("systemctl", "is-enabled", "--quiet", "yte-agent.service").ok
        active = self.sh("systemctl", "is-active", "--quiet", "yte-agent.service").ok
        if unit_changed or not (enabled and active):
            self.out.changed.append("dịch vụ / service: enabled and (re)started")
            if not self.options.dry_run:
                self.must("systemctl", "daemon-reload")
                self.must("systemctl", "enable", "yte-agent.service")
                self.must("systemctl", "restart", "yte-agent.service")

    def deploy(self) -> None:
        from agent.send import read_token

        self.agent()
        config_changed = self.file(self.at.config, agent_config(self.host, self.options).encode(),
                                   0o644, "cấu hình / config")
        try:
            token = read_token(self.options.tokens_dir / f"{self.host.site}.token")
        except Exception as e:  # noqa: BLE001 - SendError says which file and why
            raise ssh.RemoteError(f"no token for site {self.host.site}: {e}") from None
        changed = self.file(self.at.token, (token + "\n").encode(), 0o600, "token") or config_changed
        if self.options.ca_file:
            ca = self.options.ca_file.read_bytes()
            changed = self.file(self.at.ca, ca, 0o644, "CA") or changed
        unit_changed = self.file(self.at.unit, unit_text(self.at).encode(), 0o644, "unit systemd")
        self.service(unit_changed)
        if self.options.dry_run or not self.out.changed:
            return
        r = self.sh(f"{self.at.venv}/bin/yte", "agent", "run", "--once", "--config", self.at.config,
                    timeout=max(self.timeout, 60))
        said = (r.stderr or r.stdout).strip().splitlines()
        if not r.ok:
            raise ssh.RemoteError("installed, but the first report was not taken: "
                                  + (said[-1] if said else f"exit {r.returncode}"))
        self.out.notes.append("báo cáo đầu tiên đã tới bộ thu / first report received by the "
                              "collector" + (f" ({said[-1]})" if said else ""))


def deploy_host(host: Host, settings: Settings, options: Options, *,
                connect: Callable[..., object] = ssh.connect) -> Outcome:
    out = Outcome(host, dry_run=options.dry_run)
    if host.platform != "linux":
        out.error = ("Windows: cài bằng gói MSI / install with the MSI and GPO "
                     "(docs/deploy-windows.md); deploy over SSH is for Linux hosts")
        return out
    try:
        session = connect(host, settings.keys, timeout=settings.connect_timeout,
                         password=settings.passwords.get(host.name))
        try:
            _Host(session, host, options, settings.command_timeout, out).deploy()
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
