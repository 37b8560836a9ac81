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
