"""The API's JSON: a site's results per check, with the hosts behind each figure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from yte_compliance.checks.evaluate import CheckResult
from yte_compliance.checks.targets import Target
from yte_compliance.collector.state import SiteView
from yte_compliance.collector.store import HostRow


def why_unknown(host: HostRow, facts: list[str]) -> list[str]:
    """For each of ``facts`` the host could not tell: the probe's own reason."""
    out = []
    for fact in facts:
        if host.facts.get(fact) is not None:
            continue
        probe, _, name = fact.partition(".")
        p = host.probes.get(probe)
        if p is None:
            why = "probe not run"
        else:
            why = p["unknown"].get(name) or p["reason"] or "not reported"
        out.append(f"{fact}: {why}")
    return out


def check_json(r: CheckResult, t: Target, view: SiteView) -> dict[str, Any]:
    hosts = {h.host_id: h for h in view.hosts}
    first = t.all_of[0]
    out: dict[str, Any] = {
        "check": r.check, "title_vi": t.title_vi, "title_en": t.title_en,
        "scope": r.scope, "evidence": t.evidence, "status": r.status,
        "value": r.value, "target": r.target, "reason": r.reason, "source": t.source,
    }
    if r.scope == "host":
        out["hosts"] = {"counted": r.hosts_counted, "passing": r.hosts_passing,
                        "failing": r.hosts_failing, "unknown": r.hosts_unknown,
                        "stale": r.hosts_stale}
        failing: list[dict[str, Any]] = [{"host_id": h, "hostname": hosts[h].hostname}
                                         for h in r.failing_hosts]
        out["failing_hosts"] = failing
        if t.explain:  # which step fails most, and each failing host's own reason
            tally: dict[str, int] = {}
            for entry in failing:
                why = hosts[entry["host_id"]].facts.get(t.explain)
                entry["why"] = why
                if why:
                    tally[why] = tally.get(why, 0) + 1
            out["failing_reasons"] = dict(sorted(tally.items(), key=lambda kv: -kv[1]))
        judged = [c.fact for c in t.all_of]
        out["unknown_hosts"] = [{"host_id": h, "hostname": hosts[h].hostname,
                                 "why": why_unknown(hosts[h], judged)}
                                for h in r.unknown_hosts]
    else:
        out["op"], out["threshold"] = first.op, first.value
        out["unit"] = ("ratio" if first.fact.endswith("_ratio") else
                       "bps" if first.fact.endswith("_bps") else None)
        if first.scale != 1.0:
            out["scale"] = first.scale
            out["estimate"] = None if r.value is None else r.value * first.scale
        if first.fact.startswith("coverage."):
            out["unit"] = "ratio_devices"
            out["basis"] = {"devices": view.site_facts.get("coverage.devices"),
                            "covered": view.site_facts.get("coverage.covered")}
        if first.fact.startswith("bandwidth."):
            out["measurements"] = len(view.bandwidth)
        kind = first.fact.split(".", 1)[0]
        if kind in ("budget", "plan"):
            site_facts = view.site_facts
            out["basis"] = {
                "security_million_vnd": site_facts.get(f"{kind}.security_million_vnd"),
                "it_total_million_vnd": site_facts.get(f"{kind}.it_total_million_vnd")}
    return out


def devices_json(view: SiteView) -> dict:
    names = {h.host_id: h.hostname for h in view.hosts}
    f = view.site_facts
    return {
        "site": view.site.id,
        "coverage": {"devices": f.get("coverage.devices"), "covered": f.get("coverage.covered"),
                     "ratio": f.get("coverage.ratio")},
        "devices": [{"ip": d.ip, "mac": d.mac, "vendor": d.vendor, "host_id": d.host_id,
                     "hostname": names.get(d.host_id) if d.host_id else None,
                     "not_pc": d.not_pc,
                     "first_seen": d.first_seen, "last_seen": d.last_seen,
                     "state": ("not_pc" if d.not_pc else "covered" if d.host_id else "unmanaged")}
                    for d in view.devices],
    }


def site_json(view: SiteView, targets: dict[str, Target], detail: bool) -> dict:
    s = view.site
    counts = {"pass": 0, "fail": 0, "unknown": 0}
    for r in view.results:
        counts[r.status] += 1
    out = {
        "site": {"id": s.id, "name": s.name, "type": s.type, "province": s.province,
                 "district": s.district},
        "evaluated_at": dt.datetime.fromtimestamp(view.evaluated_at, dt.timezone.utc)
                          .isoformat(timespec="seconds"),
        "hosts": {"fresh": len(view.hosts) - len(view.stale), "stale": len(view.stale)},
        "coverage": devices_json(view)["coverage"],
        "checks_summary": counts,
    }
    if detail:
        out["checks"] = [check_json(r, targets[r.check], view) for r in view.results]
    return out
