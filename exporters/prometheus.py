"""Prometheus exposition of the fleet: site results, host facts, collector counters.

Rendered per site and only for sites whose state changed, then joined family by family
(text format 0.0.4), so a scrape after one report re-renders one site, not the province.
The collector's own process and counter metrics come from prometheus_client, appended.
Labels: site, host (stable ids), check, bounded enums; metadata only in *_info series.
A host past forget_after has no series; a stale host keeps only its info, its
last-report time and yte_host_stale = 1. An unknown fact or result has no sample.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily

from yte_compliance.checks.evaluate import FAIL, PASS, UNKNOWN, WAIVED
from yte_compliance.checks.targets import Target
from yte_compliance.exporters import gzipped

if TYPE_CHECKING:
    from yte_compliance.collector.state import Fleet, SiteView



def _bool(v: Any) -> float | None:
    return None if v is None else float(bool(v))


def _num(v: Any) -> float | None:
    return None if v is None or isinstance(v, bool) else float(v)


# fact → (metric, help, transform). Unknown facts (None) give no sample: absent, not 0.
HOST_FACT_METRICS: tuple[tuple[str, str, str, Callable[[Any], float | None]], ...] = (
    ("hardware.memory_installed_bytes", "yte_host_memory_installed_bytes",
     "Installed memory (sum of modules, or the rounded-up estimate).", _num),
    ("hardware.memory_usable_bytes", "yte_host_memory_usable_bytes",
     "Memory visible to the operating system.", _num),
    ("hardware.os_disk_media", "yte_host_os_disk_ssd",
     "1 if the disk holding the OS is an SSD, 0 if an HDD; absent when unknown.",
     lambda v: None if v is None else float(v == "ssd")),
    ("firewall.inbound_filtering", "yte_host_firewall_enabled",
     "1 if a host firewall filters inbound traffic.", _bool),
    ("antivirus.any_running", "yte_host_antivirus_running",
     "1 if at least one antivirus product is running.", _bool),
    ("antivirus.any_current", "yte_host_antivirus_signatures_current",
     "1 if a running antivirus reports current signatures (its own verdict).", _bool),
    ("antivirus.signatures_updated_at", "yte_host_antivirus_signatures_timestamp_seconds",
     "When the running antivirus last updated its signatures.", _num),
    ("ipv6.has_global_address", "yte_host_ipv6_global_address",
     "1 if the host has a global IPv6 address.", _bool),
    ("ipv6.default_route", "yte_host_ipv6_default_route",
     "1 if the host has an IPv6 default route.", _bool),
    ("patches.last_update_at", "yte_host_os_last_update_timestamp_seconds",
     "When the operating system last installed updates.", _num),
    ("transport.tls12", "yte_host_agent_tls12",
     "1 if the Windows 7 script can send over TLS 1.2; 0: it cannot (transport.missing says "
     "why); absent for the Python agent.", _bool),
    ("agent.spool_dropped_total", "yte_host_agent_spool_dropped_reports",
     "Reports the agent's spool dropped (oldest first) since it began: a gap in history.",
     _num),
)

# Per-site families, in exposition order: (name, help). All gauges.
SITE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("yte_site_info", "Site metadata (join on site)."),
    ("yte_site_check_pass", "1 if the site meets the check, 0 if not; absent when unknown."),
    ("yte_site_check_unknown", "1 if the check's result is unknown."),
    ("yte_site_check_waived", "1 if a waiver (miễn trừ) in force covers the site for the check: "
                              "neither a pass nor a fail."),
    ("yte_site_waiver_expiry_timestamp_seconds",
     "End of a waiver's last day (site, check, host; host empty: the whole site), in force "
     "or expired: past time() means it no longer applies."),
    ("yte_site_check_ratio", "Share of the site's reporting hosts that pass (host-scope checks)."),
    ("yte_site_check_target_ratio", "Required share of hosts."),
    ("yte_site_check_value", "The site's value for a site-scope check."),
    ("yte_site_check_threshold", "The threshold of a site-scope check."),
    ("yte_site_check_hosts", "Hosts by result of a host-scope check (unmanaged: PCs seen "
                             "on the LAN without an agent, counted as unknown; waived: left "
                             "out by a waiver)."),
    ("yte_site_hosts", "Hosts known at the site, fresh or stale."),
    ("yte_site_devices", "Devices discovered on the site's LAN, by state."),
    ("yte_site_agent_coverage_ratio", "Share of the site's discovered PCs that report."),
    ("yte_site_bandwidth_measurements", "Bandwidth measurements of the site in the window."),
    ("yte_site_bandwidth_median_download_bytes_per_second",
     "Median download goodput of the window: the site's value for its check."),
    ("yte_site_bandwidth_median_upload_bytes_per_second", "Median upload goodput of the window."),
    ("yte_site_bandwidth_last_download_bytes_per_second", "Download goodput, last measurement."),
    ("yte_site_bandwidth_last_upload_bytes_per_second", "Upload goodput, last measurement."),
    ("yte_site_bandwidth_last_latency_seconds", "Median round trip, last measurement."),
    ("yte_site_bandwidth_last_measurement_timestamp_seconds", "When the last measurement was."),
    ("yte_host_info", "Host metadata (join on host)."),
    ("yte_host_last_report_timestamp_seconds", "Collection time of the host's latest report."),
    ("yte_host_stale", "1 if the host has not reported within stale_after."),
    ("yte_host_probe_success", "1 if the probe read its facts (0: unknown or error)."),
    ("yte_host_check_pass", "1 if the host passes a host-scope check, 0 if not; absent when "
                            "unknown or stale."),
    *((metric, help_) for _, metric, help_, _ in HOST_FACT_METRICS),
)


def _esc(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def _labels(**labels: str) -> str:
    return ",".join(f'{k}="{_esc(str(v))}"' for k, v in labels.items())


def site_lines(view: SiteView, hosts_too: bool = True) -> dict[str, list[str]]:
    """Every sample line of one site, by family; without ``hosts_too``, the site's own
    series alone (a very large province: its hosts stay in the API and the web pages)."""
    out: dict[str, list[str]] = {name: [] for name, _ in SITE_FAMILIES}

    def add(family: str, value: float, **labels: str) -> None:
        out[family].append(f"{family}{{{_labels(**labels)}}} {float(value)!r}\n")

    def put(family: str, labels: str, value: float) -> None:  # labels already escaped
        out[family].append(f"{family}{{{labels}}} {float(value)!r}\n")

    sid, s = view.site.id, view.site
    coords = {} if s.latitude is None else {"latitude": f"{s.latitude:.5f}",
                                             "longitude": f"{s.longitude:.5f}"}
    add("yte_site_info", 1, site=sid, name=s.name, site_type=s.type, province=s.province,
        district=s.district, **coords)
    add("yte_site_hosts", len(view.hosts) - len(view.stale), site=sid, state="fresh")
    add("yte_site_hosts", len(view.stale), site=sid, state="stale")
    _bandwidth_lines(view, add)
    states = {"covered": 0, "unmanaged": 0, "not_pc": 0}
    for d in view.devices:
        states["not_pc" if d.not_pc else "covered" if d.host_id else "unmanaged"] += 1
    for state, n in states.items():
        add("yte_site_devices", n, site=sid, state=state)
    if view.site_facts.get("coverage.ratio") is not None:
        add("yte_site_agent_coverage_ratio", view.site_facts["coverage.ratio"], site=sid)
    per_host: dict[str, list[tuple[str, float]]] = {}
    for w in view.waivers:
        end = dt.datetime.combine(w.expires, dt.time(23, 59, 59)).timestamp()
        add("yte_site_waiver_expiry_timestamp_seconds", end, site=sid, check=w.check,
            host=w.host or "")
    for r in view.results:
        add("yte_site_check_unknown", r.status == UNKNOWN, site=sid, check=r.check)
        add("yte_site_check_waived", r.status == WAIVED, site=sid, check=r.check)
        if r.status in (PASS, FAIL):
            add("yte_site_check_pass", r.status == PASS, site=sid, check=r.check)
        if r.scope == "host":
            add("yte_site_check_target_ratio", r.target, site=sid, check=r.check)
            if r.value is not None:
                add("yte_site_check_ratio", r.value, site=sid, check=r.check)
            for result, n in (("pass", r.hosts_passing), ("fail", r.hosts_failing),
                              ("unknown", r.hosts_unknown), ("unmanaged", r.hosts_unmanaged),
                              ("waived", len(r.waived_hosts))):
                add("yte_site_check_hosts", n, site=sid, check=r.check, result=result)
            check = f',check="{_esc(r.check)}"'
            for hid in r.passing_hosts:
                per_host.setdefault(hid, []).append((check, 1.0))
            for hid in r.failing_hosts:
                per_host.setdefault(hid, []).append((check, 0.0))
        else:
            if r.value is not None:
                add("yte_site_check_value", r.value, site=sid, check=r.check)
            if r.target is not None:
                add("yte_site_check_threshold", r.target, site=sid, check=r.check)
    for h in view.hosts if hosts_too else ():
        hid = h.host_id
        os_name = " ".join(str(x) for x in (h.facts.get("hardware.os_name"),
                                            h.facts.get("hardware.os_version")) if x)
        add("yte_host_info", 1, site=sid, host=hid, hostname=h.hostname, platform=h.platform,
            os=os_name, agent_version=h.agent_version, source=h.source)
        labels = _labels(site=sid, host=hid)
        put("yte_host_last_report_timestamp_seconds", labels, h.collected_at)
        is_stale = hid in view.stale
        put("yte_host_stale", labels, is_stale)
        if is_stale:
            continue
        for probe, p in sorted(h.probes.items()):
            put("yte_host_probe_success", f'{labels},probe="{_esc(probe)}"', p["status"] == "ok")
        for check, v in per_host.get(hid, ()):
            put("yte_host_check_pass", labels + check, v)
        for fact, metric, _, transform in HOST_FACT_METRICS:
            v = transform(h.facts.get(fact))
            if v is not None:
                put(metric, labels, v)
    return out


def _bandwidth_lines(view: SiteView, add: Callable[..., None]) -> None:
    import statistics

    sid = view.site.id
    add("yte_site_bandwidth_measurements", len(view.bandwidth), site=sid)
    for direction in ("download", "upload"):
        values = [getattr(m, f"{direction}_bps") for m in view.bandwidth]
        values = [v for v in values if v is not None]
        if values:
            add(f"yte_site_bandwidth_median_{direction}_bytes_per_second",
                statistics.median(values) / 8, site=sid)
    if view.bandwidth:
        last = view.bandwidth[-1]
        add("yte_site_bandwidth_last_measurement_timestamp_seconds", last.measured_at, site=sid)
        for direction in ("download", "upload"):
            value = getattr(last, f"{direction}_bps")
            if value is not None:
                add(f"yte_site_bandwidth_last_{direction}_bytes_per_second", value / 8, site=sid)
        if last.latency_ms is not None:
            add("yte_site_bandwidth_last_latency_seconds", last.latency_ms / 1000, site=sid)


def _check_info(active: Collection[str], targets: Mapping[str, Target]) -> bytes:
    """The metadata of the checks some shown site has a result for."""
    lines = ["# HELP yte_check_info Check metadata (join on check).\n",
             "# TYPE yte_check_info gauge\n"]
    for t in sorted((t for t in targets.values() if t.id in active), key=lambda t: t.id):
        labels = _labels(check=t.id, title_vi=t.title_vi, title_en=t.title_en, scope=t.scope,
                         evidence=t.evidence)
        lines.append(f"yte_check_info{{{labels}}} 1.0\n")
    return "".join(lines).encode()


Counts = Callable[[], Mapping[str, Mapping[str, float]]]
PER_SITE_COUNTS = ("new_hosts_refused", "enrollments")  # a sample per site, rarely changing


class _ReportCounters:
    """Reports accepted, retried and refused: they move with every report."""

    def __init__(self, counts: Counts):
        self.counts = counts

    def collect(self):
        snap = self.counts()
        results = CounterMetricFamily("yte_collector_reports", "Reports stored or acknowledged "
                                      "again (a retry), by result.", labels=["result"])
        for result in ("accepted", "duplicate"):
            results.add_metric([result], snap.get("results", {}).get(result, 0))
        rejected = CounterMetricFamily("yte_collector_reports_rejected", "Reports refused, by "
                                       "reason.", labels=["reason"])
        for reason, n in sorted(snap.get("rejected", {}).items()):
            rejected.add_metric([reason], n)
        yield results
        yield rejected


class _SiteCounters:
    """The counters with a sample per site: they move rarely (see PER_SITE_COUNTS)."""

    def __init__(self, counts: Counts):
        self.counts = counts

    def collect(self):
        snap = self.counts()
        refused = CounterMetricFamily(
            "yte_collector_new_hosts_refused", "Reports from new host ids refused because "
            "the site already has as many hosts as it may (expected_hosts plus margin).",
            labels=["site"])
        for site, n in sorted(snap.get("new_hosts_refused", {}).items()):
            refused.add_metric([site], n)
        enrolled = CounterMetricFamily(
            "yte_collector_enrollments", "PCs enrolled with the site's enrollment secret "
            "(each got a host key of its own).", labels=["site"])
        for site, n in sorted(snap.get("enrollments", {}).items()):
            enrolled.add_metric([site], n)
        yield refused
        yield enrolled


class Renderer:
    """Keeps each site's lines, plain and compressed, while its view is the same object.
    The lines are held per family in site order (a ``gzipped.Column``), so a scrape after
    one report renders and compresses that site alone; the gzip body is the compressed
    pieces joined, its checksum combined from theirs: no pass over the unchanged sites."""

    def __init__(self, counts: Counts | None = None, process: bool = True,
                 per_host: bool = True):
        self.per_host = per_host
        self.families = [f for f in SITE_FAMILIES
                         if per_host or not f[0].startswith("yte_host_")]
        self._headers = [gzipped.Piece(f"# HELP {family} {help_}\n# TYPE {family} gauge\n"
                                       .encode()) for family, help_ in self.families]
        self._views: dict[str, SiteView] = {}
        self._order: list[str] = []  # site ids, sorted
        self._columns: list[gzipped.Column] = []  # per family
        self._checks: list[frozenset[str]] = []  # per site in order: checks with a result
        self._active: Counter[str] = Counter()  # check → sites with a result for it
        self.counts = counts or dict
        self._counters = CollectorRegistry(auto_describe=False)
        self._counters.register(_ReportCounters(self.counts))
        self._per_site = CollectorRegistry(auto_describe=False)
        self._per_site.register(_SiteCounters(self.counts))
        self._process = CollectorRegistry(auto_describe=False)
        if process:
            ProcessCollector(namespace="yte_collector", registry=self._process)
        self._per_site_cache: tuple[list[Any], bytes] | None = None

    def _update(self, views: Mapping[str, SiteView]) -> None:
        """Render the sites whose view changed (all of them when the set of sites did)."""
        if len(views) != len(self._order) or any(s not in views for s in self._order):
            self._order = sorted(views)
            self._views = dict(views)
            lines = [self._lines(views[sid]) for sid in self._order]
            self._columns = [gzipped.Column([site[f] for site in lines])
                             for f in range(len(self.families))]
            self._checks = [frozenset(r.check for r in views[s].results) for s in self._order]
            self._active = Counter(c for checks in self._checks for c in checks)
            return
        for i, sid in enumerate(self._order):
            view = views[sid]
            if self._views[sid] is not view:
                self._views[sid] = view
                for column, text in zip(self._columns, self._lines(view), strict=True):
                    column.set(i, text)
                self._active.subtract(self._checks[i])
                self._checks[i] = frozenset(r.check for r in view.results)
                self._active.update(self._checks[i])

    def _lines(self, view: SiteView) -> list[bytes]:
        """The site's text for each family, in order."""
        lines = site_lines(view, self.per_host)
        return ["".join(lines[family]).encode() for family, _ in self.families]

    def parts(self, views: Mapping[str, SiteView], targets: Mapping[str, Target],
              only: Collection[str] | None = None) -> list[gzipped.Part]:
        """The exposition in parts, each with its text, compressed form and CRC."""
        self._update(views)
        keep = None if only is None else [i for i, s in enumerate(self._order) if s in only]
        active = ({c for c, n in self._active.items() if n > 0} if keep is None
                  else set().union(*(self._checks[i] for i in keep)))
        parts: list[gzipped.Part] = []
        for f, (header, column) in enumerate(zip(self._headers, self._columns, strict=True)):
            parts.append(header)
            parts.append(column if keep is None else column.subset(keep))
            if f == 0:
                parts.append(gzipped.Piece(_check_info(active, targets)))
        if only is None:
            parts.append(gzipped.Piece(generate_latest(self._counters) + self._per_site_text()
                                       + generate_latest(self._process)))
        return parts

    def _per_site_text(self) -> bytes:
        """The per-site counters, rendered again only when one of them moved."""
        snap = self.counts()
        key = [dict(snap.get(k) or {}) for k in PER_SITE_COUNTS]  # a copy: counts may be live
        if self._per_site_cache is None or key != self._per_site_cache[0]:
            self._per_site_cache = (key, generate_latest(self._per_site))
        return self._per_site_cache[1]

    def render(self, views: Mapping[str, SiteView], targets: Mapping[str, Target],
               only: Collection[str] | None = None) -> bytes:
        """Every site, with the collector's own metrics; or ``only`` these sites (a
        scoped reader), without them."""
        return b"".join(p.plain for p in self.parts(views, targets, only))

    def render_gzip(self, views: Mapping[str, SiteView], targets: Mapping[str, Target],
                    only: Collection[str] | None = None) -> bytes:
        """The same, gzipped."""
        return gzipped.member(self.parts(views, targets, only))


def render(views: Mapping[str, SiteView], targets: Mapping[str, Target],
           counts: Counts | None = None) -> bytes:
    """One-off rendering (tests, tools): no process metrics, no cache."""
    return Renderer(counts, process=False).render(views, targets)


class MetricsCache:
    """The exposition of the fleet's current generation, plain and gzipped (each built
    when first asked for, from the same parts: the two say the same)."""

    def __init__(self, fleet: Fleet, counts: Counts, per_host: bool = True):
        self.fleet, self.counts = fleet, counts
        self._renderer = Renderer(counts, per_host=per_host)
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._parts: list[gzipped.Part] = []
        self._plain: bytes | None = None
        self._gz: bytes | None = None

    def get(self, want_gzip: bool, only: Collection[str] | None = None) -> bytes:
        """The whole exposition (cached per generation and counts), or only some sites'
        (built from the same per-site pieces, not cached: a district's reader, not
        Prometheus)."""
        with self._lock:
            views = self.fleet.current_views()
            targets = self.fleet.targets
            if only is not None:
                build = self._renderer.render_gzip if want_gzip else self._renderer.render
                return build(views, targets, only)
            key = (self.fleet.generation, self.counts())
            if key != self._key:
                self._parts = self._renderer.parts(views, targets)
                self._plain = self._gz = None
                self._key = key
            if want_gzip:
                if self._gz is None:
                    self._gz = gzipped.member(self._parts)
                return self._gz
            if self._plain is None:
                self._plain = b"".join(p.plain for p in self._parts)
            return self._plain
