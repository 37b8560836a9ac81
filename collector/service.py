"""The collector's work as plain objects, with their store, clock and limits injected: what
comes in (Reception), what goes out to readers (Reading), composed over one configured
world by open_collector(). The HTTP adapter (collector/app.py), the CLI and tests call the
same objects; none of them knows which one called it.

Every report goes one way: token → site, body bounded, parsed (schema v1 JSON, or a
Windows 7 batch), every check that needs no disk (clock skew, age, per-host rate, the
site's host limit), then group-committed and only then acknowledged. Every refusal is an
answer with its reason, counted by reason and logged."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from yte_compliance.collector import log
from yte_compliance.collector.config import CollectorConfig, Limits
from yte_compliance.collector.derive import host_row
from yte_compliance.collector.enroll import Enrollment
from yte_compliance.collector.history import migrate_v1
from yte_compliance.collector.ingest import Busy, Ingestor
from yte_compliance.collector.limits import RateLimiter
from yte_compliance.collector.months import Months
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.sites import Site
from yte_compliance.collector.speedtest import Leases, SpeedtestLimits
from yte_compliance.collector.state import Fleet
from yte_compliance.collector.store import (
    CONFLICT,
    DUPLICATE,
    FOREIGN,
    HostRow,
    Incoming,
    Store,
)
from yte_compliance.collector.tokens import StoredToken, bearer, token_id_of, verify
from yte_compliance.collector.viewers import Scope
from yte_compliance.collector.views import devices_json, host_json, site_json
from yte_compliance.collector.world import World, load_world
from yte_compliance.core.report import Report, ReportError, parse_report

Answer = tuple[int, dict, dict]  # status, JSON body, extra headers
_timeout = getattr(asyncio, "timeout", None)


class Exposition(Protocol):
    """What renders /metrics (the exporters' MetricsCache), given by the composition."""

    def get(self, want_gzip: bool, only: frozenset[str] | None = None) -> bytes: ...


class Counters:
    """Reports by result, refusals by reason, new hosts refused per site."""

    def __init__(self, sites: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.results: dict[str, float] = {}
        self.rejected: dict[str, float] = {}
        # per site, from 0: an alert on its increase sees the first refusal
        self.new_hosts_refused: dict[str, float] = dict.fromkeys(sites, 0)
        self.enrollments: dict[str, float] = dict.fromkeys(self.new_hosts_refused, 0)

    def result(self, name: str) -> None:
        with self._lock:
            self.results[name] = self.results.get(name, 0) + 1

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def refuse_new_host(self, site: str) -> None:
        with self._lock:
            self.new_hosts_refused[site] = self.new_hosts_refused.get(site, 0) + 1

    def enrolled(self, site: str) -> None:
        with self._lock:
            self.enrollments[site] = self.enrollments.get(site, 0) + 1

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {"results": dict(self.results), "rejected": dict(self.rejected),
                    "new_hosts_refused": dict(self.new_hosts_refused),
                    "enrollments": dict(self.enrollments)}


class Auth:
    """Token → site (writing) or → scope (reading), checked against the store on every
    request: a revoked or expired token is refused at once. Site tokens listed in the
    sites file never expire."""

    def __init__(self, sites: Mapping[str, Site], store: Store, clock: Callable[[], float]):
        self.sites, self.store, self.clock = sites, store, clock
        self._from_file: dict[str, tuple[str, StoredToken]] = {
            t.token_id: (s.id, t) for s in sites.values() for t in s.tokens}

    def site_of(self, token: str) -> str | None:
        found = self.credential(token)
        return found[0] if found else None

    def credential(self, token: str) -> tuple[str, str | None] | None:
        """(site, None) for a site token; (site, host id) for a PC's own key."""
        tid = token_id_of(token)
        if tid is None:
            return None
        if tid in self._from_file:
            site, stored = self._from_file[tid]
            return (site, None) if verify(token, stored) else None
        info = self.store.token(tid)
        if info is not None:
            if info.site not in self.sites or not info.valid(self.clock()):
                return None
            return (info.site, None) if verify(token, info.token) else None
        key = self.store.host_key(tid)
        if key is None or not key.active or key.site not in self.sites or key.token is None:
            return None
        return (key.site, key.host_id) if verify(token, key.token) else None

    def enrollment_of(self, token: str) -> tuple[str, str] | None:
        """(site, enrollment id) for a valid enrollment secret."""
        tid = token_id_of(token)
        info = self.store.enrollment(tid) if tid is not None else None
        if info is None or info.revoked_at is not None or info.site not in self.sites:
            return None
        return (info.site, info.token.token_id) if verify(token, info.token) else None

    def viewer_of(self, token: str) -> Scope | None:
        tid = token_id_of(token)
        info = self.store.viewer(tid) if tid is not None else None
        if info is None or info.revoked_at is not None or not verify(token, info.token):
            return None
        return Scope.parse(info.scope)


class Reception:
    """Reports in. ``submit`` answers one report; ``admit`` holds the checks that need
    no disk, so a test or a tool can ask them directly."""

    def __init__(self, world: World, store: Store, fleet: Fleet, auth: Auth, limits: Limits,
                 counters: Counters, clock: Callable[[], float],
                 windows_batch: Callable[[bytes], Report] | None = None,
                 stored: Callable[[float], None] | None = None):
        self.world, self.fleet, self.auth, self.limits = world, fleet, auth, limits
        self.counters, self.clock, self.windows_batch = counters, clock, windows_batch
        self.stored = stored  # told each stored report's collected_at (late ones matter)
        self.rate = RateLimiter(limits.reports_per_host_per_minute, limits.burst_per_host,
                                clock)  # one clock for every check (tests inject theirs)
        self.ingestor = Ingestor(store, fleet.accept, max_pending=limits.max_pending_reports)

    def authenticate(self, authorization: str) -> str:
        """The site of a site token or of a PC's own key."""
        return self.credential(authorization)[0]

    def credential(self, authorization: str) -> tuple[str, str | None]:
        """(site, the PC a host key is bound to, or None for a site token)."""
        token = bearer(authorization)
        if token is None:
            raise Refused(401, "unauthorized", "thiếu mã xác thực của cơ sở",
                          "missing bearer site token (Authorization: Bearer …)")
        found = self.auth.credential(token)
        if found is None:
            raise Refused(401, "unauthorized", "mã xác thực không hợp lệ",
                          "unknown, revoked or expired site token or host key")
        return found

    def _too_large(self) -> Refused:
        return Refused(413, "too_large", "báo cáo quá lớn",
                       f"body larger than {self.limits.max_body_bytes} bytes")

    async def read_body(self, declared: str, chunks: AsyncIterator[bytes]) -> bytes:
        """The whole body: bounded in size, and in time (a body trickled in a byte at a
        time holds a connection: not for long)."""
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise self._too_large()

        async def whole() -> bytes:
            body = bytearray()
            async for chunk in chunks:
                body += chunk
                if len(body) > self.limits.max_body_bytes:
                    raise self._too_large()
            return bytes(body)

        try:
            if _timeout is not None:  # Python 3.11+: a deadline without a task per request
                async with _timeout(self.limits.body_timeout_seconds):
                    return await whole()
            return await asyncio.wait_for(whole(), self.limits.body_timeout_seconds)
        except asyncio.TimeoutError:
            raise Refused(408, "body_timeout", "gửi báo cáo quá chậm",
                          f"the body did not arrive within "
                          f"{self.limits.body_timeout_seconds:g} s") from None

    @staticmethod
    def parse_json(body: bytes) -> Report:
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise Refused(400, "invalid", "JSON không hợp lệ", f"invalid JSON: {e}") from None
        try:
            return parse_report(obj)
        except ReportError as e:
            raise Refused(400, "invalid", "báo cáo không hợp lệ", f"invalid report: {e}",
                          field=e.field) from None

    def parse_batch(self, body: bytes) -> Report:
        if self.windows_batch is None:
            raise Refused(404, "not_found", "không nhận lô Windows 7",
                          "this collector takes no Windows 7 batches")
        try:
            return self.windows_batch(body)
        except ReportError as e:
            raise Refused(400, "invalid", "lô dữ liệu không hợp lệ", f"invalid batch: {e}",
                          field=e.field) from None

    def admit(self, site: str, report: Report, bound: str | None = None) -> HostRow:
        """Every check that needs no disk, in order; the host's row to store, else Refused.
        ``bound``: the PC a host key belongs to (None: a site token)."""
        limits = self.limits
        if report.site != site:
            raise Refused(403, "forbidden",
                          f"mã xác thực thuộc cơ sở {site}, không phải {report.site}",
                          f"this token belongs to site {site}, not {report.site}")
        if bound is not None and report.host_id != bound:
            raise Refused(403, "key_of_other_host",
                          f"khoá này của máy {bound}, không phải {report.host_id}",
                          f"this host key belongs to host {bound}, not {report.host_id}",
                          field="host_id")
        now = self.clock()
        ahead = report.collected_at - now
        if ahead > limits.max_clock_skew_seconds:
            raise Refused(400, "clock_skew", "thời điểm thu thập ở tương lai",
                          f"collected_at is {ahead:.0f} s in the future (tolerance "
                          f"{limits.max_clock_skew_seconds:.0f} s): check the PC's clock",
                          field="collected_at")
        age = now - report.collected_at
        if age > limits.max_report_age_days * 86400:
            raise Refused(400, "too_old", "báo cáo quá cũ",
                          f"collected_at is {age / 86400:.0f} days old; reports older than "
                          f"{limits.max_report_age_days:g} days (the agents' spool limit) "
                          "are refused", field="collected_at")
        allowed, wait = self.rate.allow(f"{site}/{report.host_id}")
        if not allowed:
            raise Refused(429, "rate_limited", "gửi quá nhiều báo cáo",
                          f"more than {limits.reports_per_host_per_minute:g} reports per "
                          f"minute from host {report.host_id}", retry_after=wait)
        limit = limits.host_limit(self.world.sites[site].expected_hosts)
        if not self.fleet.admits(site, report.host_id, limit):
            self.counters.refuse_new_host(site)
            raise Refused(403, "host_limit", f"cơ sở {site} đã đủ {limit} máy",
                          f"site {site} already has {limit} hosts (expected_hosts in the "
                          "sites file, plus limits.new_host_margin): a new host id is "
                          "refused; existing hosts keep reporting")
        if bound is None and self.enrolled(report.host_id):
            raise Refused(403, "host_enrolled", f"máy {report.host_id} đã có khoá riêng",
                          f"host {report.host_id} is enrolled: only its own host key "
                          "reports for it")
        return host_row(report, site, now, self.world.sites[site].ipv6_prefixes)

    def enrolled(self, host_id: str) -> bool:
        key = self.auth.store.host_key_of(host_id)
        return key is not None and key.active

    async def submit(self, authorization: str, declared: str, chunks: AsyncIterator[bytes],
                     client: str | None, *, windows: bool = False) -> Answer:
        """The answer to one submitted report (a Windows 7 batch with ``windows``)."""
        try:
            site, bound = self.credential(authorization)
            body = await self.read_body(declared, chunks)
            # parsing is CPU-bound under the GIL: a thread hop would only add cost
            report = self.parse_batch(body) if windows else self.parse_json(body)
            row = self.admit(site, report, bound)
            stored_body = (json.dumps(report.to_json_obj(), ensure_ascii=False) if windows
                           else body.decode("utf-8", errors="replace"))
            result = await self._store(Incoming(row, stored_body,
                                                hashlib.sha256(body).hexdigest()))
        except Refused as r:
            self.counters.reject(r.reason)
            log.event("report_refused", reason=r.reason, status=r.status, detail=r.en,
                      client=client)
            return r.answer()
        duplicate = result == DUPLICATE
        if not duplicate and self.stored is not None:
            self.stored(report.collected_at)
        self.counters.result("duplicate" if duplicate else "accepted")
        log.event("report_duplicate" if duplicate else "report_stored", level=10, site=site,
                  host=report.host_id, report_id=report.report_id)
        return (200 if duplicate else 201), {"status": result, "report_id": report.report_id}, {}

    async def _store(self, item: Incoming) -> str:
        row = item.row
        try:
            result = await self.ingestor.submit(item)
        except Busy as e:
            raise Refused(503, "busy", "máy thu thập đang bận", str(e), retry_after=5) from None
        except (sqlite3.Error, ValueError) as e:  # this report alone; its batch committed
            log.event("report_not_stored", level=40, site=row.site, host=row.host_id,
                      error=repr(e))
            raise Refused(500, "store_error", "không lưu được báo cáo",
                          "this report could not be stored; retry later") from None
        if result == FOREIGN:
            raise Refused(403, "host_of_other_site", f"máy {row.host_id} thuộc cơ sở khác",
                          f"host {row.host_id} belongs to another site; an operator moves "
                          "a PC with `yte collector host move`")
        if result == CONFLICT:
            raise Refused(409, "conflict", "mã báo cáo đã dùng cho nội dung khác",
                          f"report id {row.report_id} was stored with other content",
                          field="report_id")
        return result


class Reading:
    """What readers get: a viewer token's scope decides which sites, in every answer."""

    def __init__(self, world: World, fleet: Fleet, auth: Auth,
                 exposition: Exposition | None = None, months: Months | None = None):
        self.world, self.fleet, self.auth, self.exposition = world, fleet, auth, exposition
        self.months = months

    def scope(self, authorization: str | Scope) -> Scope:
        """The reader's scope: from a bearer header, or a web session's checked already."""
        if isinstance(authorization, Scope):
            return authorization
        token = bearer(authorization)
        scope = self.auth.viewer_of(token) if token else None
        if scope is None:
            raise Refused(401, "unauthorized", "đọc dữ liệu cần mã xem",
                          "reading needs a viewer token (Authorization: Bearer …), "
                          "see `yte collector viewer add`")
        return scope

    def check_site(self, authorization: str | Scope, sid: str) -> None:
        scope = self.scope(authorization)
        if sid not in self.world.sites:
            raise Refused(404, "not_found", "không có cơ sở này", f"no site {sid!r}")
        if not scope.allows(self.world.sites[sid]):
            raise Refused(403, "out_of_scope", "cơ sở ngoài phạm vi được xem",
                          f"this viewer reads {scope.text()}, not site {sid}")

    def sites(self, authorization: str | Scope) -> dict[str, Any]:
        """Every site of the reader's scope, summarised (a bearer header, or the scope of
        a web session that checked one)."""
        scope = self.scope(authorization)
        views = self.fleet.current_views()
        return {"sites": [site_json(views[s], self.world.targets, False) for s in sorted(views)
                          if scope.allows(self.world.sites[s])]}

    def site(self, authorization: str | Scope, sid: str) -> dict[str, Any]:
        self.check_site(authorization, sid)
        return site_json(self.fleet.current_views()[sid], self.world.targets, True)

    def history(self, authorization: str | Scope, sid: str, year: int | None = None
                ) -> dict[str, Any]:
        """One site month by month: each target's verdict (and figure) at each month's
        end, this month's live."""
        self.check_site(authorization, sid)
        if self.months is None:
            raise Refused(404, "not_found", "không có lịch sử theo tháng", "no monthly history")
        targets = self.world.targets
        months = [{"month": m, "checks": results.get(sid, {})}
                  for m, results in self.months.year([sid], year)]
        return {"site": sid, "year": year or dt.date.fromtimestamp(self.fleet.clock()).year,
                "titles": {c: {"vi": t.title_vi, "en": t.title_en} for c, t in targets.items()},
                "months": months}

    def details(self, scope: Scope) -> list[dict[str, Any]]:
        """Every site of ``scope`` in full (the web's district and province pages)."""
        views = self.fleet.current_views()
        return [site_json(views[s], self.world.targets, True) for s in sorted(views)
                if scope.allows(self.world.sites[s])]

    def host(self, scope: Scope, sid: str, host_id: str) -> dict[str, Any]:
        self.check_site(scope, sid)
        out = host_json(self.fleet.current_views()[sid], host_id, self.world.targets)
        if out is None:
            raise Refused(404, "not_found", "không có máy này ở cơ sở",
                          f"no host {host_id!r} at site {sid}")
        return out

    def devices(self, authorization: str, sid: str) -> dict[str, Any]:
        self.check_site(authorization, sid)
        return devices_json(self.fleet.current_views()[sid])

    def metrics(self, authorization: str, want_gzip: bool) -> bytes:
        only = self.scope(authorization).site_ids(self.world.sites)
        if self.exposition is None:
            raise Refused(404, "not_found", "không có /metrics", "no exposition configured")
        return self.exposition.get(want_gzip, only)


@dataclass
class Collector:
    """One collector's services over its configured world."""

    cfg: CollectorConfig
    world: World
    store: Store
    fleet: Fleet
    leases: Leases
    counters: Counters
    auth: Auth
    reception: Reception
    reading: Reading
    clock: Callable[[], float]
    enrollment: Enrollment
    months: Months

    def close(self) -> None:
        self.reception.ingestor.close()
        self.store.close()


def open_collector(cfg: CollectorConfig, clock: Callable[[], float] = time.time, *,
                   exposition: Callable[[Fleet, Callable[[], Mapping]], Exposition] | None = None,
                   windows_batch: Callable[[bytes], Report] | None = None) -> Collector:
    """Load and validate every file first (a half-valid configuration never serves), then
    open the store and build the services. ``exposition`` renders /metrics and
    ``windows_batch`` parses Windows 7 batches: both come from the layers above."""
    log.setup(cfg.log_level)
    world = load_world(cfg)
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.database)
    converted = migrate_v1(store)
    if converted:
        log.event("store_converted", reports=converted, database=str(cfg.database))
    bw = cfg.bandwidth
    fleet = Fleet(store, world.sites, world.targets, world.policy,
                  stale_after=cfg.stale_after_seconds, forget_after=cfg.forget_after_seconds,
                  clock=clock, bandwidth_window=bw.window_days * 86400)
    leases = Leases(SpeedtestLimits(
        period_seconds=bw.period_hours * 3600, lease_seconds=bw.lease_seconds,
        max_bytes_per_stream=bw.max_megabytes_per_stream << 20, max_streams=bw.max_streams,
        window_seconds=bw.window_days * 86400), clock=clock)
    auth = Auth(world.sites, store, clock)
    counters = Counters(world.sites)
    months = Months(world, store, fleet, clock, stale_after=cfg.stale_after_seconds,
                    forget_after=cfg.forget_after_seconds,
                    bandwidth_window=bw.window_days * 86400)
    reception = Reception(world, store, fleet, auth, cfg.limits, counters, clock, windows_batch,
                          months.note)
    shown = exposition(fleet, counters.snapshot) if exposition else None
    enrollment = Enrollment(world, store, fleet, cfg.limits, auth.enrollment_of,
                            counters.enrolled, clock)
    return Collector(cfg, world, store, fleet, leases, counters, auth, reception,
                     Reading(world, fleet, auth, shown, months), clock, enrollment, months)
