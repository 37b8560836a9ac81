"""Speed tests against the collector: one site, one test at a time.

A lease per site: one agent measures, the others are told to skip and why. A site is
due again after `period` × a random factor from 0.75 to 1.25, so its measurements fall
at varied times of day. Concurrent streams and bytes per test are capped.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

BLOCK = os.urandom(1 << 20)  # incompressible payload, sent again and again


@dataclass(frozen=True)
class Lease:
    lease_id: str
    site: str
    host_id: str
    expires_at: float


@dataclass(frozen=True)
class SpeedtestLimits:
    period_seconds: float = 8 * 3600
    lease_seconds: float = 120.0
    max_bytes_per_stream: int = 400 << 20
    max_streams: int = 24
    window_seconds: float = 7 * 86400  # the site's value: median of this window


class Leases:
    def __init__(self, limits: SpeedtestLimits, clock: Callable[[], float] = time.time,
                 rand: Callable[[float, float], float] | None = None):
        import random

        self.limits, self.clock = limits, clock
        self.rand = rand or random.uniform
        self._lock = threading.Lock()
        self._active: dict[str, Lease] = {}
        self._due: dict[str, float] = {}
        self._streams = 0

    def request(self, site: str, host_id: str) -> tuple[Lease | None, str | None, float]:
        """(lease, None, 0) or (None, why not, seconds to wait)."""
        now = self.clock()
        with self._lock:
            held = self._active.get(site)
            if held and held.expires_at > now and held.host_id != host_id:
                return None, (f"site is being measured by host {held.host_id}: one "
                              f"measurement per site at a time"), held.expires_at - now
            due = self._due.get(site, 0.0)
            if now < due and not held:
                return None, f"measured recently; next measurement due in {due - now:.0f} s", \
                    due - now
            lease = Lease(secrets.token_hex(12), site, host_id, now + self.limits.lease_seconds)
            self._active[site] = lease
            self._due[site] = now + self.limits.period_seconds * self.rand(0.75, 1.25)
            return lease, None, 0.0

    def check(self, site: str, lease_id: str) -> bool:
        with self._lock:
            held = self._active.get(site)
            return bool(held and held.lease_id == lease_id and held.expires_at > self.clock())

    def release(self, site: str, lease_id: str) -> bool:
        with self._lock:
            held = self._active.get(site)
            if held and held.lease_id == lease_id:
                del self._active[site]
                return True
            return False

    def open_stream(self) -> bool:
        with self._lock:
            if self._streams >= self.limits.max_streams:
                return False
            self._streams += 1
            return True

    def close_stream(self) -> None:
        with self._lock:
            self._streams -= 1


def routes(leases: Leases, site_of_request: Callable) -> list:
    """The speed-test endpoints: the site token for all, the site's lease for the streams."""
    from starlette.requests import ClientDisconnect, Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from yte_compliance.collector import log
    from yte_compliance.collector.refusal import Refused

    def lease_of(request: Request) -> str:
        site = site_of_request(request)
        if not leases.check(site, request.query_params.get("lease", "")):
            raise Refused(403, "no_lease", "không giữ quyền đo của cơ sở",
                          "no valid speed-test lease for this site: ask POST "
                          "/api/v1/speedtest/lease first")
        return site

    async def speedtest_lease(request: Request) -> Response:
        try:
            site = site_of_request(request)
            try:
                host_id = str((await request.json())["host_id"])[:64]
            except (ValueError, KeyError, TypeError):
                raise Refused(400, "invalid", "thiếu host_id", "body must be {\"host_id\": …}",
                              field="host_id") from None
        except Refused as r:
            return r.response()
        lease, why, wait = leases.request(site, host_id)
        if lease is None:
            return JSONResponse({"granted": False, "reason": why, "retry_after": round(wait)})
        log.event("speedtest_lease", site=site, host=host_id)
        return JSONResponse({"granted": True, "lease_id": lease.lease_id,
                             "expires_at": lease.expires_at,
                             "max_bytes_per_stream": leases.limits.max_bytes_per_stream})

    async def speedtest_release(request: Request) -> Response:
        try:
            site = site_of_request(request)
        except Refused as r:
            return r.response()
        leases.release(site, request.path_params["lease"])
        return Response(status_code=204)

    async def speedtest_ping(request: Request) -> Response:
        try:
            site_of_request(request)
        except Refused as r:
            return r.response()
        return Response(b"pong", media_type="text/plain")

    async def speedtest_download(request: Request) -> Response:
        try:
            lease_of(request)
        except Refused as r:
            return r.response()
        try:
            wanted = int(request.query_params.get("bytes", "0"))
        except ValueError:
            wanted = 0
        total = max(0, min(wanted or leases.limits.max_bytes_per_stream,
                           leases.limits.max_bytes_per_stream))
        if not leases.open_stream():
            return Refused(503, "busy", "quá nhiều luồng đo", "too many speed-test streams",
                           retry_after=10).response()

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
                                 headers={"Content-Length": str(total),
                                          "Cache-Control": "no-store"})

    async def speedtest_upload(request: Request) -> Response:
        try:
            lease_of(request)
        except Refused as r:
            return r.response()
        if not leases.open_stream():
            return Refused(503, "busy", "quá nhiều luồng đo", "too many speed-test streams",
                           retry_after=10).response()
        received = 0
        try:
            async for chunk in request.stream():
                received += len(chunk)
                if received > leases.limits.max_bytes_per_stream:
                    return Refused(413, "too_large", "vượt giới hạn một lần đo",
                                   "more than the bytes allowed per stream").response()
        except ClientDisconnect:
            pass  # the agent stops when its time is up: what arrived is what counts
        finally:
            leases.close_stream()
        return JSONResponse({"bytes": received})

    return [
        Route("/api/v1/speedtest/lease", speedtest_lease, methods=["POST"]),
        Route("/api/v1/speedtest/lease/{lease}", speedtest_release, methods=["DELETE"]),
        Route("/api/v1/speedtest/ping", speedtest_ping),
        Route("/api/v1/speedtest/download", speedtest_download),
        Route("/api/v1/speedtest/upload", speedtest_upload, methods=["POST"]),
    ]
