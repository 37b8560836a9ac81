"""Enrollment: a PC trades its site's enrollment secret for a key of its own.

The secret travels in the site's package (`yte package windows`) or an agent's
configuration; it can only add PCs. On its first run a PC posts its host id and name;
the collector answers once with a host key bound to that PC, stores only the key's hash,
and from then on takes that PC's reports only with that key (a site token or another PC's
key is refused for it). So a stolen secret:
- can add new PCs, no faster than a few a minute and never beyond the site's host limit
  (the PCs it reports plus the keys it holds), each one logged and counted
  (`yte_collector_enrollments_total{site}`, `yte collector key list`);
- can never report for an existing PC: a host id that has a key, had one, or has reported
  before is refused until an operator allows it (`yte collector key allow SITE HOST`).
Revoking or rotating the secret leaves every enrolled PC's key working."""

from __future__ import annotations

import json
from collections.abc import Callable

from yte_compliance.collector import log
from yte_compliance.collector.config import Limits
from yte_compliance.collector.limits import RateLimiter
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.state import Fleet
from yte_compliance.collector.store import Store
from yte_compliance.collector.tokens import bearer, new_token
from yte_compliance.collector.world import World
from yte_compliance.core.protocol import ENROLL_PATH
from yte_compliance.core.report import ID_RE

__all__ = ["ENROLL_PATH", "MAX_BODY", "Enrollment"]
MAX_BODY = 4096


class Enrollment:
    def __init__(self, world: World, store: Store, fleet: Fleet, limits: Limits,
                 enrollment_of: Callable[[str], tuple[str, str] | None],
                 counted: Callable[[str], None], clock: Callable[[], float]):
        self.world, self.store, self.fleet, self.limits = world, store, fleet, limits
        self.enrollment_of, self.counted, self.clock = enrollment_of, counted, clock
        # a few PCs a minute per site, with a burst for a room of PCs installed at once
        self.rate = RateLimiter(6, 30, clock)

    def enroll(self, authorization: str, body: bytes, client: str | None
               ) -> tuple[int, dict, dict]:
        """The answer to one enrollment: 201 with the PC's key, or a refusal with why."""
        try:
            return self._enroll(authorization, body, client)
        except Refused as r:
            log.event("enrollment_refused", reason=r.reason, status=r.status, detail=r.en,
                      client=client)
            return r.answer()

    def _enroll(self, authorization: str, body: bytes, client: str | None
                ) -> tuple[int, dict, dict]:
        secret = bearer(authorization)
        found = self.enrollment_of(secret) if secret else None
        if found is None:
            raise Refused(401, "unauthorized", "mã đăng ký không hợp lệ",
                          "unknown or revoked enrollment secret")
        site, enrollment = found
        host_id, hostname = _parse(body)
        allowed, wait = self.rate.allow(site)
        if not allowed:
            raise Refused(429, "rate_limited", "đăng ký quá nhiều máy trong một phút",
                          "too many enrollments for this site; try again later",
                          retry_after=wait)
        key = self.store.host_key_of(host_id)
        known_site = self.fleet.site_of_host(host_id)
        if key is not None and not key.may_enroll:
            raise Refused(409, "already_enrolled", f"máy {host_id} đã đăng ký",
                          f"host {host_id} is already enrolled (or its key was revoked): an "
                          f"operator allows it again with `yte collector key allow {site} "
                          f"{host_id}`")
        if known_site is not None and (key is None or key.site != known_site):
            raise Refused(409, "known_host", f"máy {host_id} đã báo cáo trước đây",
                          f"host {host_id} has reported before (site {known_site}): an "
                          f"operator allows it to enroll with `yte collector key allow "
                          f"{known_site} {host_id}`")
        limit = self.limits.host_limit(self.world.sites[site].expected_hosts)
        if self.store.active_keys(site) >= limit:
            raise Refused(403, "host_limit", f"cơ sở {site} đã đủ {limit} máy",
                          f"site {site} already has {limit} enrolled hosts")
        plain, stored = new_token()
        if not self.store.enroll_host(site, host_id, stored, enrollment, self.clock()):
            raise Refused(409, "already_enrolled", f"máy {host_id} đã đăng ký",
                          f"host {host_id} is enrolled at another site")
        self.counted(site)
        log.event("host_enrolled", site=site, host=host_id, hostname=hostname,
                  enrollment=enrollment, client=client)
        return 201, {"status": "enrolled", "site": site, "host_id": host_id,
                     "host_key": plain}, {}


def _parse(body: bytes) -> tuple[str, str]:
    if len(body) > MAX_BODY:
        raise Refused(413, "too_large", "yêu cầu quá lớn", f"more than {MAX_BODY} bytes")
    try:
        obj = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise Refused(400, "invalid", "JSON không hợp lệ", f"invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise Refused(400, "invalid", "cần một đối tượng JSON", "expected a JSON object")
    host_id, hostname = obj.get("host_id"), obj.get("hostname")
    if not isinstance(host_id, str) or not ID_RE.match(host_id):
        raise Refused(400, "invalid", "host_id không hợp lệ",
                      f"host_id must match {ID_RE.pattern}", field="host_id")
    if not isinstance(hostname, str) or not 0 < len(hostname) <= 255:
        raise Refused(400, "invalid", "thiếu tên máy", "hostname: 1 to 255 characters",
                      field="hostname")
    return host_id, hostname
