"""The collector over HTTP (ASGI; Starlette routing): a thin adapter that turns requests
into calls on the collector's services (collector/service.py) and their answers into
responses. POST /api/v1/reports, the hot path, is plain ASGI without middleware."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from yte_compliance import __version__
from yte_compliance.collector import log
from yte_compliance.collector.adapter import answering, as_json, authorization, collector_of
from yte_compliance.collector.app_agents import ROUTES as AGENT_ROUTES
from yte_compliance.collector.openapi import render as render_openapi
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.service import Collector
from yte_compliance.core.protocol import (
    IPV6_LARGE_BYTES,
    IPV6_LARGE_PATH,
    METRICS_CONTENT_TYPE,
    REPORTS_PATH,
)

IPV6_LARGE = (b"yte-ipv6-path-mtu-check " * (IPV6_LARGE_BYTES // 24 + 1))[:IPV6_LARGE_BYTES]
async def _submit(request: Request, windows: bool) -> Response:
    return as_json(await collector_of(request).reception.submit(
        authorization(request), request.headers.get("content-length", ""), request.stream(),
        request.client.host if request.client else None, windows=windows))


async def post_windows_batch(request: Request) -> Response:
    """Windows 7 (PowerShell 2.0): raw sources in, parsed by the agent's parsers."""
    return await _submit(request, windows=True)


async def post_report(request: Request) -> Response:  # reached only when wrapped
    return await _submit(request, windows=False)


async def ipv6_large(request: Request) -> Response:
    """A fixed 4,000-byte answer: arriving whole over IPv6 shows path MTU works."""
    return Response(IPV6_LARGE, media_type="application/octet-stream")


@answering
async def get_sites(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(collector_of(request).reading.sites,
                                                authorization(request)))


@answering
async def get_site(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(
        collector_of(request).reading.site, authorization(request), request.path_params["site"]))


@answering
async def get_history(request: Request) -> Response:
    year = request.query_params.get("year")
    if year is not None and not (year.isdigit() and 2000 <= int(year) <= 2100):
        raise Refused(400, "invalid", "năm không hợp lệ", "year: four digits", field="year")
    return JSONResponse(await run_in_threadpool(
        collector_of(request).reading.history, authorization(request),
        request.path_params["site"], int(year) if year else None))


@answering
async def get_devices(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(
        collector_of(request).reading.devices, authorization(request), request.path_params["site"]))


@answering
async def get_metrics(request: Request) -> Response:
    gz = "gzip" in request.headers.get("accept-encoding", "")
    body = await run_in_threadpool(collector_of(request).reading.metrics, authorization(request), gz)
    return Response(body, media_type=METRICS_CONTENT_TYPE,
                    headers={"Content-Encoding": "gzip"} if gz else {})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__,
                         "sites": len(collector_of(request).world.sites)})


@answering
async def get_openapi(request: Request) -> Response:
    collector_of(request).reading.scope(authorization(request))
    return Response(request.app.state.openapi, media_type="application/yaml")


@answering
async def landing(request: Request) -> Response:
    sites = collector_of(request).world.sites
    scope = collector_of(request).reading.scope(authorization(request))
    readable = scope.site_ids(sites)
    count = len(sites) if readable is None else len(readable)
    links = [("/ui/", "Trang xem kết quả / results pages"),
             ("/metrics", "Chỉ số Prometheus / Prometheus metrics"),
             ("/api/v1/sites", "Các cơ sở và mức đạt / sites and compliance (JSON)"),
             ("/openapi.yaml", "Mô tả API / API description (OpenAPI)"),
             ("/healthz", "Tình trạng / health")]
    items = "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in links)
    return HTMLResponse(
        f"<!doctype html><html lang=vi><meta charset=utf-8><title>yte collector</title>"
        f"<h1>yte-compliance — máy thu thập / collector {__version__}</h1>"
        f"<p>{count} cơ sở / sites ({escape(scope.text())})</p><ul>{items}</ul></html>")


def build_app(collector: Collector, pages: Sequence[BaseRoute] = ()) -> FastPath:
    """The ASGI application of ``collector`` (see service.open_collector); ``pages`` are
    the web pages' routes, given by the layer that composes them (apps.web)."""
    app = Starlette(routes=[
        Route("/", landing),
        Route("/healthz", healthz),
        Route("/metrics", get_metrics),
        Route("/openapi.yaml", get_openapi),
        Route(REPORTS_PATH, post_report, methods=["POST"]),
        Route("/api/v1/windows-batches", post_windows_batch, methods=["POST"]),
        *AGENT_ROUTES,
        Route(IPV6_LARGE_PATH, ipv6_large),
        Route("/api/v1/sites", get_sites),
        Route("/api/v1/sites/{site}", get_site),
        Route("/api/v1/sites/{site}/devices", get_devices),
        Route("/api/v1/sites/{site}/history", get_history),
        *pages,
    ])
    app.state.collector = collector
    app.state.openapi = render_openapi().encode("utf-8")  # docs/openapi.yaml is the same
    log.event("collector_loaded", sites=len(collector.world.sites),
              targets=len(collector.world.targets), database=str(collector.cfg.database),
              tls=collector.cfg.tls_cert_file is not None)
    return FastPath(app, collector)


class FastPath:
    """The ASGI app: POST /api/v1/reports straight to the reception, the rest to
    Starlette. ``state`` is the collector behind it (tests and the demo read it)."""

    def __init__(self, app: Starlette, collector: Collector):
        self.app, self.state = app, collector

    async def __call__(self, scope, receive, send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] == REPORTS_PATH):
            await self.post_report(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def post_report(self, scope, receive, send) -> None:
        headers = dict(scope["headers"])

        async def chunks():
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                yield message.get("body", b"")
                more = message.get("more_body", False)

        status, answer, extra = await self.state.reception.submit(
            headers.get(b"authorization", b"").decode("latin-1"),
            headers.get(b"content-length", b"").decode("latin-1"), chunks(),
            scope["client"][0] if scope.get("client") else None)
        body = json.dumps(answer, ensure_ascii=False).encode()
        response_headers = [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]
        response_headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status,
                    "headers": response_headers})
        await send({"type": "http.response.body", "body": body})
