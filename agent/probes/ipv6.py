"""IPv6 rules and tests shared by every platform: which addresses count as global, and
whether a configured endpoint is reachable over IPv6 (in the spirit of test-ipv6.com)."""

from __future__ import annotations

import socket
import urllib.parse
from dataclasses import dataclass

from netaddr import IPAddress, IPNetwork

from yte_compliance.agent.probe import Context
from yte_compliance.core.protocol import IPV6_LARGE_BYTES, IPV6_LARGE_PATH

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
LARGE_PATH = IPV6_LARGE_PATH
LARGE_BYTES = IPV6_LARGE_BYTES


def classify(address: str) -> str:
    ip = IPAddress(address.split("%", 1)[0], version=6)
    for name, net in _CLASSES:
        if ip in net:
            return name
    return "global"


@dataclass(frozen=True)
class Endpoint:
    url: str  # http(s)://name-or-[v6]:port — the collector by default
    timeout: float = 3.0


@dataclass
class Reach:
    dns_aaaa: bool | None = None
    tcp_reachable: bool | None = None
    large_response: bool | None = None
    dual_stack_family: str | None = None
    why: dict[str, str] | None = None


def _http_get(sock: socket.socket, host: str, path: str, tls: bool, timeout: float) -> bytes:
    if tls:
        import ssl  # ~10 MiB: only when the endpoint speaks TLS

        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    sock.settimeout(timeout)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    _, _, body = bytes(data).partition(b"\r\n\r\n")
    return body


def reach(endpoint: Endpoint) -> Reach:
    """The endpoint over IPv6: AAAA, TCP, a large answer; and the family a dual-stack name
    is reached over. Each step unknown (with why) when the one before it cannot tell."""
    parts = urllib.parse.urlsplit(endpoint.url)
    host, tls = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    out, why = Reach(), {}
    literal = ":" in host
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_STREAM)
        out.dns_aaaa = True if not literal else None
        if literal:
            why["dns_aaaa"] = "the endpoint is an address, not a name"
    except socket.gaierror as e:
        if e.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5), socket.EAI_ADDRFAMILY
                       if hasattr(socket, "EAI_ADDRFAMILY") else -9):
            out.dns_aaaa, infos = False, []
            why["dns_aaaa"] = f"{host} has no AAAA record"
            why["tcp_reachable"] = why["large_response"] = f"{host} has no AAAA record"
        else:
            why["dns_aaaa"] = f"DNS did not answer: {e.strerror}"
            out.why = why
            return out
    if infos:
        address = infos[0][4]
        try:
            with socket.create_connection(address[:2], timeout=endpoint.timeout) as sock:
                out.tcp_reachable = True
                body = _http_get(sock, host, LARGE_PATH, tls, endpoint.timeout)
                out.large_response = len(body) >= LARGE_BYTES
                if not out.large_response:
                    why["large_response"] = (f"{len(body)} of {LARGE_BYTES} bytes arrived "
                                             "(path MTU: large packets lost)")
        except OSError as e:
            if out.tcp_reachable:
                out.large_response = False
                why["large_response"] = (f"the large answer did not arrive: {e} (a path that "
                                         "drops large packets: MTU black hole)")
            else:
                out.tcp_reachable = False
                why["tcp_reachable"] = str(e)
                why["large_response"] = "no TCP connection over IPv6"
    if not literal:
        try:
            with socket.create_connection((host, port), timeout=endpoint.timeout) as sock:
                out.dual_stack_family = "ipv6" if sock.family == socket.AF_INET6 else "ipv4"
        except OSError as e:
            why["dual_stack_family"] = f"{host} unreachable: {e}"
    else:
        why["dual_stack_family"] = "the endpoint is an address, not a name"
    out.why = why
    return out


def add_reachability(ctx: Context, facts, unknown: dict[str, str],
                     notes: dict[str, str] | None = None) -> None:
    """Fill the reachability facts when an endpoint is configured; say why not otherwise.
    A step that failed says why too (``notes``): the collector shows it beside the verdict."""
    endpoint: Endpoint | None = ctx.options.get("ipv6_endpoint")
    names = ("dns_aaaa", "tcp_reachable", "large_response", "dual_stack_family")
    if endpoint is None:
        for name in names:
            unknown[name] = "no endpoint configured (the collector's URL, or ipv6.endpoint)"
        return
    facts.endpoint = endpoint.url
    result = reach(endpoint)
    for name in names:
        setattr(facts, name, getattr(result, name))
        said = (result.why or {}).get(name)
        if getattr(result, name) is None and said:
            unknown[name] = said
        elif getattr(result, name) is False and said and notes is not None:
            notes[name] = said
    if ctx.options.get("ipv6_router_advertisement"):
        from yte_compliance.agent.probes.ipv6_ra import router_advertisement_seen  # scapy: only here

        try:
            facts.router_advertisement = router_advertisement_seen(timeout=endpoint.timeout)
        except (OSError, PermissionError, ImportError) as e:
            unknown["router_advertisement"] = f"cannot listen for router advertisements: {e}"
