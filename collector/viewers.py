"""Who may read what: viewer credentials scoped to the province, a district or one site.

Reading is guarded as writing is: the API, the landing page and /metrics show a reader
only the sites of its scope (Prometheus scrapes with a province viewer of its own). A
viewer token has the site tokens' form and is stored the same way, hashed, in its own
table: a site token never reads, a viewer token never writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yte_compliance.collector.sites import Site

KINDS = ("province", "district", "site")


@dataclass(frozen=True)
class Scope:
    kind: str  # province | district | site
    value: str | None = None  # None with province: every site of this collector

    @classmethod
    def parse(cls, text: str) -> Scope:
        """"province", "province:Lâm Đồng", "district:Đức Trọng" or "site:tyt-xa-a"."""
        kind, sep, value = text.partition(":")
        if kind not in KINDS or (sep and not value.strip()) or (kind != "province" and not sep):
            raise ValueError(f"a scope reads province, province:NAME, district:NAME or "
                             f"site:ID (got {text!r})")
        return cls(kind, value.strip() if sep else None)

    def text(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"

    def allows(self, site: Site) -> bool:
        if self.kind == "province":
            return self.value is None or site.province == self.value
        if self.kind == "district":
            return site.district == self.value
        return site.id == self.value

    def reads_district(self, name: str, sites: Mapping[str, Site]) -> bool:
        """May this reader see the district as a whole? Its own district, or a province
        holding it; a site's reader sees its site alone."""
        if self.kind == "district":
            return self.value == name
        return self.kind == "province" and any(
            self.allows(site) for site in sites.values() if site.district == name)

    def site_ids(self, sites: Mapping[str, Site]) -> frozenset[str] | None:
        """The sites this scope reads; None when it reads them all."""
        if self.kind == "province" and self.value is None:
            return None
        return frozenset(s for s, site in sites.items() if self.allows(site))

    def names_something(self, sites: Mapping[str, Site]) -> bool:
        return self.site_ids(sites) != frozenset()
