"""The sites file: every site of the province, its type and place, its token hashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yte_compliance.checks.targets import ROLES, SITE_TYPES
from yte_compliance.collector.tokens import StoredToken, parse_stored
from yte_compliance.core.report import ID_RE
from yte_compliance.core.yamlconf import Section, load_yaml


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    type: str
    province: str
    district: str
    tokens: tuple[StoredToken, ...] = ()
    latitude: float | None = None  # for the province map, when known
    longitude: float | None = None
    ipv6_prefixes: tuple[str, ...] = ()  # the site's own prefixes: addresses in them are global
    subnets: tuple[str, ...] = ()  # its LAN(s), for discovery: IPv4 and IPv6
    not_pcs: dict[str, str] = field(default_factory=dict)  # MAC → kind (printer, router, …)
    expected_hosts: int | None = None  # the PCs the site has: bounds how many may report
    host_roles: dict[str, str] = field(default_factory=dict)  # host id or hostname → role

    def role_of(self, host_id: str, hostname: str) -> str | None:
        """The role staff gave this host in the sites file, if any."""
        return self.host_roles.get(host_id) or self.host_roles.get(hostname)


def parse_sites(data: Any, file: str | Path) -> dict[str, Site]:
    top = Section(data, file, "")
    if top.get("version", int) != 1:
        raise top.error("version", "this release reads sites version 1")
    sites: dict[str, Site] = {}
    token_ids: set[str] = set()
    for where, raw in top.items("sites"):
        s = Section(raw, file, where)
        sid = s.get("id", str)
        if not ID_RE.match(sid):
            raise s.error("id", "lower-case letters, digits, '-', '_', '.' (max 63)")
        if sid in sites:
            raise s.error("id", f"site {sid!r} listed twice")
        tokens = []
        for _, text in s.items("token_hashes", []):
            try:
                tok = parse_stored(str(text))
            except ValueError as e:
                raise s.error("token_hashes", str(e)) from None
            if tok.token_id in token_ids:
                raise s.error("token_hashes", f"token id {tok.token_id} used twice")
            token_ids.add(tok.token_id)
            tokens.append(tok)
        sites[sid] = Site(
            id=sid, name=s.get("name", str), type=s.choice("type", SITE_TYPES),
            province=s.get("province", str), district=s.get("district", str, ""),
            tokens=tuple(tokens), latitude=s.get("latitude", float, None),
            longitude=s.get("longitude", float, None),
            ipv6_prefixes=_prefixes(s),
            subnets=_subnets(s),
            not_pcs=_devices(s),
            expected_hosts=s.get("expected_hosts", int, None),
            host_roles=_host_roles(s),
        )
        expected = sites[sid].expected_hosts
        if expected is not None and expected < 1:
            raise s.error("expected_hosts", "at least 1 (the number of PCs at the site)")
        if (sites[sid].latitude is None) != (sites[sid].longitude is None):
            raise s.error("latitude", "give both latitude and longitude, or neither")
        s.finish()
    top.finish()
    _no_overlap(sites, top)
    return sites


NOT_PC_KINDS = ("printer", "router", "switch", "access_point", "camera", "phone", "medical_device",
                "other")
_MAX_SWEEP = 4096  # an IPv4 subnet larger than /20 is not one site's LAN


def _subnets(s: Section) -> tuple[str, ...]:
    from netaddr import AddrFormatError, IPNetwork

    out = []
    for _, text in s.items("subnets", []):
        try:
            net = IPNetwork(str(text))
        except (AddrFormatError, ValueError):
            raise s.error("subnets", f"not a subnet: {text!r}") from None
        if net.version == 4 and net.size > _MAX_SWEEP:
            raise s.error("subnets", f"{text} is larger than /20: list the site's LANs")
        out.append(str(net.cidr))
    return tuple(out)


def _host_roles(s: Section) -> dict[str, str]:
    """hosts: [{host: pacs-01, role: server}]: a host id or hostname, and its role."""
    out: dict[str, str] = {}
    for where, raw in s.items("hosts", []):
        h = Section(raw, s.file, where)
        name = h.get("host", str)
        if name in out:
            raise h.error("host", f"{name!r} listed twice")
        out[name] = h.choice("role", ROLES)
        h.finish()
    return out


def _devices(s: Section) -> dict[str, str]:
    out = {}
    for where, raw in s.items("devices", []):
        d = Section(raw, s.file, where)
        mac = normalize_mac(d.get("mac", str))
        if mac is None:
            raise d.error("mac", "a MAC address such as 00:1b:21:3a:4b:5c")
        out[mac] = d.choice("kind", NOT_PC_KINDS)
        d.get("name", str, None)
        d.finish()
    return out


def normalize_mac(text: str) -> str | None:
    """'00-1B-21-3A-4B-5C', '001b.213a.4b5c' … → '00:1b:21:3a:4b:5c'."""
    digits = "".join(c for c in str(text).lower() if c in "0123456789abcdef")
    if len(digits) != 12 or digits == "0" * 12:
        return None
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def ip_in(ip: str, subnets: tuple[str, ...]) -> bool:
    from netaddr import AddrFormatError, IPAddress, IPNetwork

    try:
        address = IPAddress(ip.split("%", 1)[0])
    except (AddrFormatError, ValueError):
        return False
    if address.version == 6 and address.is_link_local():
        return any(IPNetwork(s).version == 6 for s in subnets)  # on the site's IPv6 link
    return any(address in IPNetwork(s) for s in subnets)


def _no_overlap(sites: dict[str, Site], top: Section) -> None:
    """Two sites may not share an address: a device would count in both."""
    from netaddr import IPNetwork

    seen: list[tuple[IPNetwork, str]] = []
    for site in sites.values():
        for text in site.subnets:
            net = IPNetwork(text)
            for other, owner in seen:
                if other.version == net.version and net.first <= other.last \
                        and other.first <= net.last:
                    raise top.error("sites", f"subnet {net} of site {site.id} overlaps {other} "
                                             f"of site {owner}")
            seen.append((net, site.id))


def _prefixes(s: Section) -> tuple[str, ...]:
    from netaddr import AddrFormatError, IPNetwork

    out = []
    for _, text in s.items("ipv6_prefixes", []):
        try:
            net = IPNetwork(str(text))
        except (AddrFormatError, ValueError):
            raise s.error("ipv6_prefixes", f"not an IPv6 prefix: {text!r}") from None
        if net.version != 6 or net.prefixlen > 64:
            raise s.error("ipv6_prefixes", f"an IPv6 prefix of /64 or shorter (got {text!r})")
        out.append(str(net.cidr))
    return tuple(out)


def load_sites(path: str | Path) -> dict[str, Site]:
    return parse_sites(load_yaml(path), path)
