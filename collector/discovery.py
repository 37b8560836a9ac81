"""LAN discovery on the collector: the scanner's subnets, what it found, and coverage."""

from __future__ import annotations

import json
from collections.abc import Callable


def routes(collector, *, site_of_request: Callable) -> list:
    """What the site's scanner calls (its site token); readers get devices from the app."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from yte_compliance.collector import log
    from yte_compliance.collector.refusal import Refused
    from yte_compliance.collector.sites import ip_in, normalize_mac
    from yte_compliance.collector.store import SeenDevice
    from yte_compliance.core.report import parse_time

    store, fleet, sites = collector.store, collector.fleet, collector.world.sites
    limits, clock, read_body = collector.cfg.limits, collector.clock, collector.reception.read_body

    async def discovery_subnets(request: Request) -> Response:
        """What the site's scanner may sweep: its subnets from the sites file, nothing else."""
        try:
            site = site_of_request(request)
        except Refused as r:
            return r.response()
        return JSONResponse({"site": site, "subnets": list(sites[site].subnets)})

    async def post_discovery(request: Request) -> Response:
        try:
            site = site_of_request(request)
            body = await read_body(request.headers.get("content-length", ""), request.stream())
            try:
                obj = json.loads(body)
                seen_at = parse_time(obj["scanned_at"], "scanned_at")
                devices = obj["devices"]
                assert isinstance(devices, list) and len(devices) <= 65536
            except (ValueError, KeyError, TypeError, AssertionError) as e:
                raise Refused(400, "invalid", "kết quả quét không hợp lệ",
                              f"a discovery is {{scanned_at, devices: [{{ip, mac, vendor}}]}}: {e}"
                              ) from None
            if seen_at - clock() > limits.max_clock_skew_seconds:
                raise Refused(400, "clock_skew", "thời điểm quét ở tương lai",
                              "scanned_at is in the future", field="scanned_at")
            accepted, outside = [], 0
            for d in devices:
                mac = normalize_mac(str(d.get("mac", ""))) if isinstance(d, dict) else None
                ip = str(d.get("ip", "")) if isinstance(d, dict) else ""
                if mac is None or not ip_in(ip, sites[site].subnets):
                    outside += 1
                    continue
                vendor = d.get("vendor")
                accepted.append((mac, ip, str(vendor)[:200] if vendor else None))
        except Refused as r:
            return r.response()
        await run_in_threadpool(store.record_devices, site, accepted, seen_at)
        fleet.saw_devices(site, [SeenDevice(site, m, i, v, seen_at, seen_at)
                                 for m, i, v in accepted])
        log.event("discovery_stored", site=site, devices=len(accepted), refused=outside)
        return JSONResponse({"stored": len(accepted), "refused_outside_subnets": outside},
                            status_code=201)

    return [
        Route("/api/v1/discovery/subnets", discovery_subnets),
        Route("/api/v1/discoveries", post_discovery, methods=["POST"]),
    ]
