"""Audit hosts over SSH, in parallel: each host gives a report of the agent's schema
(source "ssh") or a failure with its reason; one host never stops the others."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.windows import NETSH_FIREWALL, script_text
from yte_compliance.agent.remote import ssh
from yte_compliance.agent.remote.bundle import MIN_PYTHON, build_bundle
from yte_compliance.agent.remote.inventory import Host
from yte_compliance.agent.remote.onhost import linux_report
from yte_compliance.agent.remote.snapshot import SnapshotError, materialize, script
from yte_compliance.agent.replay import batch_runner, windows_report
from yte_compliance.agent.runner import CommandError, decode_output
from yte_compliance.core.report import Report, ReportError, parse_report


@dataclass
class Outcome:
    host: Host
    report: Report | None = None
    method: str | None = None  # python3 | shell | powershell
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    delivery: str | None = None  # where the report went, or why it did not

    @property
    def ok(self) -> bool:
        return self.report is not None and self.error is None


@dataclass(frozen=True)
class Settings:
    keys: ssh.HostKeys
    connect_timeout: float = 10.0
    command_timeout: float = 120.0
    passwords: dict[str, str] = field(default_factory=dict)  # host name → password


def python_ok(runner: ssh.RemoteRunner, host: Host) -> str | None:
    """None when the host's python3 can run the bundle, else why not."""
    try:
        r = runner([host.python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"])
    except CommandError as e:
        return str(e)
    try:
        version = tuple(int(x) for x in r.stdout.split())
    except ValueError:
        version = ()
    if not r.ok or len(version) != 2:
        return f"{host.python} did not answer: {(r.stderr or r.stdout).strip()[:200]}"
    if version < MIN_PYTHON:
        return f"{host.python} is {version[0]}.{version[1]}, older than " \
               f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
    return None


def _run_copied(session: ssh.Session, data: bytes, suffix: str,
                command: Callable[[str], str], what: str, timeout: float) -> bytes:
    """Copy ``data`` into the login's home, run the command made for its name, remove it:
    its stdout, or RemoteError with its last words."""
    name = f".yte-audit-{uuid.uuid4().hex[:12]}{suffix}"
    session.put(data, name)
    try:
        rc, out, err = session.execute(command(name), timeout=timeout)
    finally:
        session.remove(name)
    if rc != 0:
        raise ssh.RemoteError(f"{what} failed ({rc}): "
                              f"{err.decode(errors='replace').strip()[-300:]}")
    return out


def _linux_with_python(session: ssh.Session, runner: ssh.RemoteRunner, host: Host,
                       timeout: float) -> Report:
    out = _run_copied(session, build_bundle(), ".pyz",
                      lambda name: runner.command_line([host.python, name, host.site]),
                      host.python, timeout)
    try:
        return parse_report(json.loads(out))
    except (ValueError, ReportError) as e:
        raise ssh.RemoteError(f"the host printed no valid report: {e}") from None


def _linux_with_shell(session: ssh.Session, runner: ssh.RemoteRunner, host: Host,
                      timeout: float) -> Report:
    rc, out, err = session.execute(runner.command_line(["sh", "-s"]),
                                   timeout=timeout, stdin=script().encode())
    if rc != 0:
        raise ssh.RemoteError(f"sh failed ({rc}): {err.decode(errors='replace').strip()[:300]}")
    with tempfile.TemporaryDirectory(prefix="yte-snapshot-") as tmp:
        try:
            materialize(out.decode("ascii", errors="replace"), Path(tmp))
        except (SnapshotError, ValueError) as e:
            raise ssh.RemoteError(f"unusable shell output: {e}") from None
        return linux_report(Context(root=Path(tmp), run=runner), host.site)


def audit_linux(session: ssh.Session, host: Host, timeout: float) -> tuple[Report, str, list[str]]:
    runner = ssh.RemoteRunner(session, sudo=host.sudo, max_timeout=timeout)
    why_not = python_ok(runner, host)
    if why_not is None:
        return _linux_with_python(session, runner, host, timeout), "python3", []
    note = f"không dùng được python3, dùng shell / no usable python3, shell fallback: {why_not}"
    return _linux_with_shell(session, runner, host, timeout), "shell", [note]


def audit_windows(session: ssh.Session, host: Host, timeout: float) -> tuple[Report, str, list[str]]:
    """collect.ps1 copied over SFTP and run with -File (the script is longer than cmd.exe
    accepts inline), netsh beside it; parsed here by the Windows probes."""
    script = script_text().encode("utf-8")
    out = _run_copied(session, script, ".ps1", lambda name: ssh.windows_command_line(
        ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
         "-File", name]), "PowerShell", timeout)
    try:
        batch = json.loads(decode_output(out).lstrip("\ufeff"))
    except ValueError as e:
        raise ssh.RemoteError(f"PowerShell printed no JSON: {e}") from None
    netsh = None
    rc, nout, _ = session.execute(ssh.windows_command_line(NETSH_FIREWALL), timeout=timeout)
    if rc == 0:
        netsh = decode_output(nout)
    try:
        report = windows_report(batch_runner(batch, netsh), site=host.site, now=time.time(),
                                origin="ssh")
    except Exception as e:  # noqa: BLE001 - a broken batch fails this host only
        raise ssh.RemoteError(f"no MachineGuid or computer name in the batch: {e}") from None
    return report, "powershell", []


def audit_host(host: Host, settings: Settings, *,
               connect: Callable[..., object] = ssh.connect,
               clock: Callable[[], float] = time.monotonic) -> Outcome:
    """One host, every failure caught and said."""
    start = clock()
    outcome = Outcome(host)
    try:
        session = connect(host, settings.keys, timeout=settings.connect_timeout,
                         password=settings.passwords.get(host.name))
        try:
            audit = audit_windows if host.platform == "windows" else audit_linux
            outcome.report, outcome.method, outcome.notes = audit(
                session, host, settings.command_timeout)
        finally:
            session.close()
        if outcome.report.site != host.site:
            raise ssh.RemoteError(f"report for site {outcome.report.site}, not {host.site}")
    except ssh.RemoteError as e:
        outcome.error = str(e)
    except CommandError as e:
        outcome.error = f"lệnh không xong / command failed: {e}"
    except Exception as e:  # noqa: BLE001 - one host never stops the others
        outcome.error = f"{type(e).__name__}: {e}"
    outcome.seconds = clock() - start
    return outcome


def audit_all(hosts: Iterable[Host], settings: Settings, *, workers: int = 4,
              on_done: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Every host, ``workers`` at a time; outcomes in the inventory's order."""
    hosts = list(hosts)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(audit_host, h, settings) for h in hosts]
        for f in as_completed(futures):
            on_done(f.result())
        return [f.result() for f in futures]


# ---- delivery -------------------------------------------------------------------------


def deliver(outcomes: list[Outcome], *, url: str | None, tokens_dir: Path | None,
            unsent_dir: Path, ca_file: Path | None = None, output: Path | None = None
            ) -> None:
    """Each report to the collector with its site's token and/or as a file in ``output``.
    A report the collector did not take is kept in ``unsent_dir`` (`yte audit send`)."""
    from yte_compliance.agent.spool import SendError

    for o in outcomes:
        if o.report is None:
            continue
        body = json.dumps(o.report.to_json_obj(), ensure_ascii=False).encode()
        said = []
        if output is not None:
            said.append(f"ghi / written {save(output, o.report.site, o.host.name, body)}")
        if url is not None:
            try:
                send(body, o.report.site, url=url, tokens_dir=tokens_dir, ca_file=ca_file)
                said.append("đã gửi / sent")
            except SendError as e:
                kept = save(unsent_dir, o.report.site, o.host.name, body)
                o.error = f"chưa gửi được / not sent: {e} (kept in {kept})"
        o.delivery = "; ".join(said) or None


def send(body: bytes, site: str, *, url: str, tokens_dir: Path | None,
         ca_file: Path | None = None) -> None:
    """POST one report with its site's token (``tokens_dir/<site>.token``); SendError
    says why it was not taken."""
    from yte_compliance.agent.send import post_report, read_token
    from yte_compliance.agent.spool import SendError

    if tokens_dir is None:
        raise SendError("no tokens_dir for the site tokens", retry=False)
    post_report(url, read_token(tokens_dir / f"{site}.token"), body, ca_file=ca_file)


def send_kept(folder: Path, *, url: str, tokens_dir: Path, ca_file: Path | None = None
              ) -> list[tuple[str, str | None]]:
    """Send the reports an earlier audit kept; each sent one is removed. (file name, why
    it was not sent or None) per file."""
    from yte_compliance.agent.spool import SendError

    results = []
    for path in sorted(folder.glob("*.json")):
        try:
            body = path.read_bytes()
            send(body, parse_report(json.loads(body)).site, url=url, tokens_dir=tokens_dir,
                 ca_file=ca_file)
        except (SendError, ReportError, ValueError) as e:
            results.append((path.name, str(e)))
            continue
        path.unlink()
        results.append((path.name, None))
    return results


def save(folder: Path, site: str, host: str, body: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{site}--{host}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(path)
    return path


# ---- summary --------------------------------------------------------------------------


def _fact(report: Report, probe: str, name: str):
    result = report.probes.get(probe)
    return getattr(result.facts, name, None) if result and result.facts else None


def _yes(value, yes: str, no: str) -> str:
    return "?" if value is None else (yes if value else no)


def host_line(o: Outcome) -> str:
    head = f"{o.host.name:<20} {o.host.site:<14} {o.host.platform:<8}"
    if not o.ok:
        return f"{head} LỖI/FAILED  {o.error}"
    r = o.report
    ram = _fact(r, "hardware", "memory_installed_bytes")
    media = _fact(r, "hardware", "os_disk_media")
    facts = " · ".join([
        "RAM ?" if ram is None else f"RAM {ram / (1 << 30):.1f} GiB",
        f"đĩa/disk {media or '?'}",
        "tường lửa/firewall " + _yes(_fact(r, "firewall", "inbound_filtering"), "bật/on", "tắt/off"),
        "diệt virus/AV " + _yes(_fact(r, "antivirus", "any_running"), "chạy/running", "không/none"),
        "IPv6 " + _yes(_fact(r, "ipv6", "has_global_address"), "toàn cầu/global", "không/none"),
    ])
    return f"{head} OK ({o.method}, {o.seconds:.1f} s)  {facts}"


def summary(outcomes: list[Outcome]) -> str:
    lines = ["# Từng máy / per host"]
    for o in outcomes:
        lines.append(host_line(o))
        lines += [f"{'':<20}   - {n}" for n in o.notes]
        if o.delivery:
            lines.append(f"{'':<20}   - {o.delivery}")
    lines.append("# Từng cơ sở / per site (facts counted; verdicts are the collector's)")
    sites: dict[str, list[Outcome]] = {}
    for o in outcomes:
        sites.setdefault(o.host.site, []).append(o)
    for site, group in sorted(sites.items()):
        good = [o.report for o in group if o.ok]
        tally = [f"{sum(1 for o in group if o.ok)}/{len(group)} máy đã kiểm / hosts audited"]
        for label, probe, name, want in (("SSD", "hardware", "os_disk_media", "ssd"),
                                         ("firewall", "firewall", "inbound_filtering", True),
                                         ("AV", "antivirus", "any_running", True),
                                         ("IPv6", "ipv6", "has_global_address", True)):
            values = [_fact(r, probe, name) for r in good]
            known = [v for v in values if v is not None]
            tally.append(f"{label} {sum(1 for v in known if v == want)}/{len(known)}"
                         + (f" (+{len(values) - len(known)} ?)" if len(known) < len(values) else ""))
        lines.append(f"{site:<14} " + ", ".join(tally))
    failed = [o for o in outcomes if not o.ok]
    if failed:
        lines.append(f"# Lỗi / failures: {len(failed)}")
        lines += [f"{o.host.label}: {o.error}" for o in failed]
    return "\n".join(lines)
