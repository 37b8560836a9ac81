"""Judge a site: three-valued (pass / fail / unknown), with the hosts behind each figure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from yte_compliance.checks.targets import Clause, Target

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
_DAY = 86400.0


@dataclass(frozen=True)
class HostFacts:
    host_id: str
    hostname: str
    last_seen: float  # unix seconds of its latest report's collection
    facts: Mapping[str, Any]


@dataclass(frozen=True)
class SiteInput:
    site_id: str
    site_type: str
    hosts: tuple[HostFacts, ...]
    site_facts: Mapping[str, Any]  # declared, budget and site-level measured facts


@dataclass(frozen=True)
class CheckResult:
    check: str
    scope: str
    status: str  # pass | fail | unknown
    value: float | None  # host scope: share passing; site scope: the fact's value
    target: float | None  # host scope: required share; site scope: the threshold
    hosts_counted: int = 0  # non-stale hosts
    hosts_passing: int = 0
    hosts_failing: int = 0
    hosts_unknown: int = 0
    hosts_stale: int = 0
    failing_hosts: tuple[str, ...] = ()
    unknown_hosts: tuple[str, ...] = ()
    reason: str | None = None


def judge_clause(c: Clause, facts: Mapping[str, Any], now: float) -> bool | None:
    value = facts.get(c.fact)
    if value is None:
        return None
    if c.scale != 1.0 and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = value * c.scale
    try:
        if c.op == "eq":
            return value == c.value
        if c.op == "ne":
            return value != c.value
        if c.op == "ge":
            return value >= c.value
        if c.op == "gt":
            return value > c.value
        if c.op == "le":
            return value <= c.value
        if c.op == "lt":
            return value < c.value
        if c.op == "within_days":
            return now - float(value) <= float(c.value) * _DAY
    except TypeError:
        return None
    raise ValueError(f"unknown op {c.op!r}")


def judge_all(clauses: Iterable[Clause], facts: Mapping[str, Any], now: float) -> bool | None:
    """Kleene AND: any false → false; else any unknown → unknown; else true."""
    results = [judge_clause(c, facts, now) for c in clauses]
    if False in results:
        return False
    if None in results:
        return None
    return True


def _host_scope(t: Target, fresh: list[HostFacts], stale: int, now: float) -> CheckResult:
    passing: list[str] = []
    failing: list[str] = []
    unknown: list[str] = []
    for h in fresh:
        r = judge_all(t.all_of, h.facts, now)
        (passing if r is True else failing if r is False else unknown).append(h.host_id)
    n = len(fresh)

    def result(status: str, value: float | None, reason: str | None) -> CheckResult:
        return CheckResult(check=t.id, scope="host", status=status, value=value, reason=reason,
                           target=t.required_ratio, hosts_counted=n,
                           hosts_passing=len(passing), hosts_failing=len(failing),
                           hosts_unknown=len(unknown), hosts_stale=stale,
                           failing_hosts=tuple(sorted(failing)),
                           unknown_hosts=tuple(sorted(unknown)))

    if n == 0:
        return result(UNKNOWN, None, "no host has reported recently")
    need = Fraction(str(t.required_ratio)) * n  # exact: 50 % of 4 hosts is 2, not 1.999…
    if len(passing) >= need:
        status, reason = PASS, None
    elif len(passing) + len(unknown) < need:
        status, reason = FAIL, None
    else:
        status = UNKNOWN
        reason = f"{len(unknown)} host(s) unknown could decide it"
    return result(status, len(passing) / n, reason)


def _site_scope(t: Target, site_facts: Mapping[str, Any], now: float) -> CheckResult:
    r = judge_all(t.all_of, site_facts, now)
    first = t.all_of[0]
    raw = site_facts.get(first.fact)
    value = float(raw) if isinstance(raw, (int, float)) else None
    target = float(first.value) if isinstance(first.value, (int, float)) else None
    if isinstance(first.value, bool):
        target = 1.0 if first.value else 0.0
        value = None if raw is None else (1.0 if raw else 0.0)
    missing = [c.fact for c in t.all_of if site_facts.get(c.fact) is None]
    status = PASS if r is True else FAIL if r is False else UNKNOWN
    reason = f"not declared or measured: {', '.join(missing)}" if status == UNKNOWN else None
    return CheckResult(check=t.id, scope="site", status=status, value=value, target=target,
                       reason=reason)


def evaluate_site(site: SiteInput, targets: Iterable[Target], *, now: float,
                  stale_after: float) -> list[CheckResult]:
    """Results of every target in force that applies to this site's type."""
    fresh = [h for h in site.hosts if now - h.last_seen <= stale_after]
    stale = len(site.hosts) - len(fresh)
    out = []
    for t in targets:
        if site.site_type not in t.site_types:
            continue
        if t.scope == "host":
            out.append(_host_scope(t, fresh, stale, now))
        else:
            out.append(_site_scope(t, site.site_facts, now))
    return out
