"""LAN discovery for a site: an ARP sweep of its IPv4 subnets and an ICMPv6 all-nodes
echo on its links, bounded in rate and time, sending only inside the configured subnets.
The only code path that imports scapy. Each device: IP, MAC, the MAC's vendor (netaddr's
copy of the IEEE registry)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from netaddr import EUI, IPAddress, IPNetwork, NotRegisteredError

from yte_compliance.core.errors import YteError

MAX_ADDRESSES = 4096  # one sweep: a /20 at the most


@dataclass(frozen=True)
class Bounds:
    rate_pps: float = 50.0  # packets per second, at the most
    timeout_seconds: float = 60.0  # the whole sweep stops by then
    reply_wait_seconds: float = 2.0


@dataclass
class Device:
    ip: str
    mac: str
    vendor: str | None


def vendor_of(mac: str) -> str | None:
    """The organisation registered for the MAC's OUI; None for locally administered or
    unregistered addresses (a random or virtual MAC says nothing about who made it)."""
    eui = EUI(mac)
    if eui.words[0] & 0x02:  # the locally administered bit
        return None
    try:
        return eui.oui.registration().org
    except NotRegisteredError:
        return None


def sweep_targets(subnets: list[str]) -> list[str]:
    """The IPv4 addresses to ask, network and broadcast left out; refused past the bound."""
    out: list[str] = []
    for text in subnets:
        net = IPNetwork(text)
        if net.version != 4:
            continue
        hosts = [str(ip) for ip in (net.iter_hosts() if net.prefixlen < 31 else net)]
        out.extend(hosts)
        if len(out) > MAX_ADDRESSES:
            raise ValueError(f"more than {MAX_ADDRESSES} addresses to sweep: list smaller subnets")
    return out


def in_subnets(ip: str, subnets: list[str]) -> bool:
    address = IPAddress(ip.split("%", 1)[0])
    return any(address in IPNetwork(s) for s in subnets if IPNetwork(s).version == address.version)


def sweep(subnets: list[str], iface: str | None, bounds: Bounds) -> tuple[list[Device], float]:
    """(devices found, seconds taken). Needs raw sockets (root or CAP_NET_RAW)."""
    from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
    from scapy.layers.l2 import ARP, Ether
    from scapy.sendrecv import srp

    started = time.monotonic()
    deadline = started + bounds.timeout_seconds
    found: dict[str, Device] = {}
    targets = sweep_targets(subnets)
    batch = max(1, int(bounds.rate_pps))  # one second's worth of requests at a time
    for i in range(0, len(targets), batch):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        packets = [Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=ip) for ip in targets[i:i + batch]]
        answered, _ = srp(packets, iface=iface, timeout=min(bounds.reply_wait_seconds, left),
                          inter=1.0 / bounds.rate_pps, verbose=0)
        for _, reply in answered:
            if in_subnets(reply.psrc, subnets):
                mac = reply.hwsrc.lower()
                found[mac] = Device(reply.psrc, mac, vendor_of(mac))
    v6 = [s for s in subnets if IPNetwork(s).version == 6]
    left = deadline - time.monotonic()
    if v6 and left > 0:  # all nodes on the link answer one echo to ff02::1
        answered, _ = srp(Ether(dst="33:33:00:00:00:01") / IPv6(dst="ff02::1") /
                          ICMPv6EchoRequest(), iface=iface, multi=True,
                          timeout=min(bounds.reply_wait_seconds, left), verbose=0)
        for _, reply in answered:
            ip, mac = reply[IPv6].src, reply[Ether].src.lower()
            if mac not in found and (in_subnets(ip, v6) or ip.startswith("fe80:")):
                found[mac] = Device(ip, mac, vendor_of(mac))
    return sorted(found.values(), key=lambda d: IPAddress(d.ip.split("%")[0])), \
        time.monotonic() - started


def as_json(devices: list[Device]) -> list[dict]:
    return [asdict(d) for d in devices]


# ---- one sweep of the site's subnets, sent to the collector ----------------------------


def _collector(cfg, method: str, path: str, body: dict | None = None) -> dict:
    from yte_compliance.agent.send import call_collector
    from yte_compliance.agent.service import agent_credential

    return call_collector(cfg.collector_url, agent_credential(cfg), method, path, body,
                          ca_file=str(cfg.ca_file) if cfg.ca_file else None)


def discover_once(cfg, *, interface: str | None, rate: float, timeout: float,
                  out: Path | None) -> dict:
    """Sweep the subnets the collector lists for the site; send what answered (or write
    it to ``out``). SendError when the collector cannot be asked or told."""
    import json

    from yte_compliance.core.report import format_time

    subnets = _collector(cfg, "GET", "/api/v1/discovery/subnets")["subnets"]
    if not subnets:
        raise YteError(f"cơ sở {cfg.site} không khai báo mạng con / site {cfg.site} lists no "
                       "subnets in the collector's sites file: nothing to sweep")
    devices, seconds = sweep(subnets, interface, Bounds(rate, timeout))
    result = {"site": cfg.site, "scanned_at": format_time(time.time()), "subnets": subnets,
              "seconds": round(seconds, 2), "devices": as_json(devices)}
    if out is not None:
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        result["collector"] = _collector(cfg, "POST", "/api/v1/discoveries", result)
    return result
