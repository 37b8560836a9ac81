"""Router advertisements on the LAN (optional): send a Router Solicitation, wait for an
RA. The only module that imports scapy, and only when this check is enabled."""

from __future__ import annotations


def router_advertisement_seen(timeout: float = 3.0, iface: str | None = None) -> bool:
    from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6ND_RS, IPv6
    from scapy.sendrecv import sr1

    answer = sr1(IPv6(dst="ff02::2") / ICMPv6ND_RS(), iface=iface, timeout=timeout, verbose=0,
                 multi=False)
    return bool(answer is not None and answer.haslayer(ICMPv6ND_RA))
