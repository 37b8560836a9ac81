"""Waivers (miễn trừ): the department exempts a site, or one host, from a target for a
while, with the reason, who approved it and the decision's reference. A waived result is
neither a pass nor a fail; an expired waiver stops applying by itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.core.yamlconf import Section, load_yaml


@dataclass(frozen=True)
class Waiver:
    site: str
    check: str
    host: str | None  # a host id or hostname; None: the whole site
    reason: str
    approved_by: str
    decision: str  # the decision's reference, e.g. "Quyết định 123/QĐ-SYT"
    granted: dt.date
    expires: dt.date  # the last day it applies

    def in_force(self, day: dt.date) -> bool:
        return self.granted <= day <= self.expires

    def covers(self, host_id: str, hostname: str) -> bool:
        return self.host in (host_id, hostname)

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "check": self.check, "host": self.host,
                "reason": self.reason, "approved_by": self.approved_by,
                "decision": self.decision, "granted": self.granted.isoformat(),
                "expires": self.expires.isoformat()}


@dataclass(frozen=True)
class Waivers:
    entries: tuple[Waiver, ...] = ()

    def for_site(self, site: str) -> tuple[Waiver, ...]:
        return tuple(w for w in self.entries if w.site == site)

    def in_force(self, day: dt.date) -> tuple[Waiver, ...]:
        return tuple(w for w in self.entries if w.in_force(day))


def parse_waivers(data: Any, file: str | Path, *, sites: dict[str, str] | None = None,
                  targets: dict[str, str] | None = None) -> Waivers:
    """``sites``: site id → type; ``targets``: target id → scope (host | site). Each entry
    must name a known site and target; a host waiver needs a host-scope target."""
    top = Section(data, file, "")
    if top.get("version", int) != 1:
        raise top.error("version", "this release reads waivers version 1")
    out = []
    for where, raw in top.items("waivers", []):
        w = Section(raw, file, where)
        site, check = w.get("site", str), w.get("check", str)
        host = w.get("host", str, None)
        if sites is not None and site not in sites:
            raise w.error("site", f"no site {site!r} in the sites file")
        if targets is not None:
            if check not in targets:
                raise w.error("check", f"no target {check!r}")
            if host is not None and targets[check] != "host":
                raise w.error("host", f"{check} is judged per site: waive the site, not a host")
        waiver = Waiver(site=site, check=check, host=host, reason=w.get("reason", str),
                        approved_by=w.get("approved_by", str), decision=w.get("decision", str),
                        granted=w.date("granted"), expires=w.date("expires"))
        for key in ("reason", "approved_by", "decision"):
            if not getattr(waiver, key).strip():
                raise w.error(key, "must not be empty: an auditor reads it")
        if waiver.expires < waiver.granted:
            raise w.error("expires", "before granted")
        w.finish()
        out.append(waiver)
    top.finish()
    return Waivers(tuple(out))


def load_waivers(path: str | Path | None, *, sites: dict[str, str] | None = None,
                 targets: dict[str, str] | None = None) -> Waivers:
    if path is None:
        return Waivers()
    return parse_waivers(load_yaml(path), path, sites=sites, targets=targets)
