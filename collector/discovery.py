"""LAN discovery on the collector: what a site's scanner may sweep, and what it found
(kept only inside the site's own subnets). HTTP is in collector/app_agents.py."""

from __future__ import annotations

from typing import Any

from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.sites import Site, ip_in, normalize_mac
from yte_compliance.core.report import parse_time

MAX_DEVICES = 65536


def accept_discovery(site: Site, obj: Any, now: float, max_skew: float
                     ) -> tuple[float, list[tuple[str, str, str | None]], int]:
    """(scanned_at, [(mac, ip, vendor)] inside the site's subnets, how many were not)."""
    try:
        seen_at = parse_time(obj["scanned_at"], "scanned_at")
        devices = obj["devices"]
        if not isinstance(devices, list) or len(devices) > MAX_DEVICES:
            raise TypeError(f"devices: a list of at most {MAX_DEVICES}")
    except (ValueError, KeyError, TypeError) as e:
        raise Refused(400, "invalid", "kết quả quét không hợp lệ",
                      f"a discovery is {{scanned_at, devices: [{{ip, mac, vendor}}]}}: {e}"
                      ) from None
    if seen_at - now > max_skew:
        raise Refused(400, "clock_skew", "thời điểm quét ở tương lai",
                      "scanned_at is in the future", field="scanned_at")
    accepted, outside = [], 0
    for d in devices:
        mac = normalize_mac(str(d.get("mac", ""))) if isinstance(d, dict) else None
        ip = str(d.get("ip", "")) if isinstance(d, dict) else ""
        if mac is None or not ip_in(ip, site.subnets):
            outside += 1
            continue
        vendor = d.get("vendor")
        accepted.append((mac, ip, str(vendor)[:200] if vendor else None))
    return seen_at, accepted, outside
