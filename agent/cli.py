"""`yte agent …`: collect facts, print them, send them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from yte_compliance.agent.config import AgentConfig, load_agent_config
from yte_compliance.agent.probe import Context
from yte_compliance.core.yamlconf import ConfigError


def _load(config: str | None) -> AgentConfig | None:
    if config is None:
        return None
    try:
        return load_agent_config(config)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _host_id(cfg: AgentConfig | None, ctx: Context, platform: str) -> str:
    from yte_compliance.agent.identity import host_id_from_machine_id, linux_machine_id

    if cfg and cfg.host_id:
        return cfg.host_id
    try:
        if platform == "windows":
            from yte_compliance.agent.probes.windows import SourceFailed, source

            try:
                return host_id_from_machine_id(str(source(ctx, "machine_guid")[0]))
            except (SourceFailed, IndexError) as e:
                raise LookupError(f"no MachineGuid ({e}); set host_id in the config") from None
        return host_id_from_machine_id(linux_machine_id(ctx.root))
    except LookupError as e:
        raise click.ClickException(str(e)) from None


def build_report(cfg: AgentConfig | None, root: Path, site: str | None = None):
    from yte_compliance.agent.collect import collect_report
    from yte_compliance.agent.probes import UnsupportedPlatform, current_platform

    try:
        platform = current_platform()
    except UnsupportedPlatform as e:
        raise click.ClickException(str(e)) from None
    ctx = Context(root=root)
    host_id = _host_id(cfg, ctx, platform)
    if cfg and (cfg.ipv6_endpoint or cfg.collector_url):
        from yte_compliance.agent.probes.ipv6 import Endpoint

        ctx.options["ipv6_endpoint"] = Endpoint(cfg.ipv6_endpoint or cfg.collector_url,
                                                cfg.ipv6_timeout_seconds)
        ctx.options["ipv6_router_advertisement"] = cfg.ipv6_router_advertisement
    enabled: frozenset[str] = frozenset()
    if cfg and cfg.bandwidth is not None:
        access = _access(cfg, host_id)
        if access is not None:
            ctx.options.update(bandwidth_plan=cfg.bandwidth, access=access)
            enabled = frozenset({"bandwidth"})
    return collect_report(
        ctx, platform=platform,
        site=site or (cfg.site if cfg else "unassigned"),
        host_id=host_id,
        disabled=cfg.disabled_probes if cfg else frozenset(),
        enabled=enabled,
    )


def _access(cfg: AgentConfig, host_id: str):
    from yte_compliance.agent.probes.bandwidth import Access
    from yte_compliance.agent.send import read_token
    from yte_compliance.agent.spool import SendError

    if not cfg.collector_url or not cfg.token_file:
        return None
    try:
        token = read_token(cfg.token_file)
    except SendError:
        return None  # the bandwidth probe then says it has no collector
    return Access(cfg.collector_url, token, host_id, str(cfg.ca_file) if cfg.ca_file else None)


@click.group()
def agent() -> None:
    """Tác tử trên máy trạm / the agent on a PC."""


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False), help="agent YAML file")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--root", type=click.Path(file_okay=False), default="/", show_default=True,
              help="read /proc, /sys and /etc under this root (recorded Linux machines)")
@click.option("--replay", type=click.Path(file_okay=False, exists=True),
              help="run the Windows probes on a recorded case folder (tests/fixtures/windows/…)")
def collect(config: str | None, as_json: bool, root: str, replay: str | None) -> None:
    """Thu thập và in báo cáo / collect and print this machine's report."""
    cfg = _load(config)
    if replay:
        from yte_compliance.agent.replay import replay_windows

        report = replay_windows(Path(replay), cfg.site if cfg else "unassigned", time.time())
    else:
        report = build_report(cfg, Path(root))
    if as_json:
        click.echo(json.dumps(report.to_json_obj(), ensure_ascii=False, indent=2))
    else:
        from yte_compliance.agent.show import format_report

        click.echo(format_report(report))


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False), required=True)
def bandwidth(config: str) -> None:
    """Đo băng thông của cơ sở một lần / measure the site's bandwidth once (JSON)."""
    import dataclasses

    from yte_compliance.agent.probe import run_probe
    from yte_compliance.agent.probes import bandwidth as bw

    cfg = _load(config)
    assert cfg is not None
    if cfg.bandwidth is None:
        raise click.ClickException("bandwidth: enabled: true is not set in the configuration")
    ctx = Context()
    from yte_compliance.agent.probes import current_platform

    access = _access(cfg, _host_id(cfg, ctx, current_platform()))
    ctx.options.update(bandwidth_plan=cfg.bandwidth, access=access)
    result = run_probe(bw.collect, ctx)
    out = {"status": result.status, "reason": result.reason,
           "duration_seconds": round(result.duration_seconds, 2),
           "facts": dataclasses.asdict(result.facts) if result.facts else None}
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    sys.exit(0 if result.status == "ok" else 1)


def _spool(cfg: AgentConfig):
    from yte_compliance.agent.spool import Spool, SpoolLimits

    return Spool(cfg.spool_dir, SpoolLimits(
        max_reports=cfg.spool_max_reports, max_bytes=int(cfg.spool_max_megabytes * (1 << 20)),
        max_age_seconds=cfg.spool_max_age_days * 86400))


def collect_into_spool(cfg: AgentConfig, root: Path, say=None) -> bool:
    """Collect one report and write it to the spool (before any attempt to send it).
    A write that fails (a full disk) is said in one line and counted as a dropped
    report; the agent goes on. True when the report is in the spool."""
    spool = _spool(cfg)
    spool.enforce(time.time())
    report = build_report(cfg, root)
    report.spool_dropped_total = spool.dropped_total()
    body = json.dumps(report.to_json_obj(), ensure_ascii=False).encode()
    try:
        spool.put(report.collected_at, report.report_id, body)
        return True
    except OSError as e:
        try:
            spool.count_dropped(1)
        except OSError:
            pass  # the counter's file could not even be opened: the line below still says it
        (say or _warn)(f"không ghi được báo cáo vào hàng đợi {cfg.spool_dir}, báo cáo này bị "
                       f"mất / could not write the report to the spool, it is lost: "
                       f"{e.strerror or e}")
        return False


def _warn(message: str) -> None:
    click.echo(f"yte agent: {message}", err=True)


def flush_spool(cfg: AgentConfig):
    from yte_compliance.agent.send import post_report, read_token
    from yte_compliance.agent.spool import FlushResult, SendError

    spool = _spool(cfg)
    try:
        token = read_token(cfg.token_file)
    except SendError as e:
        return FlushResult(error=str(e), retry=True, pending=len(spool.pending()))
    return spool.flush(lambda b: post_report(cfg.collector_url, token, b,
                                             timeout=cfg.timeout_seconds, ca_file=cfg.ca_file))


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False), required=True)
@click.option("--once", is_flag=True, help="send one report and exit (non-zero on failure)")
@click.option("--root", type=click.Path(file_okay=False), default="/", hidden=True)
def run(config: str, once: bool, root: str) -> None:
    """Thu thập định kỳ và gửi / collect every interval and send to the collector."""
    from yte_compliance.agent.loop import AgentLoop, Schedule

    cfg = _load(config)
    assert cfg is not None
    if not cfg.collector_url or not cfg.token_file:
        raise click.ClickException("collector_url and token_file are needed to send")
    if once:
        # what is spooled goes first: sending it is what frees a full disk
        first = flush_spool(cfg)
        kept = collect_into_spool(cfg, Path(root))
        if first.error and first.retry:  # unreachable: the new report waits with the rest
            result = first
            result.pending += int(kept)
        else:
            result = flush_spool(cfg)
            result.sent += first.sent
            result.error = result.error or first.error
        if not kept and not result.error:
            result.error = "báo cáo mới bị mất / the new report was lost"
        if result.error:
            click.echo(f"yte agent: chưa gửi được / not sent: {result.error} "
                       f"({result.pending} báo cáo trong hàng đợi / report(s) kept in the spool)",
                       err=True)
        else:
            click.echo(f"yte agent: đã gửi / sent {result.sent} report(s)", err=True)
        sys.exit(1 if result.error else 0)
    schedule = Schedule(cfg.interval_seconds, cfg.jitter_seconds, cfg.backoff_initial_seconds,
                        cfg.backoff_max_seconds)

    def collect() -> None:
        collect_into_spool(cfg, Path(root), say=_warn)
        if cfg.discovery is not None:
            discover_if_due(cfg)

    AgentLoop(schedule, collect, lambda: flush_spool(cfg),
              say=lambda m: click.echo(f"yte agent: {m}", err=True)).run()


def discover_if_due(cfg: AgentConfig, now: float | None = None, sweep=None) -> bool:
    """The site's scanner sweeps its LAN every discovery.interval_hours (state on disk, so
    a restart does not sweep again); a failure is said, never fatal to reporting."""
    if sweep is None:
        from yte_compliance.agent.discover_cli import discover_once as sweep

    stamp = cfg.spool_dir / "last-discovery"
    now = time.time() if now is None else now
    try:
        last = float(stamp.read_text())
    except (OSError, ValueError):
        last = 0.0
    if now - last < cfg.discovery.interval_hours * 3600:
        return False
    try:
        sweep(cfg, interface=cfg.discovery.interface, rate=cfg.discovery.rate_pps,
              timeout=cfg.discovery.timeout_seconds, out=None)
    except (click.ClickException, OSError, ValueError) as e:
        click.echo(f"yte agent: quét mạng thất bại / discovery failed: {e}", err=True)
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(str(now))
    return True


def _platform_option(f):
    return click.option("--platform", "platform_name", type=click.Choice(["linux", "windows"]),
                        help="plan for this platform (default: this machine's)")(f)


def _platform(name: str | None) -> str:
    from yte_compliance.agent.probes import UnsupportedPlatform, current_platform

    try:
        return name or current_platform()
    except UnsupportedPlatform as e:
        raise click.ClickException(str(e)) from None


@agent.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False),
              help="agent YAML (default /etc/yte/agent.yaml, C:\\ProgramData\\yte\\agent.yaml)")
@click.option("--exe", help="the yte executable the service runs (default: this one)")
@click.option("--dry-run", is_flag=True, help="print the definition and commands, change nothing")
@_platform_option
def install(config: str | None, exe: str | None, dry_run: bool, platform_name: str | None) -> None:
    """Cài dịch vụ / run the agent at boot and every interval (systemd unit, scheduled task)."""
    from yte_compliance.agent.install import WINDOWS_CONFIG, WINDOWS_EXE, execute, install_plan
    from yte_compliance.agent.runner import run as run_command

    platform = _platform(platform_name)
    default_config = WINDOWS_CONFIG if platform == "windows" else "/etc/yte/agent.yaml"
    cfg = _load(config) if config and Path(config).exists() else None
    default_exe = WINDOWS_EXE if platform == "windows" else f"{sys.executable} -m yte_compliance"
    plan = install_plan(platform, config=config or default_config, exe=exe or default_exe,
                        interval_seconds=cfg.interval_seconds if cfg else 900.0,
                        jitter_seconds=cfg.jitter_seconds if cfg else 120.0,
                        state_dir=str(cfg.spool_dir.parent) if cfg else "/var/lib/yte")
    if dry_run:
        click.echo(plan.describe())
        return
    for line in execute(plan, run_command):
        click.echo(line)


@agent.command()
@click.option("--dry-run", is_flag=True)
@_platform_option
def uninstall(dry_run: bool, platform_name: str | None) -> None:
    """Gỡ dịch vụ / remove the service or scheduled task."""
    from yte_compliance.agent.install import execute, uninstall_plan
    from yte_compliance.agent.runner import run as run_command

    plan = uninstall_plan(_platform(platform_name))
    if dry_run:
        click.echo(plan.describe())
        return
    for line in execute(plan, run_command):
        click.echo(line)
