"""The API's JSON: a site's results per check, with the hosts behind each figure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from yte_compliance.checks.evaluate import CheckResult, judge_clause
from yte_compliance.checks.lifecycle import DERIVED as LIFECYCLE_FACTS
from yte_compliance.checks.targets import Target
from yte_compliance.checks.todo import Todo, host_todo
from yte_compliance.collector.state import SiteView
from yte_compliance.collector.store import HostRow


def why_unknown(host: HostRow, facts: list[str],
                judged: Mapping[str, Any] | None = None) -> list[str]:
    """For each of ``facts`` the host could not tell: the probe's own reason."""
    out = []
    judged = host.facts if judged is None else judged
    for fact in facts:
        if judged.get(fact) is not None:
            continue
        if fact in LIFECYCLE_FACTS:
            release = " ".join(str(judged.get(f"hardware.os_{k}") or "?")
                               for k in ("name", "version", "build"))
            out.append(f"{fact}: {release} không có trong dữ liệu vòng đời / "
                       "not in the OS lifecycle data")
            continue
        probe, _, name = fact.partition(".")
        p = host.probes.get(probe)
        if p is None:
            why = "probe not run"
        else:
            why = p["unknown"].get(name) or p["reason"] or "not reported"
        out.append(f"{fact}: {why}")
    return out


def rule_json(t: Target, day: dt.date) -> dict[str, Any]:
    """Which rule judged: its period, and whether it is carried past the plan's end."""
    basis = t.basis(day)
    out: dict[str, Any] = {
        "effective_from": t.effective_from.isoformat(),
        "effective_to": t.effective_to.isoformat() if t.effective_to else None,
        "basis": basis,
    }
    if basis == "carried_forward" and t.effective_to is not None:
        out["note_vi"] = (f"Chỉ tiêu hiệu lực đến {t.effective_to:%d/%m/%Y}, áp dụng tiếp "
                          f"cho năm {day.year} vì chưa có chỉ tiêu mới")
        out["note_en"] = (f"in force until {t.effective_to.isoformat()}; applied to {day.year} "
                          "as no newer target replaces it")
    return out


def host_todos(view: SiteView, targets: Mapping[str, Target]) -> dict[str, list[Todo]]:
    """Each host's to-do list over the site's host targets: fixes where it fails, a check
    where it could not tell (waived hosts and hosts the target does not count: nothing)."""
    out: dict[str, list[Todo]] = {h.host_id: [] for h in view.hosts}
    for r in view.results:
        if r.scope != "host" or r.check not in targets:
            continue
        general = targets[r.check]
        t = general.for_site_type(view.site.type) or general
        for h in (*r.failing_hosts, *r.unknown_hosts):
            if h in out:
                out[h] += host_todo(t, view.judged.get(h, {}), view.evaluated_at)
    return out


def check_json(r: CheckResult, general: Target, view: SiteView,
               todos: Mapping[str, list[Todo]] | None = None) -> dict[str, Any]:
    hosts = {h.host_id: h for h in view.hosts}
    t = general.for_site_type(view.site.type) or general  # the rule this site's type has
    first = t.all_of[0]
    day = dt.date.fromtimestamp(view.evaluated_at)
    out: dict[str, Any] = {
        "check": r.check, "title_vi": t.title_vi, "title_en": t.title_en,
        "scope": r.scope, "evidence": t.evidence, "status": r.status,
        "value": r.value, "target": r.target, "reason": r.reason, "source": t.source,
        "site_types": sorted(t.site_types), "rule": rule_json(t, day),
        "measured_status": r.measured_status,
        "waiver": r.waiver.to_json() if r.waiver else None,
    }
    if r.scope == "host":
        out["roles"] = sorted(t.roles)
        out["hosts"] = {"counted": r.hosts_counted, "passing": r.hosts_passing,
                        "failing": r.hosts_failing, "unknown": r.hosts_unknown,
                        "stale": r.hosts_stale, "unmanaged": r.hosts_unmanaged,
                        "other_role": r.hosts_other_role, "waived": len(r.waived_hosts)}
        out["waived_hosts"] = [
            {"host_id": h, "hostname": hosts[h].hostname,
             "waiver": next(w.to_json() for w in view.waivers
                            if w.check == r.check and w.covers(h, hosts[h].hostname))}
            for h in r.waived_hosts]
        todos = todos or {}
        failing: list[dict[str, Any]] = [
            {"host_id": h, "hostname": hosts[h].hostname,
             "lacks": [x.to_json() for x in todos.get(h, [])
                       if x.check == r.check and x.kind == "fix"]}
            for h in r.failing_hosts]
        out["failing_hosts"] = failing
        if t.explain:  # which step fails most, and each failing host's own reason
            tally: dict[str, int] = {}
            for entry in failing:
                why = view.judged.get(entry["host_id"], {}).get(t.explain)
                entry["why"] = why
                if why:
                    tally[why] = tally.get(why, 0) + 1
            out["failing_reasons"] = dict(sorted(tally.items(), key=lambda kv: -kv[1]))
        judged = [c.fact for c in t.all_of]
        out["unknown_hosts"] = [{"host_id": h, "hostname": hosts[h].hostname,
                                 "why": why_unknown(hosts[h], judged, view.judged.get(h))}
                                for h in r.unknown_hosts]
    else:
        out["op"], out["threshold"] = first.op, first.value
        if len(t.all_of) > 1:  # each clause's figure: which of them the site misses
            out["clauses"] = [{"fact": c.fact, "op": c.op, "threshold": c.value,
                               "value": view.site_facts.get(c.fact),
                               "ok": judge_clause(c, view.site_facts, view.evaluated_at)}
                              for c in t.all_of]
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


def hosts_json(view: SiteView, todos: Mapping[str, list[Todo]] | None = None
               ) -> list[dict[str, Any]]:
    """Each host as the checks see it: its role and where it came from, its OS release,
    and what it needs (its to-do list)."""
    out = []
    todos = todos or {}
    for h in view.hosts:
        f = view.judged.get(h.host_id, h.facts)
        out.append({"host_id": h.host_id, "hostname": h.hostname,
                    "stale": h.host_id in view.stale,
                    "role": f.get("host.role"), "role_source": f.get("host.role_source"),
                    "os_release": f.get("os.release"),
                    "os_support_ends_on": f.get("os.support_ends_on"),
                    "platform": h.platform, "reported_at": h.collected_at,
                    "todo": [x.to_json() for x in todos.get(h.host_id, [])]})
    return out


def site_json(view: SiteView, targets: dict[str, Target], detail: bool) -> dict:
    s = view.site
    counts = {"pass": 0, "fail": 0, "unknown": 0, "waived": 0}
    for r in view.results:
        counts[r.status] += 1
    out = {
        "site": {"id": s.id, "name": s.name, "type": s.type, "province": s.province,
                 "district": s.district},
        "evaluated_at": dt.datetime.fromtimestamp(view.evaluated_at, dt.timezone.utc)
                          .isoformat(timespec="seconds"),
        "hosts": {"fresh": len(view.hosts) - len(view.stale), "stale": len(view.stale)},
        "coverage": devices_json(view)["coverage"],
        "unmanaged_pcs": view.unmanaged,
        "checks_summary": counts,
    }
    if detail:
        day = dt.date.fromtimestamp(view.evaluated_at)
        todos = host_todos(view, targets)
        out["checks"] = [check_json(r, targets[r.check], view, todos) for r in view.results]
        out["hosts_detail"] = hosts_json(view, todos)
        out["waivers"] = [dict(w.to_json(), in_force=w.in_force(day),
                               expired=w.expires < day) for w in view.waivers]
    return out


# the facts a PC's page shows, in this order, with their Vietnamese labels
HOST_FACTS = (
    ("hardware.os_name", "Hệ điều hành", "Operating system"),
    ("hardware.os_version", "Phiên bản", "Version"),
    ("os.release", "Bản phát hành", "Release"),
    ("os.support_ends_on", "Hết hỗ trợ", "Support ends"),
    ("hardware.memory_installed_bytes", "RAM lắp đặt", "Installed RAM"),
    ("hardware.os_disk_media", "Ổ hệ điều hành", "OS disk"),
    ("antivirus.any_running", "Diệt virus đang chạy", "Antivirus running"),
    ("antivirus.signatures_updated_at", "Mẫu virus cập nhật", "Signatures updated"),
    ("firewall.inbound_filtering", "Tường lửa bật", "Firewall on"),
    ("ipv6.ready", "Sẵn sàng IPv6", "IPv6 ready"),
    ("ipv6.failing_step", "Bước IPv6 chưa đạt", "IPv6 failing step"),
    ("patches.last_update_at", "Cập nhật hệ điều hành lần cuối", "Last OS update"),
)


def host_json(view: SiteView, host_id: str, targets: Mapping[str, Target]
              ) -> dict[str, Any] | None:
    """One PC: its facts, each host check's verdict for it, and its to-do list."""
    host = next((h for h in view.hosts if h.host_id == host_id), None)
    if host is None:
        return None
    judged = view.judged.get(host_id, host.facts)
    checks = []
    for r in view.results:
        if r.scope != "host":
            continue
        status = ("pass" if host_id in r.passing_hosts else
                  "fail" if host_id in r.failing_hosts else
                  "unknown" if host_id in r.unknown_hosts else
                  "waived" if host_id in r.waived_hosts else None)
        t = targets[r.check]
        checks.append({"check": r.check, "title_vi": t.title_vi, "title_en": t.title_en,
                       "status": status})
    todos = host_todos(view, targets).get(host_id, [])
    facts = [{"fact": k, "label_vi": vi, "label_en": en, "value": judged.get(k)}
             for k, vi, en in HOST_FACTS
             if not (k == "ipv6.failing_step" and judged.get(k) is None)]  # none failing
    products = judged.get("antivirus.products") or []
    return {
        "site": {"id": view.site.id, "name": view.site.name, "district": view.site.district,
                 "province": view.site.province},
        "host_id": host.host_id, "hostname": host.hostname, "platform": host.platform,
        "agent_version": host.agent_version, "reported_at": host.collected_at,
        "stale": host_id in view.stale, "role": judged.get("host.role"),
        "facts": facts,
        "antivirus_products": [p.get("name") for p in products if isinstance(p, Mapping)],
        "checks": checks, "todo": [x.to_json() for x in todos],
        "unknown": why_unknown(host, [k for k, _, _ in HOST_FACTS
                                      if not k.startswith(("os.", "ipv6.failing"))], judged),
    }
