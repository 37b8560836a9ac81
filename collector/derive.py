"""Facts the collector derives from a host's report and its site: IPv6 readiness, where
a site's own prefixes (sites file) count like global addresses. Pure."""

from __future__ import annotations

import functools
import urllib.parse
from typing import Any

from netaddr import AddrFormatError, IPAddress, IPNetwork

from yte_compliance.collector.store import HostRow
from yte_compliance.core.report import Report

DERIVED = frozenset({"ipv6.site_prefix_address", "ipv6.ready", "ipv6.failing_step"})


@functools.lru_cache(maxsize=4096)
def _networks(prefixes: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(IPNetwork(p) for p in prefixes)


def _in_prefixes(addresses: list[str] | None, prefixes: tuple[str, ...]) -> bool:
    if not prefixes:  # most sites: nothing to parse
        return False
    nets = _networks(prefixes)
    for entry in addresses or []:
        address = entry.rsplit("/", 1)[0]
        try:
            ip = IPAddress(address)
        except (AddrFormatError, ValueError, TypeError):  # noqa: S112 - odd text is no match
            continue
        if any(ip in n for n in nets):
            return True
    return False


@functools.lru_cache(maxsize=256)  # the fleet's agents name the same endpoint or a few
def _named(endpoint: str) -> bool:
    """Is the endpoint a name (its AAAA record is a step), not an address literal?"""
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    try:
        IPAddress(host)
    except (AddrFormatError, ValueError):
        return bool(host)
    return False


def derive(facts: dict[str, Any], ipv6_prefixes: tuple[str, ...],
           notes: dict[str, str] | None = None) -> dict[str, Any]:
    """The host's facts with the derived ones added (three-valued, first failing step).
    IPv6-ready needs every step the agent measured: a global address (or one in the
    site's prefixes), a default route, the name's AAAA record (when the endpoint is a
    name), a TCP connection and a large answer (a path that drops large packets is not
    ready). The failing step says the agent's own reason when it sent one (``notes``)."""
    out = dict(facts)
    notes = notes or {}
    in_site = _in_prefixes(facts.get("ipv6.addresses"), ipv6_prefixes)
    out["ipv6.site_prefix_address"] = in_site
    has_global = facts.get("ipv6.has_global_address")
    address = True if (has_global or in_site) else (None if has_global is None else False)
    steps = [("no global IPv6 address (only link-local or unique-local)", address, None),
             ("no default route", facts.get("ipv6.default_route"), "default_route")]
    if _named(str(facts.get("ipv6.endpoint") or "")):
        steps.append(("the endpoint's name has no AAAA record", facts.get("ipv6.dns_aaaa"),
                      "dns_aaaa"))
    steps += [("the endpoint is not reachable over IPv6", facts.get("ipv6.tcp_reachable"),
               "tcp_reachable"),
              ("large answers do not arrive over IPv6 (path MTU)",
               facts.get("ipv6.large_response"), "large_response")]
    failing = next((why + (f": {notes[key]}" if key in notes else "")
                    for why, ok, key in steps if ok is False), None)
    out["ipv6.failing_step"] = failing
    if failing:
        out["ipv6.ready"] = False
    elif all(ok is True for _, ok, _ in steps):
        out["ipv6.ready"] = True
    else:
        out["ipv6.ready"] = None
    return out


def host_row(report: Report, site: str, received_at: float,
             ipv6_prefixes: tuple[str, ...]) -> HostRow:
    """A host's state as one report gives it: what ingest stores and history replays."""
    return HostRow(
        host_id=report.host_id, site=site, hostname=report.hostname,
        platform=report.platform, agent_version=report.agent_version, source=report.source,
        report_id=report.report_id, collected_at=report.collected_at, received_at=received_at,
        facts=derive(report.flat_facts(), ipv6_prefixes,
                     report.probes["ipv6"].notes if "ipv6" in report.probes else None),
        probes={name: {"status": p.status, "reason": p.reason, "unknown": p.unknown,
                       **({"notes": p.notes} if p.notes else {})}
                for name, p in report.probes.items()})
