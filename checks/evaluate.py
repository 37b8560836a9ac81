"""Judge a site: three-valued (pass / fail / unknown), with the hosts behind each figure."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from yte_compliance.checks.targets import Clause, Target
from yte_compliance.checks.waivers import Waiver

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"
WAIVED = "waived"  # miễn trừ: neither a pass nor a fail
_DAY = 86400.0


@dataclass(frozen=True)
class HostFacts:
    host_id: str
    hostname: str
    last_seen: float  # unix seconds of its latest report's collection
    facts: Mapping[str, Any]
    role: str = "workstation"  # checks.hosts.role_of: from the facts or the sites file


@dataclass(frozen=True)
class SiteInput:
    site_id: str
    site_type: str
    hosts: tuple[HostFacts, ...]
    site_facts: Mapping[str, Any]  # declared, budget and site-level measured facts
    unmanaged: int = 0  # PCs discovery saw on the LAN that no agent reports for
    waivers: tuple[Waiver, ...] = ()  # the site's (any date: in force is judged here)


@dataclass(frozen=True)
class CheckResult:
    check: str
    scope: str
    status: str  # pass | fail | unknown | waived
    value: float | None  # host scope: share passing; site scope: the fact's value
    target: float | None  # host scope: required share; site scope: the threshold
    hosts_counted: int = 0  # non-stale hosts
    hosts_passing: int = 0
    hosts_failing: int = 0
    hosts_unknown: int = 0
    hosts_stale: int = 0
    failing_hosts: tuple[str, ...] = ()
    passing_hosts: tuple[str, ...] = ()
    unknown_hosts: tuple[str, ...] = ()
    reason: str | None = None
    hosts_unmanaged: int = 0  # PCs with no agent, counted as unknown
    hosts_other_role: int = 0  # fresh hosts whose role the target does not count
    waived_hosts: tuple[str, ...] = ()  # hosts a waiver in force takes out of the count
    waiver: Waiver | None = None  # the site's waiver in force: the status is waived
    measured_status: str | None = None  # what the figures say, waiver or not


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


def _host_scope(t: Target, fresh: list[HostFacts], stale: int, now: float, *,
                unmanaged: int, waivers: list[Waiver]) -> CheckResult:
    passing: list[str] = []
    failing: list[str] = []
    unknown: list[str] = []
    waived: list[str] = []
    other_role = 0
    for h in fresh:
        if h.role not in t.roles:
            other_role += 1
            continue
        if any(w.covers(h.host_id, h.hostname) for w in waivers):
            waived.append(h.host_id)
            continue
        r = judge_all(t.all_of, h.facts, now)
        (passing if r is True else failing if r is False else unknown).append(h.host_id)
    # a PC seen on the LAN without an agent could pass or fail: it is counted, as unknown
    unmanaged = unmanaged if "workstation" in t.roles else 0
    n = len(passing) + len(failing) + len(unknown) + unmanaged
    doubtful = len(unknown) + unmanaged

    def result(status: str, value: float | None, reason: str | None) -> CheckResult:
        return CheckResult(check=t.id, scope="host", status=status, value=value, reason=reason,
                           target=t.required_ratio, hosts_counted=n,
                           hosts_passing=len(passing), hosts_failing=len(failing),
                           hosts_unknown=len(unknown), hosts_stale=stale,
                           failing_hosts=tuple(sorted(failing)),
                           passing_hosts=tuple(sorted(passing)),
                           unknown_hosts=tuple(sorted(unknown)),
                           hosts_unmanaged=unmanaged, hosts_other_role=other_role,
                           waived_hosts=tuple(sorted(waived)))

    if n == 0:
        why = ("every reporting host is waived or has another role" if fresh
               else "no host has reported recently")
        return result(UNKNOWN, None, why)
    need = Fraction(str(t.required_ratio)) * n  # exact: 50 % of 4 hosts is 2, not 1.999…
    if len(passing) >= need:
        status, reason = PASS, None
    elif len(passing) + doubtful < need:
        status, reason = FAIL, None
    else:
        status = UNKNOWN
        parts = [f"{len(unknown)} host(s) unknown"] if unknown else []
        if unmanaged:
            parts.append(f"{unmanaged} PC(s) without an agent")
        reason = f"{' and '.join(parts)} could decide it"
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
    """Results of every target in force that applies to this site's type, each as that
    type's rule says; a waiver in force for the site makes the result waived."""
    fresh = [h for h in site.hosts if now - h.last_seen <= stale_after]
    stale = len(site.hosts) - len(fresh)
    today = dt.date.fromtimestamp(now)
    waivers = [w for w in site.waivers if w.in_force(today)]
    out = []
    for general in targets:
        t = general.for_site_type(site.site_type)
        if t is None:
            continue
        mine = [w for w in waivers if w.check == t.id]
        if t.scope == "host":
            r = _host_scope(t, fresh, stale, now, unmanaged=site.unmanaged,
                            waivers=[w for w in mine if w.host is not None])
        else:
            r = _site_scope(t, site.site_facts, now)
        whole = next((w for w in mine if w.host is None), None)
        if whole is not None:
            r = dataclasses.replace(r, status=WAIVED, measured_status=r.status, waiver=whole,
                                    reason=f"miễn trừ / waived: {whole.reason}")
        out.append(r)
    return out
