"""HTTP for what agents call besides reports: the speed-test lease and streams (one site,
one test at a time) and the LAN scanner's subnets and results. Each endpoint takes the
site token; the streams also the site's lease. Thin: the logic is in speedtest.py and
discovery.py."""

from __future__ import annotations

import json
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from yte_compliance.collector import log
from yte_compliance.collector.adapter import answering, authorization, collector_of
from yte_compliance.collector.discovery import accept_discovery
from yte_compliance.collector.enroll import ENROLL_PATH, MAX_BODY
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.speedtest import BLOCK
from yte_compliance.collector.store import SeenDevice


def _site(request: Request) -> str:
    return collector_of(request).reception.authenticate(authorization(request))


def _leased_site(request: Request) -> str:
    site = _site(request)
    if not collector_of(request).leases.check(site, request.query_params.get("lease", "")):
        raise Refused(403, "no_lease", "không giữ quyền đo của cơ sở",
                      "no valid speed-test lease for this site: ask POST "
                      "/api/v1/speedtest/lease first")
    return site


_BUSY = ("quá nhiều luồng đo", "too many speed-test streams")


async def enroll(request: Request) -> Response:
    """A PC's first run: its site's enrollment secret for a key of its own (enroll.py)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            break
    status, answer, headers = collector_of(request).enrollment.enroll(
        authorization(request), body, request.client.host if request.client else None)
    return JSONResponse(answer, status_code=status, headers=headers)


@answering
async def speedtest_lease(request: Request) -> Response:
    site = _site(request)
    try:
        host_id = str((await request.json())["host_id"])[:64]
    except (ValueError, KeyError, TypeError):
        raise Refused(400, "invalid", "thiếu host_id", "body must be {\"host_id\": …}",
                      field="host_id") from None
    leases = collector_of(request).leases
    lease, why, wait = leases.request(site, host_id)
    if lease is None:
        return JSONResponse({"granted": False, "reason": why, "retry_after": round(wait)})
    log.event("speedtest_lease", site=site, host=host_id)
    return JSONResponse({"granted": True, "lease_id": lease.lease_id,
                         "expires_at": lease.expires_at,
                         "max_bytes_per_stream": leases.limits.max_bytes_per_stream})


@answering
async def speedtest_release(request: Request) -> Response:
    collector_of(request).leases.release(_site(request), request.path_params["lease"])
    return Response(status_code=204)


@answering
async def speedtest_ping(request: Request) -> Response:
    _site(request)
    return Response(b"pong", media_type="text/plain")


@answering
async def speedtest_download(request: Request) -> Response:
    _leased_site(request)
    leases = collector_of(request).leases
    try:
        wanted = int(request.query_params.get("bytes", "0"))
    except ValueError:
        wanted = 0
    cap = leases.limits.max_bytes_per_stream
    total = max(0, min(wanted or cap, cap))
    if not leases.open_stream():
        raise Refused(503, "busy", *_BUSY, retry_after=10)

    async def body():
        try:
            left = total
            while left > 0:
                chunk = BLOCK if left >= len(BLOCK) else BLOCK[:left]
                left -= len(chunk)
                yield chunk
        finally:
            leases.close_stream()

    return StreamingResponse(body(), media_type="application/octet-stream",
                             headers={"Content-Length": str(total), "Cache-Control": "no-store"})


SAMPLE_SECONDS = 0.05  # the receiver's (its monotonic seconds, bytes so far) every 50 ms
MAX_SAMPLES = 2000


@answering
async def speedtest_upload(request: Request) -> Response:
    _leased_site(request)
    leases = collector_of(request).leases
    if not leases.open_stream():
        raise Refused(503, "busy", *_BUSY, retry_after=10)
    # Counted where the bytes arrive (as iperf3's receiver side): what the agent handed
    # to its socket may still sit in its send buffer on a long, slow link. The agent
    # sends chunked and reads these samples once it ends the body. Times are this
    # server's monotonic clock, one time base for every stream (a stream whose connection
    # set-up lost a packet starts a second late: its own zero would misalign it).
    received = 0
    samples: list[list[float]] = [[round(time.monotonic(), 4), 0]]
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > leases.limits.max_bytes_per_stream:
                raise Refused(413, "too_large", "vượt giới hạn một lần đo",
                              "more than the bytes allowed per stream")
            now = time.monotonic()
            if now - samples[-1][0] >= SAMPLE_SECONDS:
                samples.append([round(now, 4), received])
    except ClientDisconnect:
        pass  # an older agent stops when its time is up: what arrived is what counts
    finally:
        leases.close_stream()
    samples.append([round(time.monotonic(), 4), received])
    return JSONResponse({"bytes": received, "samples": samples[-MAX_SAMPLES:]})


@answering
async def discovery_subnets(request: Request) -> Response:
    """What the site's scanner may sweep: its subnets from the sites file, nothing else."""
    site = _site(request)
    return JSONResponse({"site": site,
                         "subnets": list(collector_of(request).world.sites[site].subnets)})


@answering
async def post_discovery(request: Request) -> Response:
    c = collector_of(request)
    site = _site(request)
    body = await c.reception.read_body(request.headers.get("content-length", ""),
                                       request.stream())
    try:
        obj = json.loads(body)
    except ValueError as e:
        raise Refused(400, "invalid", "kết quả quét không hợp lệ", f"invalid JSON: {e}") from None
    seen_at, accepted, outside = accept_discovery(c.world.sites[site], obj, c.clock(),
                                                  c.cfg.limits.max_clock_skew_seconds)
    await run_in_threadpool(c.store.record_devices, site, accepted, seen_at)
    c.fleet.saw_devices(site, [SeenDevice(site, m, i, v, seen_at, seen_at)
                               for m, i, v in accepted])
    log.event("discovery_stored", site=site, devices=len(accepted), refused=outside)
    return JSONResponse({"stored": len(accepted), "refused_outside_subnets": outside},
                        status_code=201)


ROUTES = [
    Route(ENROLL_PATH, enroll, methods=["POST"]),
    Route("/api/v1/speedtest/lease", speedtest_lease, methods=["POST"]),
    Route("/api/v1/speedtest/lease/{lease}", speedtest_release, methods=["DELETE"]),
    Route("/api/v1/speedtest/ping", speedtest_ping),
    Route("/api/v1/speedtest/download", speedtest_download),
    Route("/api/v1/speedtest/upload", speedtest_upload, methods=["POST"]),
    Route("/api/v1/discovery/subnets", discovery_subnets),
    Route("/api/v1/discoveries", post_discovery, methods=["POST"]),
]
