"""Declared facts (staff say so, per site and year) and yearly IT budgets per unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yte.yamlconf import Section, load_yaml

DECLARED = ("perimeter_firewall", "lan_fiber", "router", "wifi_internal", "wifi_patients")
SITE_FACTS = frozenset(
    [f"declared.{d}" for d in DECLARED]
    + ["budget.it_total_million_vnd", "budget.security_million_vnd", "budget.security_ratio"]
)


@dataclass(frozen=True)
class Budget:
    it_total_million_vnd: float
    security_million_vnd: float | None  # None: the plan gives no breakdown → unknown

    @property
    def security_ratio(self) -> float | None:
        if self.security_million_vnd is None or self.it_total_million_vnd <= 0:
            return None
        return self.security_million_vnd / self.it_total_million_vnd


@dataclass(frozen=True)
class Declarations:
    declared: dict[tuple[str, int], dict[str, bool]] = field(default_factory=dict)
    budgets: dict[tuple[str, int], Budget] = field(default_factory=dict)

    def site_facts(self, site: str, year: int) -> dict[str, Any]:
        """The site's declared facts for ``year``: missing means unknown (None), not 'no'."""
        out: dict[str, Any] = {f"declared.{d}": None for d in DECLARED}
        for key, value in self.declared.get((site, year), {}).items():
            out[f"declared.{key}"] = value
        budget = self.budgets.get((site, year))
        out["budget.it_total_million_vnd"] = budget.it_total_million_vnd if budget else None
        out["budget.security_million_vnd"] = budget.security_million_vnd if budget else None
        out["budget.security_ratio"] = budget.security_ratio if budget else None
        return out


def _years(s: Section, key: str) -> list[tuple[int, Section]]:
    inner = s.section(key)
    out = []
    for year in list(inner.node):
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise inner.error(str(year), "a year such as 2026")
        out.append((year, inner.section(year)))
    inner.finish()
    return out


def parse_declarations(data: Any, file: str | Path, sites: set[str] | None = None
                       ) -> Declarations:
    top = Section(data, file, "")
    if top.get("version", int) != 1:
        raise top.error("version", "this release reads declarations version 1")
    decl = Declarations()
    for part in ("sites", "budgets"):
        section = top.section(part, None)
        if section is None:
            continue
        for site in list(section.node):
            if sites is not None and site not in sites:
                raise section.error(str(site), "no such site in the sites file")
            for year, ys in _years(section, site):
                if part == "sites":
                    decl.declared[(site, year)] = {d: ys.get(d, bool) for d in DECLARED
                                                   if ys.has(d)}
                else:
                    total = ys.get("it_total_million_vnd", float)
                    sec = ys.get("security_million_vnd", float, None)
                    if total < 0 or (sec is not None and not 0 <= sec <= total):
                        raise ys.error("security_million_vnd",
                                       "between 0 and it_total_million_vnd")
                    decl.budgets[(site, year)] = Budget(total, sec)
                ys.finish()
    top.finish()
    return decl


def load_declarations(path: str | Path | None, sites: set[str] | None = None) -> Declarations:
    if path is None:
        return Declarations()
    return parse_declarations(load_yaml(path), path, sites)
