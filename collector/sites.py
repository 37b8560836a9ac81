"""The sites file: every site of the province, its type and place, its token hashes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checks.targets import SITE_TYPES
from collector.tokens import StoredToken, parse_stored
from yte.report import ID_RE
from yte.yamlconf import Section, load_yaml


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
        )
        if (sites[sid].latitude is None) != (sites[sid].longitude is None):
            raise s.error("latitude", "give both latitude and longitude, or neither")
        s.finish()
    top.finish()
    return sites


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
