"""The fleet in memory: latest facts per host and each site's results, recomputed only
for sites that changed: a report, a scan, or the moment time alone changes a site's
results (a host turning stale or forgotten, a measurement leaving the window, a
"within N days" fact running out, midnight). Each site's next such moment is kept, so a
scrape after an idle minute re-judges no unchanged site; every ``refresh`` seconds all
are judged again, a safety net."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from yte_compliance.checks.evaluate import CheckResult, HostFacts, SiteInput, evaluate_site
from yte_compliance.checks.policy import JUDGED_FACTS, Policy
from yte_compliance.checks.targets import Target, in_force
from yte_compliance.checks.waivers import Waiver
from yte_compliance.collector.sites import Site
from yte_compliance.collector.store import HostRow, Measurement, SeenDevice, Store


@dataclass(frozen=True)
class SiteView:
    site: Site
    results: tuple[CheckResult, ...]
    hosts: tuple[HostRow, ...]  # not forgotten, newest report first
    stale: frozenset[str]  # host ids past stale_after
    evaluated_at: float
    bandwidth: tuple[Measurement, ...] = ()  # the window's measurements, oldest first
    site_facts: Mapping[str, Any] = field(default_factory=dict)  # declared, budget, measured
    devices: tuple[DeviceView, ...] = ()  # seen on the LAN within the device window
    judged: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # host → facts judged
    unmanaged: int = 0  # PCs seen on the LAN with no agent, counted as unknown
    waivers: tuple[Waiver, ...] = ()  # the site's, in force or not


@dataclass(frozen=True)
class DeviceView:
    mac: str
    ip: str
    vendor: str | None
    first_seen: float
    last_seen: float
    host_id: str | None  # the reporting host with this MAC: the device is covered
    not_pc: str | None  # a kind from the sites file (printer, router…): out of the count


class Fleet:
    def __init__(self, store: Store, sites: dict[str, Site], targets: dict[str, Target],
                 policy: Policy, *, stale_after: float, forget_after: float,
                 clock: Callable[[], float] = time.time, refresh: float = 6 * 3600.0,
                 bandwidth_window: float = 7 * 86400, device_window: float = 7 * 86400):
        self.sites, self.targets, self.policy = sites, targets, policy
        self.stale_after, self.forget_after = stale_after, forget_after
        self.clock, self.refresh = clock, refresh
        self._lock = threading.Lock()
        self._hosts: dict[str, HostRow] = {}
        self._by_site: dict[str, set[str]] = {s: set() for s in sites}
        for row in store.hosts():
            if row.site in sites:
                self._put(row)
        self.bandwidth_window = bandwidth_window
        self.device_window = device_window
        self._devices: dict[str, dict[str, SeenDevice]] = {s: {} for s in sites}
        for d in store.devices():
            if d.site in sites:
                self._devices[d.site][d.mac] = d
        self._measurements: dict[str, list[Measurement]] = {s: [] for s in sites}
        for m in store.measurements(clock() - bandwidth_window):
            if m.site in sites:
                self._measurements[m.site].append(m)
        self._views: dict[str, SiteView] = {}
        self._due: dict[str, float] = {}  # site → when time alone next changes its view
        self._dirty: set[str] = set(sites)
        self._evaluated_at = 0.0
        self.generation = 0  # changes whenever any view may have changed
        self.evaluations = 0  # sites judged, all told (what a scrape costs is what it adds)

    def _put(self, row: HostRow) -> None:
        old = self._hosts.get(row.host_id)
        if old is not None:
            if old.collected_at > row.collected_at:
                return
            self._by_site[old.site].discard(row.host_id)
        self._hosts[row.host_id] = row
        self._by_site[row.site].add(row.host_id)

    def accept(self, row: HostRow) -> None:
        """A stored report: the host's state changes if it is the newest."""
        with self._lock:
            old = self._hosts.get(row.host_id)
            self._put(row)
            m = Measurement.from_row(row)
            if m is not None:
                bisect.insort(self._measurements[row.site], m, key=lambda x: x.measured_at)
            self._dirty.add(row.site)
            if old is not None:
                self._dirty.add(old.site)
            self.generation += 1

    def site_of_host(self, host_id: str) -> str | None:
        """The site a host has reported into, if any (not yet forgotten)."""
        with self._lock:
            row = self._hosts.get(host_id)
            return row.site if row else None

    def admits(self, site: str, host_id: str, limit: int) -> bool:
        """May ``host_id`` report into ``site``? A host the site has always may; a new one
        only while the site has fewer than ``limit`` hosts not yet forgotten."""
        with self._lock:
            if host_id in self._by_site[site]:
                return True
            horizon = self.clock() - self.forget_after
            live = sum(1 for h in self._by_site[site] if self._hosts[h].collected_at >= horizon)
            return live < limit

    def saw_devices(self, site: str, devices: list[SeenDevice]) -> None:
        with self._lock:
            for d in devices:
                old = self._devices[site].get(d.mac)
                first = min(d.first_seen, old.first_seen) if old else d.first_seen
                self._devices[site][d.mac] = SeenDevice(site, d.mac, d.ip, d.vendor, first,
                                                        d.last_seen)
            self._dirty.add(site)
            self.generation += 1

    def current_views(self) -> dict[str, SiteView]:
        with self._lock:
            now = self.clock()
            if now - self._evaluated_at >= self.refresh:
                self._dirty = set(self.sites)
            else:
                self._dirty.update(s for s, due in self._due.items() if due <= now)
            if self._dirty:
                targets = in_force(self.targets, dt.date.fromtimestamp(now))
                for sid in self._dirty:
                    new = self._evaluate(self.sites[sid], targets, now)
                    self.evaluations += 1
                    old = self._views.get(sid)
                    # everything a view carries counts (devices, bandwidth, site facts
                    # too), but not when it was evaluated: an unchanged view keeps its
                    # identity, so nothing downstream re-renders it
                    if old is None or dataclasses.replace(new, evaluated_at=old.evaluated_at) != old:
                        self._views[sid] = new
                    self._due[sid] = next_change(new, targets, now, self.stale_after,
                                                 self.forget_after, self.bandwidth_window,
                                                 self.device_window)
                if len(self._dirty) == len(self.sites):
                    self._evaluated_at = now
                self._dirty.clear()
                self.generation += 1
            return dict(self._views)

    def _evaluate(self, site: Site, targets: list[Target], now: float) -> SiteView:
        window = [m for m in self._measurements[site.id]
                  if now - m.measured_at <= self.bandwidth_window]
        self._measurements[site.id] = window
        rows = [self._hosts[h] for h in self._by_site[site.id]]
        devices = [d for d in self._devices[site.id].values()
                   if now - d.last_seen <= self.device_window]
        return evaluate_view(site, rows, window, targets, self.policy, now=now,
                             stale_after=self.stale_after, forget_after=self.forget_after,
                             devices=devices)


def next_change(view: SiteView, targets: list[Target], now: float, stale_after: float,
                forget_after: float, bandwidth_window: float, device_window: float) -> float:
    """The next moment at which time alone changes the site's view."""
    tomorrow = dt.datetime.combine(dt.date.fromtimestamp(now) + dt.timedelta(days=1),
                                   dt.time()).timestamp()
    times = [tomorrow]  # a new day: the targets in force, declarations, waivers, lifecycle
    for r in view.hosts:
        times += (r.collected_at + stale_after, r.collected_at + forget_after)
    times += (m.measured_at + bandwidth_window for m in view.bandwidth)
    times += (d.last_seen + device_window for d in view.devices)
    clauses = [c for t in targets for c in t.all_of]
    clauses += [c for t in targets for _, rule in t.by_site_type for c in rule.all_of or ()]
    within = {(c.fact, float(c.value)) for c in clauses if c.op == "within_days"}
    for facts in view.judged.values():
        for fact, days in within:
            value = facts.get(fact)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                times.append(float(value) + days * 86400)
    return min((t for t in times if t > now), default=tomorrow)


def evaluate_view(site: Site, rows: list[HostRow], window: list[Measurement],
                  targets: list[Target], policy: Policy, *, now: float,
                  stale_after: float, forget_after: float,
                  devices: list[SeenDevice] | None = None) -> SiteView:
    """One site judged at ``now``: the live fleet and the year-end report both use it."""
    rows = sorted((r for r in rows if now - r.collected_at <= forget_after),
                  key=lambda r: (-r.collected_at, r.host_id))
    today = dt.date.fromtimestamp(now)
    site_facts = dict(policy.declarations.site_facts(site.id, today.year))
    site_facts.update(bandwidth_facts(window))
    fresh = [r for r in rows if now - r.collected_at <= stale_after]
    device_views = match_devices(site, devices, fresh)
    site_facts.update(coverage_facts(device_views, devices is not None and bool(devices)))
    unmanaged = sum(d.not_pc is None and d.host_id is None for d in device_views)
    hosts, judged = [], {}
    for r in rows:
        role, facts = policy.judged(r.facts, site.role_of(r.host_id, r.hostname), today)
        judged[r.host_id] = facts
        hosts.append(HostFacts(r.host_id, r.hostname, r.collected_at, facts, role))
    site_input = SiteInput(site.id, site.type, tuple(hosts), site_facts,
                           unmanaged=unmanaged if policy.count_unmanaged else 0,
                           waivers=policy.waivers.for_site(site.id))
    results = evaluate_site(site_input, targets, now=now, stale_after=stale_after)
    stale = frozenset(r.host_id for r in rows if now - r.collected_at > stale_after)
    return SiteView(site, tuple(results), tuple(rows), stale, now, tuple(window), site_facts,
                    tuple(device_views), judged, site_input.unmanaged, site_input.waivers)


def match_devices(site: Site, devices: list[SeenDevice] | None,
                  fresh: list[HostRow]) -> list[DeviceView]:
    """Each device seen on the LAN, with the reporting host that has its MAC, if any."""
    owner = {mac: r.host_id for r in fresh for mac in r.facts.get("hardware.mac_addresses") or []}
    return sorted((DeviceView(d.mac, d.ip, d.vendor, d.first_seen, d.last_seen,
                              owner.get(d.mac), site.not_pcs.get(d.mac))
                   for d in devices or ()), key=lambda d: d.ip)


def coverage_facts(devices: list[DeviceView], discovered: bool) -> dict[str, Any]:
    """Devices that are PCs, and how many of them report: no discovery is unknown."""
    pcs = [d for d in devices if d.not_pc is None]
    covered = sum(d.host_id is not None for d in pcs)
    return {"coverage.devices": len(pcs) if discovered else None,
            "coverage.covered": covered if discovered else None,
            "coverage.ratio": (covered / len(pcs)) if discovered and pcs else None}


BANDWIDTH_FACTS = frozenset({"bandwidth.download_bps", "bandwidth.upload_bps",
                             "bandwidth.measurements"})


def known_facts() -> dict[str, frozenset[str]]:
    """Facts a target may name: each host's reported facts (and what the collector derives
    from them), each site's declared, budget and measured facts."""
    from yte_compliance.checks.declarations import SITE_FACTS
    from yte_compliance.core.report import fact_names

    return {"host": fact_names() | DERIVED_HOST_FACTS | JUDGED_FACTS,
            "site": SITE_FACTS | BANDWIDTH_FACTS | COVERAGE_FACTS}


COVERAGE_FACTS = frozenset({"coverage.devices", "coverage.covered", "coverage.ratio"})


from yte_compliance.collector.derive import DERIVED as DERIVED_HOST_FACTS  # noqa: E402


def bandwidth_facts(window: list[Measurement]) -> dict[str, float | int | None]:
    """The site's bandwidth: the median of the window, so one bad reading neither fails
    nor passes a site. No measurement is unknown, not 0."""
    downs = [m.download_bps for m in window if m.download_bps is not None]
    ups = [m.upload_bps for m in window if m.upload_bps is not None]
    return {"bandwidth.download_bps": statistics.median(downs) if downs else None,
            "bandwidth.upload_bps": statistics.median(ups) if ups else None,
            "bandwidth.measurements": len(window)}
