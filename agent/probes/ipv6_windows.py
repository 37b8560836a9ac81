"""IPv6 on Windows: Get-NetIPAddress -AddressFamily IPv6 and Get-NetRoute ::/0."""

from __future__ import annotations

from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.ipv6 import add_reachability, classify
from yte_compliance.agent.probes.windows import SourceFailed, source
from yte_compliance.core.report import Ipv6Facts

_UNUSABLE = {"Tentative", "Duplicate", "Invalid"}


def parse_addresses(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for r in rows:
        if str(r.get("AddressState")) in _UNUSABLE:
            continue
        address = str(r["IPAddress"]).split("%", 1)[0]
        cls = classify(address)
        if cls != "loopback":
            out.append((address, cls))
    return out


def parse_default_route(rows: list[dict[str, Any]]) -> bool:
    return any(not str(r.get("InterfaceAlias", "")).startswith("Loopback") for r in rows)


def collect(ctx: Context) -> Observed:
    try:
        addrs = parse_addresses(source(ctx, "ipv6_addresses"))
    except SourceFailed as e:
        raise Unknown(str(e)) from None
    try:
        route = parse_default_route(source(ctx, "ipv6_routes"))
    except SourceFailed:
        route = None
    facts = Ipv6Facts(addresses=[f"{a}/{c}" for a, c in addrs],
                      has_global_address=any(c == "global" for _, c in addrs),
                      default_route=route)
    unknown = {} if route is not None else {"default_route": "Get-NetRoute failed"}
    notes: dict[str, str] = {}
    add_reachability(ctx, facts, unknown, notes)
    return Observed(facts, unknown, notes)
