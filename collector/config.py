"""Collector configuration (YAML): where it listens, its files, its limits."""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from yte_compliance.core.yamlconf import ConfigError, Section, load_yaml

DEFAULT_PORT = 8746  # outside the Prometheus exporter port-allocation range (9100–9999)
LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    reports_per_host_per_minute: float = 10.0
    burst_per_host: int = 120
    max_clock_skew_seconds: float = 300.0
    max_pending_reports: int = 20_000
    # older than the agents' spool keeps a report (spool_max_age_days) cannot be genuine
    max_report_age_days: float = 30.0
    # new host ids a site may add: its expected_hosts × (1 + margin), else the default
    new_host_margin: float = 0.25
    max_hosts_per_site: int = 300
    # connections: a request's headers within this of the connection (or of the previous
    # response), its body within body_timeout; idle keep-alive closed; and no more open
    # at once than this (kept below the process's open-file limit)
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 60.0
    keep_alive_seconds: float = 5.0
    max_connections: int = 4000

    def host_limit(self, expected_hosts: int | None) -> int:
        if expected_hosts is None:
            return self.max_hosts_per_site
        return max(1, math.ceil(expected_hosts * (1 + self.new_host_margin)))


@dataclass(frozen=True)
class Bandwidth:
    period_hours: float = 8.0  # a site is measured about this often (± 25 %, random)
    lease_seconds: float = 120.0
    window_days: float = 7.0  # the site's value is the median of this window
    max_megabytes_per_stream: int = 400
    max_streams: int = 24


@dataclass(frozen=True)
class Issuer:
    """Who issues the year-end report: the heading and signature of the department's form.
    Empty fields print as dotted lines to fill in by hand."""

    parent_agency: str = ""  # UBND TỈNH …
    agency: str = "SỞ Y TẾ"
    number_suffix: str = "BC-SYT"  # Số: …/BC-SYT
    place: str = ""  # the place of the date line; default: the province
    signer_title: str = "GIÁM ĐỐC"
    signer_name: str = ""
    recipients: tuple[str, ...] = ()  # Nơi nhận


@dataclass(frozen=True)
class CollectorConfig:
    host: str
    port: int
    database: Path
    sites_file: Path
    targets_files: tuple[Path, ...]
    declarations_file: Path | None
    stale_after_seconds: float
    forget_after_seconds: float
    limits: Limits = Limits()
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    allow_plain_http: bool = False
    log_level: str = "info"
    bandwidth: Bandwidth = Bandwidth()
    source: Path | None = None  # the YAML file this came from, and the line of database:
    database_line: int | None = None
    waivers_file: Path | None = None
    os_lifecycle_file: Path | None = None  # None: the dates the package ships
    count_unmanaged_pcs: bool = True  # PCs discovery saw without an agent count as unknown
    # every address it listens on; host and port above are the first. "::" is dual-stack:
    # IPv4 and IPv6 agents on one socket
    listen: tuple[tuple[str, int], ...] = ()
    # where readers reach this collector (https://…): alerts link their runbooks and
    # dashboards link the web pages under it
    public_url: str | None = None
    issuer: Issuer = Issuer()
    # /metrics with a series set per host (false: the site series alone, for a province so
    # large that its Prometheus should not hold every PC; the API and pages still do)
    per_host_series: bool = True


def _issuer(s: Section | None) -> Issuer:
    if s is None:
        return Issuer()
    d = Issuer()
    out = Issuer(
        parent_agency=s.get("parent_agency", str, d.parent_agency),
        agency=s.get("agency", str, d.agency),
        number_suffix=s.get("number_suffix", str, d.number_suffix),
        place=s.get("place", str, d.place),
        signer_title=s.get("signer_title", str, d.signer_title),
        signer_name=s.get("signer_name", str, d.signer_name),
        recipients=tuple(str(v) for _, v in s.items("recipients", [])),
    )
    s.finish()
    return out


def public_url(s: Section) -> str | None:
    value = s.get("public_url", str, None)
    if value is None:
        return None
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise s.error("public_url", f"an absolute http(s) URL without a query (got {value!r})")
    return value.rstrip("/")


def _limits(s: Section | None) -> Limits:
    if s is None:
        return Limits()
    d = Limits()
    limits = Limits(
        max_body_bytes=s.get("max_body_bytes", int, d.max_body_bytes),
        reports_per_host_per_minute=s.get("reports_per_host_per_minute", float,
                                          d.reports_per_host_per_minute),
        burst_per_host=s.get("burst_per_host", int, d.burst_per_host),
        max_clock_skew_seconds=s.get("max_clock_skew_seconds", float, d.max_clock_skew_seconds),
        max_pending_reports=s.get("max_pending_reports", int, d.max_pending_reports),
        max_report_age_days=s.get("max_report_age_days", float, d.max_report_age_days),
        new_host_margin=s.get("new_host_margin", float, d.new_host_margin),
        max_hosts_per_site=s.get("max_hosts_per_site", int, d.max_hosts_per_site),
        header_timeout_seconds=s.get("header_timeout_seconds", float, d.header_timeout_seconds),
        body_timeout_seconds=s.get("body_timeout_seconds", float, d.body_timeout_seconds),
        keep_alive_seconds=s.get("keep_alive_seconds", float, d.keep_alive_seconds),
        max_connections=s.get("max_connections", int, d.max_connections),
    )
    s.finish()
    for key in ("max_body_bytes", "burst_per_host", "max_pending_reports",
                "max_report_age_days", "max_hosts_per_site", "max_connections",
                "header_timeout_seconds", "body_timeout_seconds", "keep_alive_seconds"):
        if getattr(limits, key) < 1:
            raise s.error(key, "at least 1")
    return limits


def _bandwidth(s: Section | None) -> Bandwidth:
    if s is None:
        return Bandwidth()
    d = Bandwidth()
    out = Bandwidth(
        period_hours=s.get("period_hours", float, d.period_hours),
        lease_seconds=s.get("lease_seconds", float, d.lease_seconds),
        window_days=s.get("window_days", float, d.window_days),
        max_megabytes_per_stream=s.get("max_megabytes_per_stream", int,
                                       d.max_megabytes_per_stream),
        max_streams=s.get("max_streams", int, d.max_streams),
    )
    s.finish()
    return out


def parse_listen(text: str) -> tuple[str, int] | None:
    """'HOST:PORT' or '[V6]:PORT' → (host, port); None when it is neither."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def _listen(s: Section) -> tuple[tuple[str, int], ...]:
    """One address or a list: '0.0.0.0:8746', '[::]:8746' (IPv4 and IPv6 together), or
    ['198.18.0.1:8746', '[fd00::1]:8746']."""
    raw = s.get("listen", (str, list), f"127.0.0.1:{DEFAULT_PORT}")
    out = []
    for text in raw if isinstance(raw, list) else [raw]:
        parsed = parse_listen(str(text))
        if parsed is None:
            raise s.error("listen", f"HOST:PORT, e.g. 0.0.0.0:{DEFAULT_PORT} or "
                                    f"'[::]:{DEFAULT_PORT}' (got {text!r})")
        out.append(parsed)
    if not out:
        raise s.error("listen", "at least one address")
    return tuple(out)


def _optional_path(s: Section, base: Path, key: str) -> Path | None:
    value = s.get(key, str, None)
    return base / value if value else None


def load_collector_config(path: str | Path) -> CollectorConfig:
    base = Path(path).parent
    s = Section(load_yaml(path), path, "")
    addresses = _listen(s)
    host, port = addresses[0]
    # Overrides applied over the shipped defaults; none given: the defaults as they are.
    targets = [base / p for _, p in s.items("targets_files", [])]
    decl = s.get("declarations_file", str, None)
    tls = s.section("tls", None)
    cert = key = None
    if tls is not None:
        cert, key = base / tls.get("cert_file", str), base / tls.get("key_file", str)
        tls.finish()
    cfg = CollectorConfig(
        host=host,
        port=port,
        listen=addresses,
        database=base / s.get("database", str),
        sites_file=base / s.get("sites_file", str),
        targets_files=tuple(targets),
        declarations_file=base / decl if decl else None,
        stale_after_seconds=s.get("stale_after_hours", float, 72.0) * 3600,
        forget_after_seconds=s.get("forget_after_days", float, 30.0) * 86400,
        limits=_limits(s.section("limits", None)),
        tls_cert_file=cert,
        tls_key_file=key,
        allow_plain_http=s.get("allow_plain_http", bool, False),
        log_level=s.choice("log_level", LOG_LEVELS, "info"),
        bandwidth=_bandwidth(s.section("bandwidth", None)),
        source=Path(path),
        database_line=s.line_of("database"),
        waivers_file=_optional_path(s, base, "waivers_file"),
        os_lifecycle_file=_optional_path(s, base, "os_lifecycle_file"),
        count_unmanaged_pcs=s.get("count_unmanaged_pcs", bool, True),
        public_url=public_url(s),
        per_host_series=s.get("per_host_series", bool, True),
        issuer=_issuer(s.section("report", None)),
    )
    s.finish()
    if cfg.forget_after_seconds < cfg.stale_after_seconds:
        raise s.error("forget_after_days", "must be longer than stale_after_hours")
    if cert is None and not cfg.allow_plain_http:
        raise s.error("tls", "configure tls (cert_file, key_file), or set allow_plain_http: "
                             "true to accept site tokens over plain HTTP")
    return cfg


def existing_database(cfg: CollectorConfig) -> Path:
    """The database for a command that reads history. Never created here: a typo in
    ``database:`` must not turn into an empty official report. Only serve creates one."""
    if not cfg.database.is_file():
        raise ConfigError(cfg.source or "-", cfg.database_line, "database",
                          f"không có cơ sở dữ liệu / no database at {cfg.database} "
                          "(sai đường dẫn? / a wrong path?); only `yte collector serve` "
                          "creates one")
    return cfg.database
