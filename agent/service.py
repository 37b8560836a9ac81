"""The agent's work, called by the `yte agent` command, the demo and tests alike: load the
configuration, build this machine's report, spool it, send what is spooled, run the
schedule. No CLI framework here; failures are the project's own errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from yte_compliance.agent.config import AgentConfig, load_agent_config
from yte_compliance.agent.probe import Context
from yte_compliance.agent.spool import FlushResult, Spool
from yte_compliance.core.errors import YteError
from yte_compliance.core.report import Report

Say = Callable[[str], None]


def load(config: str | Path | None) -> AgentConfig | None:
    """The agent's configuration, or None to collect with defaults (`yte agent collect`)."""
    return None if config is None else load_agent_config(config)


def host_id(cfg: AgentConfig | None, ctx: Context, platform: str) -> str:
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
        raise YteError(f"không xác định được mã máy / no machine id: {e}") from None


def build_report(cfg: AgentConfig | None, root: Path, site: str | None = None) -> Report:
    from yte_compliance.agent.collect import collect_report
    from yte_compliance.agent.probes import current_platform

    platform = current_platform()
    ctx = Context(root=root)
    host = host_id(cfg, ctx, platform)
    if cfg and (cfg.ipv6_endpoint or cfg.collector_url):
        from yte_compliance.agent.probes.ipv6 import Endpoint

        ctx.options["ipv6_endpoint"] = Endpoint(cfg.ipv6_endpoint or cfg.collector_url,
                                                cfg.ipv6_timeout_seconds)
        ctx.options["ipv6_router_advertisement"] = cfg.ipv6_router_advertisement
    enabled: frozenset[str] = frozenset()
    if cfg and cfg.bandwidth is not None:
        access = collector_access(cfg, host)
        if access is not None:
            ctx.options.update(bandwidth_plan=cfg.bandwidth, access=access)
            enabled = frozenset({"bandwidth"})
    return collect_report(
        ctx, platform=platform,
        site=site or (cfg.site if cfg else "unassigned"),
        host_id=host,
        disabled=cfg.disabled_probes if cfg else frozenset(),
        enabled=enabled,
    )


def collector_access(cfg: AgentConfig, host: str):
    """What the bandwidth probe needs to reach the collector, or None without a token."""
    from yte_compliance.agent.probes.bandwidth import Access
    from yte_compliance.agent.spool import SendError

    if not cfg.collector_url:
        return None
    try:
        token = agent_credential(cfg)
    except SendError:
        return None  # the bandwidth probe then says it has no collector
    return Access(cfg.collector_url, token, host, str(cfg.ca_file) if cfg.ca_file else None)


def measure_bandwidth(cfg: AgentConfig) -> dict:
    """One measurement of the site's uplink, as the probe reports it."""
    import dataclasses

    from yte_compliance.agent.probe import run_probe
    from yte_compliance.agent.probes import bandwidth as bw
    from yte_compliance.agent.probes import current_platform

    if cfg.bandwidth is None:
        raise YteError("chưa bật đo băng thông / bandwidth: enabled: true is not set in the "
                       "configuration")
    ctx = Context()
    access = collector_access(cfg, host_id(cfg, ctx, current_platform()))
    ctx.options.update(bandwidth_plan=cfg.bandwidth, access=access)
    result = run_probe(bw.collect, ctx)
    return {"status": result.status, "reason": result.reason,
            "duration_seconds": round(result.duration_seconds, 2),
            "facts": dataclasses.asdict(result.facts) if result.facts else None}


def spool_of(cfg: AgentConfig) -> Spool:
    from yte_compliance.agent.spool import SpoolLimits

    return Spool(cfg.spool_dir, SpoolLimits(
        max_reports=cfg.spool_max_reports, max_bytes=int(cfg.spool_max_megabytes * (1 << 20)),
        max_age_seconds=cfg.spool_max_age_days * 86400))


def collect_into_spool(cfg: AgentConfig, root: Path, say: Say) -> bool:
    """Collect one report and write it to the spool (before any attempt to send it).
    A write that fails (a full disk) is said in one line and counted as a dropped
    report; the agent goes on. True when the report is in the spool."""
    spool = spool_of(cfg)
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
        say(f"không ghi được báo cáo vào hàng đợi {cfg.spool_dir}, báo cáo này bị mất / "
            f"could not write the report to the spool, it is lost: {e.strerror or e}")
        return False


def agent_credential(cfg: AgentConfig) -> str:
    """The site token, or this PC's own key (enrolling for it on the first run)."""
    import socket

    from yte_compliance.agent.probes import current_platform
    from yte_compliance.agent.send import credential

    return credential(cfg, host_id(cfg, Context(), current_platform()), socket.gethostname())


def flush_spool(cfg: AgentConfig) -> FlushResult:
    from yte_compliance.agent.send import post_report
    from yte_compliance.agent.spool import SendError

    spool = spool_of(cfg)
    try:
        token = agent_credential(cfg)
    except SendError as e:
        return FlushResult(error=str(e), retry=True, pending=len(spool.pending()))
    return spool.flush(lambda b: post_report(cfg.collector_url, token, b,
                                             timeout=cfg.timeout_seconds, ca_file=cfg.ca_file))


def require_collector(cfg: AgentConfig) -> None:
    if not cfg.collector_url or not (cfg.token_file or cfg.key_file):
        raise YteError("cần collector_url và token_file (hoặc key_file với "
                       "enrollment_secret_file) để gửi / collector_url and token_file (or "
                       "key_file with enrollment_secret_file) are needed to send")


def send_once(cfg: AgentConfig, root: Path, say: Say) -> FlushResult:
    """One cycle: what is spooled goes first (sending it is what frees a full disk), then
    this machine's report is collected and sent."""
    require_collector(cfg)
    first = flush_spool(cfg)
    kept = collect_into_spool(cfg, root, say)
    if first.error and first.retry:  # unreachable: the new report waits with the rest
        result = first
        result.pending += int(kept)
    else:
        result = flush_spool(cfg)
        result.sent += first.sent
        result.error = result.error or first.error
    if not kept and not result.error:
        result.error = "báo cáo mới bị mất / the new report was lost"
    return result


def run_forever(cfg: AgentConfig, root: Path, say: Say) -> None:
    """Collect every interval (plus jitter), send with backoff; the site's scanner also
    sweeps its LAN when due."""
    from yte_compliance.agent.loop import AgentLoop, Schedule

    require_collector(cfg)
    schedule = Schedule(cfg.interval_seconds, cfg.jitter_seconds, cfg.backoff_initial_seconds,
                        cfg.backoff_max_seconds)

    def collect() -> None:
        collect_into_spool(cfg, root, say)
        if cfg.discovery is not None:
            discover_if_due(cfg, say)

    AgentLoop(schedule, collect, lambda: flush_spool(cfg), say=say).run()


def discover_if_due(cfg: AgentConfig, say: Say, now: float | None = None, sweep=None) -> bool:
    """The site's scanner sweeps its LAN every discovery.interval_hours (state on disk, so
    a restart does not sweep again); a failure is said, never fatal to reporting."""
    if sweep is None:
        from yte_compliance.agent.discover import discover_once as sweep
    assert cfg.discovery is not None
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
    except (YteError, OSError, ValueError) as e:
        say(f"quét mạng thất bại / discovery failed: {e}")
        return False
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(str(now))
    return True
