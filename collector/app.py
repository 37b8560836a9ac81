"""The collector's HTTP API (ASGI, Starlette routing): ingest, sites, /metrics, health."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from checks.declarations import SITE_FACTS, load_declarations
from checks.evaluate import CheckResult
from checks.targets import Target, load_targets
from collector.config import CollectorConfig
from collector.sites import Site, load_sites
from collector.state import Fleet, SiteView
from collector.store import HostRow, Store
from collector.tokens import StoredToken, token_id_of, verify
from exporters.prometheus import CONTENT_TYPE, MetricsCache
from yte import __version__
from yte.report import ID_RE, REPORT_ID_RE, Report, ReportError, fact_names, parse_report, parse_time


@dataclass
class Counters:
    values: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def inc(self, key: str) -> None:
        with self.lock:
            self.values[key] = self.values.get(key, 0) + 1


class Auth:
    """Token → site. Tokens come from the sites file and the database (`token add`)."""

    def __init__(self, sites: dict[str, Site], store: Store):
        self.sites, self.store = sites, store
        self._by_id: dict[str, tuple[str, StoredToken]] = {}
        self.reload()

    def reload(self) -> None:
        by_id = {t.token_id: (s.id, t) for s in self.sites.values() for t in s.tokens}
        for site, t in self.store.tokens():
            if site in self.sites:
                by_id[t.token_id] = (site, t)
        self._by_id = by_id

    def site_of(self, token: str) -> str | None:
        tid = token_id_of(token)
        if tid is None:
            return None
        if tid not in self._by_id:
            self.reload()  # a token added since start (yte collector token add)
        entry = self._by_id.get(tid)
        if entry is None or not verify(token, entry[1]):
            return None
        return entry[0]


_BATCH_KEYS = {"schema", "report_id", "site", "host_id", "hostname", "collected_at",
               "agent_version", "batch"}


def batch_report(body: bytes) -> Report:
    """Validate a Windows 7 batch envelope, parse its sources, validate the result."""
    from agent.probes.windows import SOURCES
    from agent.replay import report_from_batch

    try:
        obj = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError) as e:
        raise ReportError("$", f"invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ReportError("$", "a batch is a JSON object")
    for key in obj:
        if key not in _BATCH_KEYS:
            raise ReportError(key, "unknown field")
    if obj.get("schema") != 1:
        raise ReportError("schema", "this collector reads batch schema 1")
    for key, pattern in (("report_id", REPORT_ID_RE), ("site", ID_RE), ("host_id", ID_RE)):
        if not isinstance(obj.get(key), str) or not pattern.match(obj[key]):
            raise ReportError(key, f"must match {pattern.pattern}")
    for key in ("hostname", "agent_version"):
        if not isinstance(obj.get(key), str) or not 0 < len(obj[key]) <= 512:
            raise ReportError(key, "required string")
    batch = obj.get("batch")
    if not isinstance(batch, dict):
        raise ReportError("batch", "expected an object of source name to result")
    for name, entry in batch.items():
        if name not in SOURCES:
            raise ReportError(f"batch.{name}", "unknown source")
        if not isinstance(entry, dict) or not isinstance(entry.get("ok"), bool):
            raise ReportError(f"batch.{name}", "expected {ok: true, data} or {ok: false, error}")
    report = report_from_batch(batch, site=obj["site"], host_id=obj["host_id"],
                               hostname=obj["hostname"], report_id=obj["report_id"],
                               collected_at=parse_time(obj.get("collected_at"), "collected_at"),
                               agent_version=obj["agent_version"])
    return parse_report(report.to_json_obj())  # the same contract as an agent's report


def _error(status: int, vi: str, en: str, **extra) -> JSONResponse:
    return JSONResponse({"error": f"{vi} / {en}", **extra}, status_code=status)


def why_unknown(host: HostRow, facts: list[str]) -> list[str]:
    """For each of ``facts`` the host could not tell: the probe's own reason."""
    out = []
    for fact in facts:
        if host.facts.get(fact) is not None:
            continue
        probe, _, name = fact.partition(".")
        p = host.probes.get(probe)
        if p is None:
            why = "probe not run"
        else:
            why = p["unknown"].get(name) or p["reason"] or "not reported"
        out.append(f"{fact}: {why}")
    return out


def check_json(r: CheckResult, t: Target, view: SiteView) -> dict:
    hosts = {h.host_id: h for h in view.hosts}
    names = {h.host_id: h.hostname for h in view.hosts}
    first = t.all_of[0]
    out = {
        "check": r.check, "title_vi": t.title_vi, "title_en": t.title_en,
        "scope": r.scope, "evidence": t.evidence, "status": r.status,
        "value": r.value, "target": r.target, "reason": r.reason, "source": t.source,
    }
    if r.scope == "host":
        out["hosts"] = {"counted": r.hosts_counted, "passing": r.hosts_passing,
                        "failing": r.hosts_failing, "unknown": r.hosts_unknown,
                        "stale": r.hosts_stale}
        out["failing_hosts"] = [{"host_id": h, "hostname": names.get(h, h)}
                                for h in r.failing_hosts]
        facts = [c.fact for c in t.all_of]
        out["unknown_hosts"] = [{"host_id": h, "hostname": names.get(h, h),
                                 "why": why_unknown(hosts[h], facts)}
                                for h in r.unknown_hosts]
    else:
        out["op"], out["threshold"] = first.op, first.value
        out["unit"] = "ratio" if first.fact.endswith("_ratio") else None
    return out


def site_json(view: SiteView, targets: dict[str, Target], detail: bool) -> dict:
    s = view.site
    counts = {"pass": 0, "fail": 0, "unknown": 0}
    for r in view.results:
        counts[r.status] += 1
    out = {
        "site": {"id": s.id, "name": s.name, "type": s.type, "province": s.province,
                 "district": s.district},
        "evaluated_at": dt.datetime.fromtimestamp(view.evaluated_at, dt.timezone.utc)
                          .isoformat(timespec="seconds"),
        "hosts": {"fresh": len(view.hosts) - len(view.stale), "stale": len(view.stale)},
        "checks_summary": counts,
    }
    if detail:
        out["checks"] = [check_json(r, targets[r.check], view) for r in view.results]
    return out


def build_app(cfg: CollectorConfig, clock: Callable[[], float] = time.time) -> Starlette:
    """Load and validate every file first: a half-valid configuration never serves."""
    sites = load_sites(cfg.sites_file)
    targets = load_targets(cfg.targets_files,
                           known_facts={"host": fact_names(), "site": SITE_FACTS})
    declarations = load_declarations(cfg.declarations_file, set(sites))
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.database)
    fleet = Fleet(store, sites, targets, declarations, stale_after=cfg.stale_after_seconds,
                  forget_after=cfg.forget_after_seconds, clock=clock)
    auth = Auth(sites, store)
    counters = Counters()
    metrics = MetricsCache(fleet, counters.values)

    async def post_report(request: Request) -> Response:
        site = await _authenticate(request)
        if isinstance(site, Response):
            return site
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as e:
            counters.inc("invalid")
            return _error(400, "JSON không hợp lệ", f"invalid JSON: {e}")
        try:
            report = parse_report(obj)
        except ReportError as e:
            counters.inc("invalid")
            return _error(400, "báo cáo không hợp lệ", f"invalid report: {e}", field=e.field)
        return await _ingest(report, site, body.decode())

    async def _authenticate(request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            counters.inc("unauthorized")
            return _error(401, "thiếu mã xác thực của cơ sở", "missing bearer site token")
        site = auth.site_of(token.strip())
        if site is None:
            counters.inc("unauthorized")
            return _error(401, "mã xác thực không hợp lệ", "unknown or invalid site token")
        return site

    async def _read_body(request: Request) -> bytes | Response:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cfg.max_body_bytes:
            counters.inc("too_large")
            return _error(413, "báo cáo quá lớn", f"report larger than {cfg.max_body_bytes} bytes")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > cfg.max_body_bytes:
                counters.inc("too_large")
                return _error(413, "báo cáo quá lớn",
                              f"report larger than {cfg.max_body_bytes} bytes")
        return bytes(body)

    async def _ingest(report: Report, site: str, raw: str) -> Response:
        if report.site != site:
            counters.inc("forbidden")
            return _error(403, f"mã xác thực thuộc cơ sở {site}, không phải {report.site}",
                          f"this token belongs to site {site}, not {report.site}")
        row = HostRow(
            host_id=report.host_id, site=site, hostname=report.hostname,
            platform=report.platform, agent_version=report.agent_version, source=report.source,
            report_id=report.report_id, collected_at=report.collected_at,
            received_at=clock(), facts=report.flat_facts(),
            probes={name: {"status": p.status, "reason": p.reason, "unknown": p.unknown}
                    for name, p in report.probes.items()},
        )
        stored = await run_in_threadpool(store.ingest, row, raw)
        if not stored:
            counters.inc("duplicate")
            return JSONResponse({"status": "duplicate", "report_id": report.report_id})
        fleet.accept(row)
        counters.inc("accepted")
        return JSONResponse({"status": "stored", "report_id": report.report_id}, status_code=201)

    async def post_windows_batch(request: Request) -> Response:
        """Windows 7 (PowerShell 2.0): raw sources in, parsed here by the agent's parsers."""
        site = await _authenticate(request)
        if isinstance(site, Response):
            return site
        body = await _read_body(request)
        if isinstance(body, Response):
            return body
        try:
            report = await run_in_threadpool(batch_report, body)
        except ReportError as e:
            counters.inc("invalid")
            return _error(400, "lô dữ liệu không hợp lệ", f"invalid batch: {e}", field=e.field)
        return await _ingest(report, site, body.decode(errors="replace"))

    async def get_sites(request: Request) -> Response:
        views = await run_in_threadpool(fleet.views)
        return JSONResponse({"sites": [site_json(views[s], targets, False) for s in sorted(views)]})

    async def get_site(request: Request) -> Response:
        sid = request.path_params["site"]
        views = await run_in_threadpool(fleet.views)
        if sid not in views:
            return _error(404, "không có cơ sở này", f"no site {sid!r}")
        return JSONResponse(site_json(views[sid], targets, True))

    async def get_metrics(request: Request) -> Response:
        gz = "gzip" in request.headers.get("accept-encoding", "")
        body = await run_in_threadpool(metrics.get, gz)
        headers = {"Content-Encoding": "gzip"} if gz else {}
        return Response(body, media_type=CONTENT_TYPE, headers=headers)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "sites": len(sites)})

    async def landing(request: Request) -> Response:
        links = [("/metrics", "Chỉ số Prometheus / Prometheus metrics"),
                 ("/api/v1/sites", "Các cơ sở và mức đạt / sites and compliance (JSON)"),
                 ("/healthz", "Tình trạng / health")]
        items = "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in links)
        return HTMLResponse(
            f"<!doctype html><html lang=vi><meta charset=utf-8><title>yte collector</title>"
            f"<h1>yte-compliance — máy thu thập / collector {__version__}</h1>"
            f"<p>{len(sites)} cơ sở / sites</p><ul>{items}</ul></html>")

    app = Starlette(routes=[
        Route("/", landing),
        Route("/healthz", healthz),
        Route("/metrics", get_metrics),
        Route("/api/v1/reports", post_report, methods=["POST"]),
        Route("/api/v1/windows-batches", post_windows_batch, methods=["POST"]),
        Route("/api/v1/sites", get_sites),
        Route("/api/v1/sites/{site}", get_site),
    ])
    app.state.store, app.state.fleet, app.state.metrics = store, fleet, metrics
    return app
