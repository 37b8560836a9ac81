"""Facts the collector derives from a host's report and its site: IPv6 readiness, where
a site's own prefixes (sites file) count like global addresses. Pure."""

from __future__ import annotations

import functools
from typing import Any

from netaddr import AddrFormatError, IPAddress, IPNetwork

DERIVED = frozenset({"ipv6.site_prefix_address", "ipv6.ready", "ipv6.failing_step"})


@functools.lru_cache(maxsize=4096)
def _networks(prefixes: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(IPNetwork(p) for p in prefixes)


def _in_prefixes(addresses: list[str] | None, prefixes: tuple[str, ...]) -> bool:
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


def derive(facts: dict[str, Any], ipv6_prefixes: tuple[str, ...]) -> dict[str, Any]:
    """The host's facts with the derived ones added (three-valued, first failing step)."""
    out = dict(facts)
    in_site = _in_prefixes(facts.get("ipv6.addresses"), ipv6_prefixes)
    out["ipv6.site_prefix_address"] = in_site
    has_global = facts.get("ipv6.has_global_address")
    address = True if (has_global or in_site) else (None if has_global is None else False)
    steps = (("no global IPv6 address (only link-local or unique-local)", address),
             ("no default route", facts.get("ipv6.default_route")),
             ("the endpoint is not reachable over IPv6", facts.get("ipv6.tcp_reachable")))
    failing = next((why for why, ok in steps if ok is False), None)
    out["ipv6.failing_step"] = failing
    if failing:
        out["ipv6.ready"] = False
    elif all(ok is True for _, ok in steps):
        out["ipv6.ready"] = True
    else:
        out["ipv6.ready"] = None
    return out
