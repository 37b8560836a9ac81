"""IPv6 on Linux: addresses from /proc/net/if_inet6, default route from /proc/net/ipv6_route."""

from __future__ import annotations

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.ipv6 import add_reachability, classify
from yte_compliance.core.report import Ipv6Facts

_RTF_REJECT = 0x0200


def _hex_to_ipv6(h: str) -> str:
    return ":".join(h[i:i + 4] for i in range(0, 32, 4))


def parse_if_inet6(text: str) -> list[tuple[str, str, str]]:
    """(address, class, interface) for every configured address."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 6 and len(parts[0]) == 32:
            addr = _hex_to_ipv6(parts[0])
            out.append((addr, classify(addr), parts[5]))
    return out


def parse_default_route(text: str) -> bool:
    """True when a usable ::/0 route exists (not the kernel's 'unreachable' on lo)."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 10:
            continue
        dest, plen, flags, dev = parts[0], parts[1], int(parts[8], 16), parts[9]
        if dest == "0" * 32 and plen == "00" and dev != "lo" and not flags & _RTF_REJECT:
            return True
    return False


def collect(ctx: Context) -> Observed:
    try:
        addrs = parse_if_inet6(ctx.read_text("/proc/net/if_inet6"))
    except FileNotFoundError:
        raise Unknown("IPv6 is disabled in this kernel (no /proc/net/if_inet6)") from None
    try:
        route = parse_default_route(ctx.read_text("/proc/net/ipv6_route"))
    except FileNotFoundError:
        route = False
    from netaddr import IPAddress  # already loaded by classify()
    facts = Ipv6Facts(
        addresses=[f"{IPAddress(a)}/{cls}" for a, cls, dev in addrs if dev != "lo"],
        has_global_address=any(cls == "global" for _, cls, _ in addrs),
        default_route=route,
    )
    unknown: dict[str, str] = {}
    notes: dict[str, str] = {}
    add_reachability(ctx, facts, unknown, notes)
    return Observed(facts, unknown, notes)
