"""Declared facts (staff say so, per site and year), yearly IT budgets per unit and
multi-year IT plans, each budget as line items (inline, or a CSV/XLSX file) or totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yte_compliance.checks.budgets import (
    BudgetSummary,
    Item,
    load_items,
    parse_amount,
    parse_security,
    summarize,
)
from yte_compliance.core.yamlconf import Section, load_yaml

DECLARED = ("perimeter_firewall", "lan_fiber", "router", "wifi_internal", "wifi_patients")
SITE_FACTS = frozenset(
    [f"declared.{d}" for d in DECLARED]
    + [f"{kind}.{name}" for kind in ("budget", "plan")
       for name in ("it_total_million_vnd", "security_million_vnd", "security_ratio")]
)


@dataclass(frozen=True)
class Budget:
    """A year's (or a plan's) IT spending: line items, or the two totals. Without the
    security figure or a breakdown, the share is unknown, never 0 %."""

    it_total_million_vnd: float | None = None
    security_million_vnd: float | None = None
    items: tuple[Item, ...] | None = None
    items_file: str | None = None

    @property
    def summary(self) -> BudgetSummary | None:
        if self.items is not None:
            return summarize(self.items)
        if self.it_total_million_vnd is None or self.security_million_vnd is None:
            return None
        return BudgetSummary(self.it_total_million_vnd, self.security_million_vnd, ())

    @property
    def security_ratio(self) -> float | None:
        s = self.summary
        return s.ratio if s else None

    def facts(self, prefix: str) -> dict[str, Any]:
        s = self.summary
        total = s.total if s else self.it_total_million_vnd
        return {f"{prefix}.it_total_million_vnd": total,
                f"{prefix}.security_million_vnd": s.security if s else None,
                f"{prefix}.security_ratio": s.ratio if s else None}


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    from_year: int
    to_year: int
    budget: Budget


@dataclass(frozen=True)
class Declarations:
    declared: dict[tuple[str, int], dict[str, bool]] = field(default_factory=dict)
    budgets: dict[tuple[str, int], Budget] = field(default_factory=dict)
    plans: dict[str, tuple[Plan, ...]] = field(default_factory=dict)

    def plan_of(self, site: str, year: int) -> Plan | None:
        return next((p for p in self.plans.get(site, ()) if p.from_year <= year <= p.to_year),
                    None)

    def site_facts(self, site: str, year: int) -> dict[str, Any]:
        """The site's declared facts for ``year``: missing means unknown (None), not 'no'."""
        out: dict[str, Any] = {f"declared.{d}": None for d in DECLARED}
        for key, value in self.declared.get((site, year), {}).items():
            out[f"declared.{key}"] = value
        out.update(self.budgets.get((site, year), Budget()).facts("budget"))
        plan = self.plan_of(site, year)
        out.update((plan.budget if plan else Budget()).facts("plan"))
        return out


def _items(s: Section, base: Path) -> tuple[Item, ...]:
    out = []
    for where, raw in s.items("items"):
        i = Section(raw, s.file, where)
        try:
            amount = parse_amount(i.get("amount_million_vnd", (int, float, str)))
        except ValueError as e:
            raise i.error("amount_million_vnd", str(e)) from None
        try:
            security = parse_security(i.get("security", (bool, str, int), False))
        except ValueError as e:
            raise i.error("security", str(e)) from None
        out.append(Item(i.get("name", str), amount, security))
        i.finish()
    return tuple(out)


def _budget(s: Section, base: Path) -> Budget:
    has_items, has_file = s.has("items"), s.has("items_file")
    totals = s.has("it_total_million_vnd") or s.has("security_million_vnd")
    if sum((has_items, has_file, totals)) > 1:
        raise s.error("items", "give the line items (items or items_file) or the totals, "
                               "not both")
    if has_items:
        budget = Budget(items=_items(s, base))
    elif has_file:
        path = base / s.get("items_file", str)
        budget = Budget(items=load_items(path), items_file=str(path))
    else:
        total = s.get("it_total_million_vnd", float, None)
        security = s.get("security_million_vnd", float, None)
        bad_security = security is not None and total is not None and not 0 <= security <= total
        if total is not None and (total < 0 or bad_security):
            raise s.error("security_million_vnd", "between 0 and it_total_million_vnd")
        budget = Budget(total, security)
    s.finish()
    return budget


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
    base = Path(file).parent
    top = Section(data, file, "")
    if top.get("version", int) != 1:
        raise top.error("version", "this release reads declarations version 1")
    decl = Declarations()

    def known(section: Section, site: str) -> None:
        if sites is not None and site not in sites:
            raise section.error(str(site), "no such site in the sites file")

    declared = top.section("sites", None)
    for site in list(declared.node) if declared else []:
        known(declared, site)
        for year, ys in _years(declared, site):
            decl.declared[(site, year)] = {d: ys.get(d, bool) for d in DECLARED if ys.has(d)}
            ys.finish()
    budgets = top.section("budgets", None)
    for site in list(budgets.node) if budgets else []:
        known(budgets, site)
        for year, ys in _years(budgets, site):
            decl.budgets[(site, year)] = _budget(ys, base)
    plans = top.section("plans", None)
    for site in list(plans.node) if plans else []:
        known(plans, site)
        out = []
        for where, raw in plans.items(site):
            p = Section(raw, file, where)
            plan = Plan(p.get("id", str), p.get("name", str), p.get("from_year", int),
                        p.get("to_year", int), _budget(p.section("budget"), base))
            p.finish()
            if plan.to_year < plan.from_year:
                raise p.error("to_year", "before from_year")
            out.append(plan)
        decl.plans[site] = tuple(out)
    for section in (declared, budgets, plans):
        if section is not None:
            section.finish()
    top.finish()
    return decl


def load_declarations(path: str | Path | None, sites: set[str] | None = None) -> Declarations:
    if path is None:
        return Declarations()
    return parse_declarations(load_yaml(path), path, sites)
