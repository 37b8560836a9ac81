"""Targets as data: what is measured, how it is judged, where the rule comes from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.core.assets import CONFIGS, config_text
from yte_compliance.core.yamlconf import Section, load_yaml, parse_yaml

SCOPES = ("host", "site")
EVIDENCE = ("measured", "declared", "budget")
SITE_TYPES = ("hospital", "health_centre", "commune_station", "other")
ROLES = ("workstation", "server")  # a host's role: the plans count "máy vi tính làm việc"
OPS = ("eq", "ne", "ge", "gt", "le", "lt", "within_days")


@dataclass(frozen=True)
class Clause:
    fact: str
    op: str
    value: Any
    scale: float = 1.0  # the fact is multiplied by this first (e.g. goodput → link rate)


@dataclass(frozen=True)
class TypeRule:
    """What changes for one site type (None: as the target says)."""

    all_of: tuple[Clause, ...] | None = None
    required_ratio: float | None = None
    source: str | None = None
    enabled: bool | None = None


TYPE_RULE_KEYS = tuple(f.name for f in dataclasses.fields(TypeRule))


@dataclass(frozen=True)
class Target:
    id: str
    title_vi: str
    title_en: str
    scope: str  # host: share of a site's hosts; site: one fact of the site
    evidence: str  # measured | declared | budget
    all_of: tuple[Clause, ...]  # every clause must hold
    required_ratio: float | None  # host scope: the share of hosts that must pass
    site_types: frozenset[str]
    source: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    enabled: bool = True
    remediation_vi: str | None = None
    remediation_en: str | None = None
    alert_for: str = "6h"  # how long a site must fail before Alertmanager is told
    alert_severity: str = "warning"
    explain: str | None = None  # a host fact saying why a host fails (tallied per site)
    roles: frozenset[str] = frozenset(ROLES)  # host scope: the hosts counted
    by_site_type: tuple[tuple[str, TypeRule], ...] = ()
    # a plan's targets hold for its period; past effective_to they still apply, said so,
    # until a newer rule replaces them, unless carry_forward is false
    carry_forward: bool = True

    def basis(self, day: dt.date) -> str | None:
        """Why the target applies on ``day``: in_force, carried_forward, or None."""
        if not self.enabled or day < self.effective_from:
            return None
        if self.effective_to is None or day <= self.effective_to:
            return "in_force"
        return "carried_forward" if self.carry_forward else None

    def in_force(self, day: dt.date) -> bool:
        return self.basis(day) is not None

    def for_site_type(self, site_type: str) -> Target | None:
        """The target as it applies to a site of ``site_type``, or None where it does not."""
        if site_type not in self.site_types:
            return None
        rule = dict(self.by_site_type).get(site_type)
        if rule is None:
            return self
        changes = {k: getattr(rule, k) for k in TYPE_RULE_KEYS if getattr(rule, k) is not None}
        variant = dataclasses.replace(self, **changes)
        return variant if variant.enabled else None


SEVERITIES = ("info", "warning", "critical")
_DURATION = re.compile(r"^\d+[smhd]$")


def _clauses(s: Section, key: str, known_facts: frozenset[str] | None) -> tuple[Clause, ...]:
    out = []
    entries = s.items(key)
    if not entries:
        raise s.error(key, "needs at least one clause")
    for where, raw in entries:
        c = Section(raw, s.file, where)
        fact = c.get("fact", str)
        if known_facts is not None and fact not in known_facts:
            raise c.error("fact", f"unknown fact {fact!r}")
        op = c.choice("op", OPS)
        value = c.get("value", (bool, int, float, str))
        if op in ("ge", "gt", "le", "lt", "within_days") and (
                isinstance(value, (bool, str))):
            raise c.error("value", f"op {op} needs a number")
        scale = c.get("scale", float, 1.0)
        if scale <= 0:
            raise c.error("scale", "a positive factor")
        c.finish()
        out.append(Clause(fact, op, value, scale))
    return tuple(out)


def _target(s: Section, base: Target | None, known: dict[str, frozenset[str]] | None) -> Target:
    """A full definition (base None) or an override of ``base``'s fields."""
    def pick(key, read):
        if base is None or s.has(key):
            return read()
        s.get(key, object, None)  # mark seen
        return getattr(base, key)

    scope = pick("scope", lambda: s.choice("scope", SCOPES))
    alert: dict[str, Any]
    if base is None or s.has("alert"):
        alert = _alert(s)
    else:
        alert = {"alert_for": base.alert_for, "alert_severity": base.alert_severity}
    facts_ok = known.get(scope) if known else None
    t = Target(
        id=s.get("id", str),
        title_vi=pick("title_vi", lambda: s.get("title_vi", str)),
        title_en=pick("title_en", lambda: s.get("title_en", str)),
        scope=scope,
        evidence=pick("evidence", lambda: s.choice("evidence", EVIDENCE)),
        all_of=pick("all_of", lambda: _clauses(s, "all_of", facts_ok)),
        required_ratio=pick("required_ratio", lambda: s.ratio("required_ratio", None)),
        site_types=pick("site_types", lambda: _site_types(s)),
        source=pick("source", lambda: s.get("source", str)),
        effective_from=pick("effective_from", lambda: s.date("effective_from")),
        effective_to=pick("effective_to", lambda: s.date("effective_to", None)),
        enabled=pick("enabled", lambda: s.get("enabled", bool, True)),
        remediation_vi=pick("remediation_vi", lambda: s.get("remediation_vi", str, None)),
        remediation_en=pick("remediation_en", lambda: s.get("remediation_en", str, None)),
        explain=pick("explain", lambda: s.get("explain", str, None)),
        roles=pick("roles", lambda: _names(s, "roles", ROLES, "role")),
        carry_forward=pick("carry_forward", lambda: s.get("carry_forward", bool, True)),
        **alert,
    )
    t = dataclasses.replace(t, by_site_type=_by_site_type(s, t, base, facts_ok))
    s.finish()
    if t.scope == "host" and t.required_ratio is None:
        raise s.error("required_ratio", "a host-scope target needs the share of hosts (0 to 1)")
    if t.scope == "site" and t.required_ratio is not None:
        raise s.error("required_ratio", "only host-scope targets take a share of hosts")
    if t.effective_to is not None and t.effective_to < t.effective_from:
        raise s.error("effective_to", "ends before effective_from")
    return t


def _alert(s: Section) -> dict[str, str]:
    a = s.section("alert", None)
    if a is None:
        return {}
    duration = a.get("for", str, "6h")
    if not _DURATION.match(duration):
        raise a.error("for", f"a Prometheus duration such as 30m, 6h, 1d (got {duration!r})")
    out = {"alert_for": duration, "alert_severity": a.choice("severity", SEVERITIES, "warning")}
    a.finish()
    return out


def _site_types(s: Section) -> frozenset[str]:
    return _names(s, "site_types", SITE_TYPES, "site type")


def _names(s: Section, key: str, known: tuple[str, ...], what: str) -> frozenset[str]:
    values = s.get(key, list, list(known))
    if not values:
        raise s.error(key, f"at least one {what}")
    for v in values:
        if v not in known:
            raise s.error(key, f"unknown {what} {v!r} (known: {', '.join(known)})")
    return frozenset(values)


def _by_site_type(s: Section, t: Target, base: Target | None,
                  facts_ok: frozenset[str] | None) -> tuple[tuple[str, TypeRule], ...]:
    """Per site type changes; a province file's entry changes only the keys it gives."""
    rules = dict(base.by_site_type) if base is not None else {}
    inner = s.section("by_site_type", None)
    if inner is not None:
        for site_type in list(inner.node):
            if site_type not in t.site_types:
                raise inner.error(str(site_type), f"not one of this target's site_types "
                                                  f"({', '.join(sorted(t.site_types))})")
            r = inner.section(site_type)
            given: dict[str, Any] = {}
            if r.has("all_of"):
                given["all_of"] = _clauses(r, "all_of", facts_ok)
            if r.has("required_ratio"):
                if t.scope != "host":
                    raise r.error("required_ratio", "only host-scope targets take a share of hosts")
                given["required_ratio"] = r.ratio("required_ratio")
            if r.has("source"):
                given["source"] = r.get("source", str)
            if r.has("enabled"):
                given["enabled"] = r.get("enabled", bool)
            r.finish()
            rules[site_type] = dataclasses.replace(rules.get(site_type, TypeRule()), **given)
        inner.finish()
    for site_type in list(rules):
        if site_type not in t.site_types:  # a province narrowed site_types
            del rules[site_type]
    return tuple(sorted(rules.items()))


def parse_targets(data: Any, file: str | Path, base: dict[str, Target] | None = None,
                  known_facts: dict[str, frozenset[str]] | None = None) -> dict[str, Target]:
    """Targets of one file; with ``base``, entries naming an existing id override it."""
    top = Section(data, file, "")
    version = top.get("version", int)
    if version != 1:
        raise top.error("version", "this release reads targets version 1")
    out = dict(base or {})
    seen: set[str] = set()
    for where, raw in top.items("targets"):
        s = Section(raw, file, where)
        tid = s.get("id", str)
        if tid in seen:
            raise s.error("id", f"target {tid!r} defined twice in this file")
        seen.add(tid)
        out[tid] = _target(s, out.get(tid), known_facts)
    top.finish()
    return out


DEFAULT_TARGETS = "targets.yaml"  # in the shipped configs/ (the table of TARGETS.md)


def default_targets(known_facts: dict[str, frozenset[str]] | None = None) -> dict[str, Target]:
    """The targets the package ships: what applies when a province overrides nothing."""
    name = f"<{CONFIGS}>/{DEFAULT_TARGETS}"
    return parse_targets(parse_yaml(config_text(DEFAULT_TARGETS), name), name, None, known_facts)


def load_targets(paths: Iterable[str | Path],
                 known_facts: dict[str, frozenset[str]] | None = None) -> dict[str, Target]:
    """The shipped defaults, then each file's overrides in order (an entry with an
    existing id changes only the keys it gives; a new id is a full definition)."""
    targets = default_targets(known_facts)
    for path in paths:
        targets = parse_targets(load_yaml(path), path, targets, known_facts)
    return targets


def in_force(targets: dict[str, Target], day: dt.date) -> list[Target]:
    """The targets that apply on ``day``: in their period, or carried past it."""
    return [t for t in targets.values() if t.in_force(day)]
