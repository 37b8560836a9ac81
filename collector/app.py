"""The collector's HTTP API (ASGI, Starlette routing): ingest, sites, /metrics, health.

Every report goes one way: token → site, body bounded, parsed (schema v1 JSON, or a
Windows 7 batch), clock skew and per-host rate checked, then group-committed and only
then acknowledged. Every refusal is a 4xx (or 503) with its reason, counted by reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from html import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from yte_compliance import __version__
from yte_compliance.agent.probes.ipv6 import LARGE_BYTES  # the size the agent expects
from yte_compliance.checks.declarations import load_declarations
from yte_compliance.checks.targets import load_targets
from yte_compliance.collector import log
from yte_compliance.collector.config import CollectorConfig
from yte_compliance.collector.derive import derive
from yte_compliance.collector.discovery import routes as discovery_routes
from yte_compliance.collector.ingest import Busy, Ingestor
from yte_compliance.collector.limits import RateLimiter
from yte_compliance.collector.openapi import render as render_openapi
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.sites import Site, load_sites
from yte_compliance.collector.speedtest import Leases, SpeedtestLimits
from yte_compliance.collector.speedtest import routes as speedtest_routes
from yte_compliance.collector.state import Fleet, known_facts
from yte_compliance.collector.store import (
    CONFLICT,
    DUPLICATE,
    FOREIGN,
    HostRow,
    Incoming,
    Store,
)
from yte_compliance.collector.tokens import StoredToken, token_id_of, verify
from yte_compliance.collector.viewers import Scope
from yte_compliance.collector.views import site_json
from yte_compliance.collector.windows_batches import batch_report
from yte_compliance.core.report import Report, ReportError, parse_report
from yte_compliance.exporters.prometheus import CONTENT_TYPE, MetricsCache

IPV6_LARGE = (b"yte-ipv6-path-mtu-check " * (LARGE_BYTES // 24 + 1))[:LARGE_BYTES]


class Counters:
    """Reports by result, refusals by reason: the collector's own counters."""

    def __init__(self, sites: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.results: dict[str, float] = {}
        self.rejected: dict[str, float] = {}
        # per site, from 0: an alert on its increase sees the first refusal
        self.new_hosts_refused: dict[str, float] = dict.fromkeys(sites, 0)

    def result(self, name: str) -> None:
        with self._lock:
            self.results[name] = self.results.get(name, 0) + 1

    def reject(self, reason: str) -> None:
        with self._lock:
            self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def refuse_new_host(self, site: str) -> None:
        with self._lock:
            self.new_hosts_refused[site] = self.new_hosts_refused.get(site, 0) + 1

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {"results": dict(self.results), "rejected": dict(self.rejected),
                    "new_hosts_refused": dict(self.new_hosts_refused)}


class Auth:
    """Token → site (writing) or → scope (reading), checked against the store on every
    request: a revoked or expired token is refused at once. Site tokens listed in the
    sites file never expire."""

    def __init__(self, sites: dict[str, Site], store: Store, clock: Callable[[], float]):
        self.sites, self.store, self.clock = sites, store, clock
        self._from_file: dict[str, tuple[str, StoredToken]] = {
            t.token_id: (s.id, t) for s in sites.values() for t in s.tokens}

    def site_of(self, token: str) -> str | None:
        tid = token_id_of(token)
        if tid is None:
            return None
        if tid in self._from_file:
            site, stored = self._from_file[tid]
            return site if verify(token, stored) else None
        info = self.store.token(tid)
        if info is None or info.site not in self.sites or not info.valid(self.clock()):
            return None
        return info.site if verify(token, info.token) else None


    def viewer_of(self, token: str) -> Scope | None:
        tid = token_id_of(token)
        info = self.store.viewer(tid) if tid is not None else None
        if info is None or info.revoked_at is not None or not verify(token, info.token):
            return None
        return Scope.parse(info.scope)


def build_app(cfg: CollectorConfig, clock: Callable[[], float] = time.time) -> FastPath:
    """Load and validate every file first: a half-valid configuration never serves."""
    log.setup(cfg.log_level)
    sites = load_sites(cfg.sites_file)
    targets = load_targets(cfg.targets_files, known_facts=known_facts())
    declarations = load_declarations(cfg.declarations_file, set(sites))
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.database)
    bw = cfg.bandwidth
    fleet = Fleet(store, sites, targets, declarations, stale_after=cfg.stale_after_seconds,
                  forget_after=cfg.forget_after_seconds, clock=clock,
                  bandwidth_window=bw.window_days * 86400)
    leases = Leases(SpeedtestLimits(
        period_seconds=bw.period_hours * 3600, lease_seconds=bw.lease_seconds,
        max_bytes_per_stream=bw.max_megabytes_per_stream << 20, max_streams=bw.max_streams,
        window_seconds=bw.window_days * 86400), clock=clock)
    auth = Auth(sites, store, clock)
    counters = Counters(sites)
    limits = cfg.limits
    rate = RateLimiter(limits.reports_per_host_per_minute, limits.burst_per_host)
    ingestor = Ingestor(store, fleet.accept, max_pending=limits.max_pending_reports)
    metrics = MetricsCache(fleet, counters.snapshot)
    openapi = render_openapi().encode("utf-8")  # docs/openapi.yaml is the same text

    def authenticate(authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(401, "unauthorized", "thiếu mã xác thực của cơ sở",
                          "missing bearer site token (Authorization: Bearer …)")
        site = auth.site_of(token.strip())
        if site is None:
            raise Refused(401, "unauthorized", "mã xác thực không hợp lệ",
                          "unknown, revoked or expired site token")
        return site

    too_large = (413, "too_large", "báo cáo quá lớn",
                 f"body larger than {limits.max_body_bytes} bytes")

    async def read_body(declared: str, chunks) -> bytes:
        if declared.isdigit() and int(declared) > limits.max_body_bytes:
            raise Refused(*too_large)

        async def whole() -> bytes:
            body = bytearray()
            async for chunk in chunks:
                body += chunk
                if len(body) > limits.max_body_bytes:
                    raise Refused(*too_large)
            return bytes(body)

        try:  # a body trickled in a byte at a time holds a connection: not for long
            return await asyncio.wait_for(whole(), limits.body_timeout_seconds)
        except asyncio.TimeoutError:
            raise Refused(408, "body_timeout", "gửi báo cáo quá chậm",
                          f"the body did not arrive within {limits.body_timeout_seconds:g} s"
                          ) from None

    def parse_json_report(body: bytes) -> Report:
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise Refused(400, "invalid", "JSON không hợp lệ", f"invalid JSON: {e}") from None
        try:
            return parse_report(obj)
        except ReportError as e:
            raise Refused(400, "invalid", "báo cáo không hợp lệ", f"invalid report: {e}",
                          field=e.field) from None

    def parse_batch(body: bytes) -> Report:
        try:
            return batch_report(body)
        except ReportError as e:
            raise Refused(400, "invalid", "lô dữ liệu không hợp lệ", f"invalid batch: {e}",
                          field=e.field) from None

    async def ingest(authorization: str, declared: str, chunks, client: str | None,
                     parse: Callable[[bytes], Report]) -> tuple[int, dict, dict]:
        """(status, JSON answer, headers) for one submitted report."""
        try:
            site = authenticate(authorization)
            body = await read_body(declared, chunks)
            report = parse(body)  # CPU-bound under the GIL: a thread hop would only add cost
            if report.site != site:
                raise Refused(403, "forbidden",
                              f"mã xác thực thuộc cơ sở {site}, không phải {report.site}",
                              f"this token belongs to site {site}, not {report.site}")
            now = clock()
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
            allowed, wait = rate.allow(f"{site}/{report.host_id}")
            if not allowed:
                raise Refused(429, "rate_limited", "gửi quá nhiều báo cáo",
                              f"more than {limits.reports_per_host_per_minute:g} reports per "
                              f"minute from host {report.host_id}", retry_after=wait)
            limit = limits.host_limit(sites[site].expected_hosts)
            if not fleet.admits(site, report.host_id, limit):
                counters.refuse_new_host(site)
                raise Refused(403, "host_limit", f"cơ sở {site} đã đủ {limit} máy",
                              f"site {site} already has {limit} hosts (expected_hosts in the "
                              "sites file, plus limits.new_host_margin): a new host id is "
                              "refused; existing hosts keep reporting")
            row = HostRow(
                host_id=report.host_id, site=site, hostname=report.hostname,
                platform=report.platform, agent_version=report.agent_version,
                source=report.source, report_id=report.report_id,
                collected_at=report.collected_at, received_at=now,
                facts=derive(report.flat_facts(), sites[site].ipv6_prefixes),
                probes={name: {"status": p.status, "reason": p.reason, "unknown": p.unknown}
                        for name, p in report.probes.items()})
            stored_body = (body.decode("utf-8", errors="replace") if parse is parse_json_report
                           else json.dumps(report.to_json_obj(), ensure_ascii=False))
            item = Incoming(row, stored_body, hashlib.sha256(body).hexdigest())
            try:
                result = await ingestor.submit(item)
            except Busy as e:
                raise Refused(503, "busy", "máy thu thập đang bận", str(e),
                              retry_after=5) from None
            except (sqlite3.Error, ValueError) as e:  # this report alone; its batch committed
                log.event("report_not_stored", level=40, site=site, host=report.host_id,
                          error=repr(e))
                raise Refused(500, "store_error", "không lưu được báo cáo",
                              "this report could not be stored; retry later") from None
            if result == FOREIGN:
                raise Refused(403, "host_of_other_site",
                              f"máy {report.host_id} thuộc cơ sở khác",
                              f"host {report.host_id} belongs to another site; an operator "
                              "moves a PC with `yte collector host move`")
            if result == CONFLICT:
                raise Refused(409, "conflict", "mã báo cáo đã dùng cho nội dung khác",
                              f"report id {report.report_id} was stored with other content",
                              field="report_id")
        except Refused as r:
            counters.reject(r.reason)
            log.event("report_refused", reason=r.reason, status=r.status, detail=r.en,
                      client=client)
            return r.answer()
        duplicate = result == DUPLICATE
        counters.result("duplicate" if duplicate else "accepted")
        log.event("report_duplicate" if duplicate else "report_stored", level=10, site=site,
                  host=report.host_id, report_id=report.report_id)
        return (200 if duplicate else 201), {"status": result, "report_id": report.report_id}, {}

    async def starlette_ingest(request: Request, parse) -> Response:
        status, answer, headers = await ingest(
            request.headers.get("authorization", ""), request.headers.get("content-length", ""),
            request.stream(), request.client.host if request.client else None, parse)
        return JSONResponse(answer, status_code=status, headers=headers)

    async def post_windows_batch(request: Request) -> Response:
        """Windows 7 (PowerShell 2.0): raw sources in, parsed here by the agent's parsers."""
        return await starlette_ingest(request, parse_batch)

    async def fast_post_report(scope, receive, send) -> None:
        """POST /api/v1/reports, the hot path, as plain ASGI: no middleware stack."""
        headers = dict(scope["headers"])

        async def chunks():
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                more = message.get("more_body", False)

        status, answer, extra = await ingest(
            headers.get(b"authorization", b"").decode("latin-1"),
            headers.get(b"content-length", b"").decode("latin-1"), chunks(),
            scope["client"][0] if scope.get("client") else None, parse_json_report)
        body = json.dumps(answer, ensure_ascii=False).encode()
        response_headers = [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]
        response_headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status,
                    "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    def site_of_request(request: Request) -> str:
        return authenticate(request.headers.get("authorization", ""))

    def scope_of_request(request: Request) -> Scope:
        """Reading needs a viewer token; its scope decides what the reader sees."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        scope = auth.viewer_of(token.strip()) if scheme.lower() == "bearer" else None
        if scope is None:
            raise Refused(401, "unauthorized", "đọc dữ liệu cần mã xem",
                          "reading needs a viewer token (Authorization: Bearer …), "
                          "see `yte collector viewer add`")
        return scope

    def check_readable(request: Request, sid: str) -> None:
        scope = scope_of_request(request)
        if sid not in sites:
            raise Refused(404, "not_found", "không có cơ sở này", f"no site {sid!r}")
        if not scope.allows(sites[sid]):
            raise Refused(403, "out_of_scope", "cơ sở ngoài phạm vi được xem",
                          f"this viewer reads {scope.text()}, not site {sid}")

    def reading(handler):
        """A read endpoint: refusals become their JSON answer."""
        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as r:
                return r.response()
        return guarded

    async def ipv6_large(request: Request) -> Response:
        """A fixed 4,000-byte answer: arriving whole over IPv6 shows path MTU works."""
        return Response(IPV6_LARGE, media_type="application/octet-stream")

    @reading
    async def get_sites(request: Request) -> Response:
        scope = scope_of_request(request)
        views = await run_in_threadpool(fleet.current_views)
        return JSONResponse({"sites": [site_json(views[s], targets, False) for s in sorted(views)
                                       if scope.allows(sites[s])]})

    @reading
    async def get_site(request: Request) -> Response:
        sid = request.path_params["site"]
        check_readable(request, sid)
        views = await run_in_threadpool(fleet.current_views)
        return JSONResponse(site_json(views[sid], targets, True))

    @reading
    async def get_metrics(request: Request) -> Response:
        only = scope_of_request(request).site_ids(sites)
        gz = "gzip" in request.headers.get("accept-encoding", "")
        body = await run_in_threadpool(metrics.get, gz, only)
        return Response(body, media_type=CONTENT_TYPE,
                        headers={"Content-Encoding": "gzip"} if gz else {})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "sites": len(sites)})

    @reading
    async def get_openapi(request: Request) -> Response:
        scope_of_request(request)
        return Response(openapi, media_type="application/yaml")

    async def starlette_fallback(request: Request) -> Response:
        return await starlette_ingest(request, parse_json_report)  # reached only if wrapped

    @reading
    async def landing(request: Request) -> Response:
        scope = scope_of_request(request)
        readable = scope.site_ids(sites)
        count = len(sites) if readable is None else len(readable)
        links = [("/metrics", "Chỉ số Prometheus / Prometheus metrics"),
                 ("/api/v1/sites", "Các cơ sở và mức đạt / sites and compliance (JSON)"),
                 ("/openapi.yaml", "Mô tả API / API description (OpenAPI)"),
                 ("/healthz", "Tình trạng / health")]
        items = "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in links)
        return HTMLResponse(
            f"<!doctype html><html lang=vi><meta charset=utf-8><title>yte collector</title>"
            f"<h1>yte-compliance — máy thu thập / collector {__version__}</h1>"
            f"<p>{count} cơ sở / sites ({escape(scope.text())})</p><ul>{items}</ul></html>")

    app = Starlette(routes=[
        Route("/", landing),
        Route("/healthz", healthz),
        Route("/metrics", get_metrics),
        Route("/openapi.yaml", get_openapi),
        Route("/api/v1/reports", starlette_fallback, methods=["POST"]),
        Route("/api/v1/windows-batches", post_windows_batch, methods=["POST"]),
        *speedtest_routes(leases, site_of_request),
        Route("/api/v1/ipv6/large", ipv6_large),
        *discovery_routes(store=store, fleet=fleet, sites=sites, limits=limits, clock=clock,
                          site_of_request=site_of_request, read_body=read_body,
                          check_readable=check_readable),
        Route("/api/v1/sites", get_sites),
        Route("/api/v1/sites/{site}", get_site),
    ])
    app.state.store, app.state.fleet, app.state.metrics = store, fleet, metrics
    app.state.ingestor, app.state.counters, app.state.leases = ingestor, counters, leases

    def close() -> None:
        ingestor.close()
        store.close()

    app.state.close = close
    log.event("collector_loaded", sites=len(sites), targets=len(targets),
              database=str(cfg.database), tls=cfg.tls_cert_file is not None)
    return FastPath(app, fast_post_report)


class FastPath:
    """The ASGI app: POST /api/v1/reports straight to its handler, the rest to Starlette."""

    def __init__(self, app: Starlette, post_report):
        self.app, self.post_report, self.state = app, post_report, app.state

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] == "/api/v1/reports"):
            await self.post_report(scope, receive, send)
        else:
            await self.app(scope, receive, send)
