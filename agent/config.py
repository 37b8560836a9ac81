"""Agent configuration (YAML), validated strictly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yte_compliance.core.report import FACT_TYPES, ID_RE
from yte_compliance.core.yamlconf import Section, load_yaml


@dataclass(frozen=True)
class AgentConfig:
    site: str
    collector_url: str | None = None
    token_file: Path | None = None
    # enrollment: the site's secret, traded on the first run for this PC's own key
    enrollment_secret_file: Path | None = None
    key_file: Path | None = None
    ca_file: Path | None = None  # pinned CA; None = system trust store
    interval_seconds: float = 900.0
    jitter_seconds: float = 120.0
    timeout_seconds: float = 15.0
    spool_dir: Path = Path("/var/lib/yte/spool")
    host_id: str | None = None  # override, e.g. for cloned images sharing a machine id
    disabled_probes: frozenset[str] = field(default_factory=frozenset)
    spool_max_reports: int = 2000
    spool_max_megabytes: float = 50.0
    spool_max_age_days: float = 30.0
    backoff_initial_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    bandwidth: Any = None  # agent.probes.bandwidth.Plan when measuring is enabled
    ipv6_endpoint: str | None = None  # reachability over IPv6; default: collector_url
    ipv6_router_advertisement: bool = False  # listen for RAs (scapy, root)
    ipv6_timeout_seconds: float = 3.0
    discovery: Any = None  # DiscoveryConfig when this agent is its site's scanner


def _bandwidth(s: Section | None) -> Any:
    """The measurement plan, or None when this agent does not measure."""
    if s is None:
        return None
    from yte_compliance.agent.probes.bandwidth import LIBRESPEED, Plan

    enabled = s.get("enabled", bool, False)
    kind = s.choice("server", ("collector", "http", "librespeed", "iperf3"), "collector")
    d = Plan()
    paths = LIBRESPEED if kind == "librespeed" else {}
    plan = Plan(
        kind="http" if kind == "librespeed" else kind,
        url=s.get("url", str, None),
        streams=s.get("streams", int, d.streams),
        seconds=s.get("seconds_per_direction", float, d.seconds),
        download_grace=s.get("download_grace_seconds", float, d.download_grace),
        upload_grace=s.get("upload_grace_seconds", float, d.upload_grace),
        max_bytes=int(s.get("max_megabytes", float, d.max_bytes / (1 << 20)) * (1 << 20)),
        **paths,
    )
    s.finish()
    if not 1 <= plan.streams <= 16:
        raise s.error("streams", "from 1 to 16 (4 to 6 measure a line best)")
    if plan.download_grace >= plan.seconds or plan.upload_grace >= plan.seconds:
        raise s.error("seconds_per_direction", "longer than both grace periods")
    if plan.kind in ("http", "iperf3") and not plan.url:
        raise s.error("url", f"server {kind} needs its url")
    return plan if enabled else None


@dataclass(frozen=True)
class DiscoveryConfig:
    interval_hours: float = 24.0
    interface: str | None = None
    rate_pps: float = 50.0
    timeout_seconds: float = 120.0


def _discovery(s: Section | None) -> DiscoveryConfig | None:
    if s is None:
        return None
    d = DiscoveryConfig()
    enabled = s.get("enabled", bool, False)
    cfg = DiscoveryConfig(
        interval_hours=s.get("interval_hours", float, d.interval_hours),
        interface=s.get("interface", str, None),
        rate_pps=s.get("rate_pps", float, d.rate_pps),
        timeout_seconds=s.get("timeout_seconds", float, d.timeout_seconds),
    )
    s.finish()
    if not 1 <= cfg.rate_pps <= 500:
        raise s.error("rate_pps", "from 1 to 500 packets per second")
    return cfg if enabled else None


def _ipv6(s: Section | None) -> dict[str, Any]:
    if s is None:
        return {}
    out = {"ipv6_endpoint": s.get("endpoint", str, None),
           "ipv6_router_advertisement": s.get("router_advertisement", bool, False),
           "ipv6_timeout_seconds": s.get("timeout_seconds", float, 3.0)}
    s.finish()
    if out["ipv6_endpoint"] and not out["ipv6_endpoint"].startswith(("http://", "https://")):
        raise s.error("endpoint", "a URL, e.g. https://yte.soyte.example.vn:8746")
    return out


def load_agent_config(path: str | Path) -> AgentConfig:
    s = Section(load_yaml(path), path, "")
    site = s.get("site", str)
    if not ID_RE.match(site):
        raise s.error("site", f"a site id is lower-case letters, digits, '-', '_', '.' (got {site!r})")
    url = s.get("collector_url", str, None)
    if url is not None and not url.startswith(("http://", "https://")):
        raise s.error("collector_url", "must start with https:// (or http:// on a test bed)")
    disabled = s.get("disabled_probes", list, [])
    for name in disabled:
        if name not in FACT_TYPES:
            known = ", ".join(FACT_TYPES)
            raise s.error("disabled_probes", f"unknown probe {name!r} (known: {known})")
    host_id = s.get("host_id", str, None)
    if host_id is not None and not ID_RE.match(host_id):
        raise s.error("host_id", "lower-case letters, digits, '-', '_', '.'")
    base = Path(path).parent

    def rel(key: str) -> Path | None:
        value = s.get(key, str, None)
        return None if value is None else (base / value)

    cfg = AgentConfig(
        site=site,
        collector_url=url,
        token_file=rel("token_file"),
        enrollment_secret_file=rel("enrollment_secret_file"),
        key_file=rel("key_file"),
        ca_file=rel("ca_file"),
        interval_seconds=s.get("interval_seconds", float, 900.0),
        jitter_seconds=s.get("jitter_seconds", float, 120.0),
        timeout_seconds=s.get("timeout_seconds", float, 15.0),
        spool_dir=rel("spool_dir") or Path("/var/lib/yte/spool"),
        host_id=host_id,
        disabled_probes=frozenset(disabled),
        spool_max_reports=s.get("spool_max_reports", int, 2000),
        spool_max_megabytes=s.get("spool_max_megabytes", float, 50.0),
        spool_max_age_days=s.get("spool_max_age_days", float, 30.0),
        backoff_initial_seconds=s.get("backoff_initial_seconds", float, 30.0),
        backoff_max_seconds=s.get("backoff_max_seconds", float, 3600.0),
        bandwidth=_bandwidth(s.section("bandwidth", None)),
        **_ipv6(s.section("ipv6", None)),
        discovery=_discovery(s.section("discovery", None)),
    )
    s.finish()
    if cfg.interval_seconds < 60:
        raise s.error("interval_seconds", "at least 60 seconds")
    if (cfg.enrollment_secret_file is None) != (cfg.key_file is None):
        raise s.error("key_file" if cfg.key_file is None else "enrollment_secret_file",
                      "enrollment needs both: the site's secret and where to keep this PC's "
                      "key")
    return cfg
