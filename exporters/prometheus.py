"""Prometheus exposition of the fleet: site results, host facts, collector counters.

Rendered once per change of state (not per scrape) and served from a cache, gzip too.
Labels: site, host (stable ids), check, bounded enums; metadata only in *_info series.
A host past forget_after has no series at all; a stale host keeps only its info,
its last-report time and yte_host_stale = 1.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from checks.evaluate import FAIL, PASS, UNKNOWN
from checks.targets import Target

if TYPE_CHECKING:
    from collector.state import Fleet, SiteView

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


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
    ("antivirus.signatures_updated_at", "yte_host_antivirus_signatures_timestamp_seconds",
     "When the running antivirus last updated its signatures.", _num),
    ("ipv6.has_global_address", "yte_host_ipv6_global_address",
     "1 if the host has a global IPv6 address.", _bool),
    ("ipv6.default_route", "yte_host_ipv6_default_route",
     "1 if the host has an IPv6 default route.", _bool),
    ("patches.last_update_at", "yte_host_os_last_update_timestamp_seconds",
     "When the operating system last installed updates.", _num),
)


def collect_families(views: Mapping[str, SiteView], targets: Mapping[str, Target],
                     counters: Mapping[str, float]) -> Iterable[Any]:
    g = GaugeMetricFamily
    site_info = g("yte_site_info", "Site metadata (join on site).",
                  labels=["site", "name", "site_type", "province", "district"])
    check_info = g("yte_check_info", "Check metadata (join on check).",
                   labels=["check", "title_vi", "title_en", "scope", "evidence"])
    passed = g("yte_site_check_pass", "1 if the site meets the check, 0 if not; absent "
               "when unknown.", labels=["site", "check"])
    unknown = g("yte_site_check_unknown", "1 if the check's result is unknown.",
                labels=["site", "check"])
    ratio = g("yte_site_check_ratio", "Share of the site's reporting hosts that pass "
              "(host-scope checks).", labels=["site", "check"])
    target_ratio = g("yte_site_check_target_ratio", "Required share of hosts.",
                     labels=["site", "check"])
    value = g("yte_site_check_value", "The site's value for a site-scope check.",
              labels=["site", "check"])
    threshold = g("yte_site_check_threshold", "The threshold of a site-scope check.",
                  labels=["site", "check"])
    check_hosts = g("yte_site_check_hosts", "Reporting hosts by result of a host-scope check.",
                    labels=["site", "check", "result"])
    site_hosts = g("yte_site_hosts", "Hosts known at the site, fresh or stale.",
                   labels=["site", "state"])
    host_info = g("yte_host_info", "Host metadata (join on host).",
                  labels=["site", "host", "hostname", "platform", "os", "agent_version", "source"])
    last = g("yte_host_last_report_timestamp_seconds", "Collection time of the host's "
             "latest report.", labels=["site", "host"])
    stale = g("yte_host_stale", "1 if the host has not reported within stale_after.",
              labels=["site", "host"])
    probe_ok = g("yte_host_probe_success", "1 if the probe read its facts (0: unknown or "
                 "error).", labels=["site", "host", "probe"])
    host_check = g("yte_host_check_pass", "1 if the host passes a host-scope check, 0 if "
                   "not; absent when unknown or stale.", labels=["site", "host", "check"])
    facts = {metric: g(metric, help_, labels=["site", "host"])
             for _, metric, help_, _ in HOST_FACT_METRICS}

    active = {r.check for v in views.values() for r in v.results}
    for t in sorted((t for t in targets.values() if t.id in active), key=lambda t: t.id):
        check_info.add_metric([t.id, t.title_vi, t.title_en, t.scope, t.evidence], 1)
    for sid in sorted(views):
        view = views[sid]
        s = view.site
        site_info.add_metric([sid, s.name, s.type, s.province, s.district], 1)
        site_hosts.add_metric([sid, "fresh"], len(view.hosts) - len(view.stale))
        site_hosts.add_metric([sid, "stale"], len(view.stale))
        per_host: dict[str, list[tuple[str, float]]] = {}
        for r in view.results:
            labels = [sid, r.check]
            unknown.add_metric(labels, float(r.status == UNKNOWN))
            if r.status in (PASS, FAIL):
                passed.add_metric(labels, float(r.status == PASS))
            if r.scope == "host":
                target_ratio.add_metric(labels, r.target)
                if r.value is not None:
                    ratio.add_metric(labels, r.value)
                check_hosts.add_metric([sid, r.check, "pass"], r.hosts_passing)
                check_hosts.add_metric([sid, r.check, "fail"], r.hosts_failing)
                check_hosts.add_metric([sid, r.check, "unknown"], r.hosts_unknown)
                failing, unsure = set(r.failing_hosts), set(r.unknown_hosts)
                for h in view.hosts:
                    if h.host_id in view.stale or h.host_id in unsure:
                        continue
                    per_host.setdefault(h.host_id, []).append(
                        (r.check, 0.0 if h.host_id in failing else 1.0))
            else:
                if r.value is not None:
                    value.add_metric(labels, r.value)
                if r.target is not None:
                    threshold.add_metric(labels, r.target)
        for h in view.hosts:
            hl = [sid, h.host_id]
            os_name = " ".join(str(x) for x in (h.facts.get("hardware.os_name"),
                                                h.facts.get("hardware.os_version")) if x)
            host_info.add_metric(hl + [h.hostname, h.platform, os_name, h.agent_version,
                                       h.source], 1)
            last.add_metric(hl, h.collected_at)
            is_stale = h.host_id in view.stale
            stale.add_metric(hl, float(is_stale))
            if is_stale:
                continue
            for probe, p in sorted(h.probes.items()):
                probe_ok.add_metric(hl + [probe], float(p["status"] == "ok"))
            for fact, metric, _, transform in HOST_FACT_METRICS:
                v = transform(h.facts.get(fact))
                if v is not None:
                    facts[metric].add_metric(hl, v)
            for check, v in per_host.get(h.host_id, ()):
                host_check.add_metric(hl + [check], v)

    reports = CounterMetricFamily("yte_collector_reports", "Reports received, by result.",
                                  labels=["result"])
    for result in sorted(counters):
        reports.add_metric([result], counters[result])
    yield from (site_info, check_info, passed, unknown, ratio, target_ratio, value, threshold,
                check_hosts, site_hosts, host_info, last, stale, probe_ok, host_check,
                *facts.values(), reports)


class _Snapshot:
    def __init__(self, families: Iterable[Any]):
        self.families = list(families)

    def collect(self) -> Iterable[Any]:
        return self.families


def render(views: Mapping[str, SiteView], targets: Mapping[str, Target],
           counters: Mapping[str, float]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(collect_families(views, targets, counters)))
    return generate_latest(registry)


class MetricsCache:
    """The exposition of the fleet's current generation, plain and gzipped."""

    def __init__(self, fleet: Fleet, counters: Mapping[str, float]):
        self.fleet, self.counters = fleet, counters
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._plain = self._gz = b""

    def get(self, want_gzip: bool) -> bytes:
        with self._lock:
            views = self.fleet.views()
            key = (self.fleet.generation, tuple(sorted(self.counters.items())))
            if key != self._key:
                self._plain = render(views, self.fleet.targets, self.counters)
                self._gz = gzip.compress(self._plain, compresslevel=5)
                self._key = key
            return self._gz if want_gzip else self._plain
