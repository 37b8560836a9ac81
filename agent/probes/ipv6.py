"""IPv6 rules shared by every platform: which addresses count as global."""

from __future__ import annotations

from netaddr import IPAddress, IPNetwork

# Checked in order; the first match names the class. Global means none of these.
_CLASSES = (
    ("loopback", IPNetwork("::1/128")),
    ("unspecified", IPNetwork("::/128")),
    ("ipv4-mapped", IPNetwork("::ffff:0:0/96")),
    ("link-local", IPNetwork("fe80::/10")),
    ("unique-local", IPNetwork("fc00::/7")),
    ("multicast", IPNetwork("ff00::/8")),
    ("documentation", IPNetwork("2001:db8::/32")),
    ("teredo", IPNetwork("2001::/32")),
    ("6to4", IPNetwork("2002::/16")),
    ("site-local", IPNetwork("fec0::/10")),
)


def classify(address: str) -> str:
    ip = IPAddress(address.split("%", 1)[0], version=6)
    for name, net in _CLASSES:
        if ip in net:
            return name
    return "global"
