"""The year-end report in the department's own form: per target STT | Nội dung |
Chỉ tiêu | Thực hiện | Đánh giá (ĐẠT / CHƯA ĐẠT), a province summary, one section per
site and the failing hosts, built from the same per-site results as the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from yte_compliance.exporters.table import VERDICT_SHORT, achieved, requirement, vn_percent

SITE_TYPE_VI = {"hospital": "bệnh viện", "health_centre": "trung tâm y tế",
                "commune_station": "trạm y tế xã", "other": "cơ sở khác"}
ROLE_VI = {"workstation": "máy trạm", "server": "máy chủ"}


@dataclass
class Row:
    stt: int
    check: str
    content_vi: str
    content_en: str
    target: str  # Chỉ tiêu
    achieved: str  # Thực hiện
    verdict: str  # ĐẠT | CHƯA ĐẠT | CHƯA RÕ | MIỄN TRỪ
    status: str  # pass | fail | unknown | waived
    source: str
    applies_to: str = ""  # the site types (and host roles) the target counts
    rule_note: str = ""  # a plan's target applied past its period says so
    # the figures as numbers, for a spreadsheet: PCs (or sites) meeting the target, PCs
    # (or sites) counted, and the share or the measured value with its unit
    passing: int | None = None
    counted: int | None = None
    figure: float | None = None
    unit: str | None = None  # "%" (figure is a share 0..1) | "Mbps"


@dataclass
class FailingPC:
    """One PC that fails a target, with what it lacks in plain words (checks.todo)."""

    hostname: str
    lacks: list[str]  # Vietnamese, one per thing to do
    lacks_en: list[str]


@dataclass
class Heading:
    """The form's heading and signature (the collector config's ``report:``)."""

    parent_agency: str
    agency: str
    number: str  # Số: …/BC-SYT
    place: str
    date: str  # "ngày 31 tháng 12 năm 2026"
    signer_title: str
    signer_name: str
    recipients: list[str]


@dataclass
class SiteSection:
    id: str
    name: str
    type: str
    province: str
    district: str
    rows: list[Row]
    failing: list[FailingPC]  # grouped by PC
    hosts_reporting: int
    hosts_stale: int
    roles: dict[str, int] = field(default_factory=dict)  # reporting hosts per role
    unmanaged_pcs: int = 0  # seen on the LAN without an agent
    waivers: list[dict[str, Any]] = field(default_factory=list)  # in force on the as-of date


@dataclass
class YearReport:
    title: str
    year: int
    as_of: str
    province: str
    generated_at: str
    summary: list[Row]
    sites: list[SiteSection] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)  # in force on the as-of date
    heading: Heading | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _waived_sites(checks: list[dict]) -> str:
    n = sum(c["status"] == "waived" for c in checks)
    return f", {n} cơ sở miễn trừ" if n else ""


def _pooled(all_checks: list[dict]) -> tuple[str, str, int, int]:
    """Host-scope over the province: every counted host of every site the target applies
    to counts once (a PC without an agent as unknown); a waived site is left out, and
    each site's share is its own type's (the need is the sum of theirs)."""
    checks = [c for c in all_checks if c["status"] != "waived"]
    passing = sum(c["hosts"]["passing"] for c in checks)
    counted = sum(c["hosts"]["counted"] for c in checks)
    doubtful = sum(c["hosts"]["unknown"] + c["hosts"].get("unmanaged", 0) for c in checks)
    if counted == 0:
        return "0 máy báo cáo" + _waived_sites(all_checks), "unknown", 0, 0
    need = sum(Fraction(str(c["target"])) * c["hosts"]["counted"] for c in checks)
    status = ("pass" if passing >= need else "fail" if passing + doubtful < need else "unknown")
    text = f"{passing}/{counted} máy ({vn_percent(passing / counted)})"
    unknown = sum(c["hosts"]["unknown"] for c in checks)
    unmanaged = sum(c["hosts"].get("unmanaged", 0) for c in checks)
    waived = sum(c["hosts"].get("waived", 0) for c in checks)
    if unknown:
        text += f", {unknown} chưa rõ"
    if unmanaged:
        text += f", {unmanaged} không có tác tử"
    if waived:
        text += f", {waived} máy miễn trừ"
    return text + _waived_sites(all_checks), status, passing, counted


def _sites_share(all_checks: list[dict]) -> tuple[str, str, int, int]:
    """Site-scope over the province: every applicable site must meet it (100 %); a
    waived site is neither."""
    checks = [c for c in all_checks if c["status"] != "waived"]
    n = len(checks)
    passing = sum(c["status"] == "pass" for c in checks)
    failing = sum(c["status"] == "fail" for c in checks)
    status = "fail" if failing else "pass" if passing == n and n else "unknown"
    text = f"{passing}/{n} cơ sở đạt ({vn_percent(passing / n) if n else '—'})"
    if n - passing - failing:
        text += f", {n - passing - failing} chưa rõ"
    return text + _waived_sites(all_checks), status, passing, n


def applies_to(c: dict) -> str:
    """'Áp dụng: bệnh viện, trạm y tế xã; máy trạm' from the check's site types, roles."""
    types = ", ".join(SITE_TYPE_VI.get(t, t) for t in c.get("site_types", []))
    roles = ", ".join(ROLE_VI.get(r, r) for r in c.get("roles", []))
    return f"Áp dụng / applies to: {types}" + (f"; {roles}" if roles else "")


def rule_note(c: dict) -> str:
    rule = c.get("rule") or {}
    return f"{rule['note_vi']} / {rule['note_en']}" if rule.get("note_vi") else ""


def numbers(c: dict) -> dict[str, Any]:
    """A site's check as numbers: PCs passing and counted, or the measured value."""
    if c["scope"] == "host":
        h = c["hosts"]
        return {"passing": h["passing"], "counted": h["counted"],
                "figure": c["value"] if h["counted"] else None, "unit": "%"}
    value = c.get("value")
    if value is None or isinstance(value, bool) or isinstance(c.get("threshold"), bool):
        return {}
    if c.get("unit") == "bps":
        return {"figure": value / 1e6, "unit": "Mbps"}
    if c.get("unit") in ("ratio", "ratio_devices"):
        return {"figure": value, "unit": "%"}
    return {"figure": value}


def failing_pcs(checks: list[dict]) -> list[FailingPC]:
    """The site's failing PCs, each once, with everything it lacks across the targets."""
    by_host: dict[str, FailingPC] = {}
    for c in checks:
        for h in c.get("failing_hosts", []):
            pc = by_host.setdefault(h["host_id"], FailingPC(h["hostname"], [], []))
            lacks = h.get("lacks") or [{"vi": f"{c['title_vi']}: chưa đạt",
                                        "en": f"{c['title_en']}: not met"}]
            pc.lacks += [x["vi"] for x in lacks]
            pc.lacks_en += [x["en"] for x in lacks]
    return sorted(by_host.values(), key=lambda pc: pc.hostname)


def vn_date(day: dt.date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def make_heading(issuer: Any, province: str, number: str | None, day: dt.date) -> Heading:
    """The form's heading from the collector config's ``report:`` (an Issuer)."""
    return Heading(
        parent_agency=issuer.parent_agency or f"UBND TỈNH {province.upper()}",
        agency=issuer.agency, number=f"{number or '…….'}/{issuer.number_suffix}",
        place=issuer.place or province, date=vn_date(day), signer_title=issuer.signer_title,
        signer_name=issuer.signer_name, recipients=list(issuer.recipients))


def build(details: list[dict], *, year: int, as_of: dt.datetime, province: str | None,
          heading: Heading | None = None) -> YearReport:
    """``details``: the API's site detail (collector.views.site_json with detail=True)."""
    by_check: dict[str, list[dict]] = {}
    order: list[str] = []
    sections = []
    for d in details:
        rows = []
        for i, c in enumerate(d["checks"], 1):
            rows.append(Row(i, c["check"], c["title_vi"], c["title_en"], requirement(c),
                            achieved(c), VERDICT_SHORT[c["status"]], c["status"], c["source"],
                            applies_to(c), rule_note(c), **numbers(c)))
            if c["check"] not in by_check:
                by_check[c["check"]] = []
                order.append(c["check"])
            by_check[c["check"]].append(c)
        failing = failing_pcs(d["checks"])
        s = d["site"]
        roles: dict[str, int] = {}
        for h in d.get("hosts_detail", []):
            if not h["stale"]:
                roles[h["role"]] = roles.get(h["role"], 0) + 1
        waivers = [w for w in d.get("waivers", []) if w["in_force"]]
        sections.append(SiteSection(s["id"], s["name"], s["type"], s["province"],
                                    s["district"], rows, failing, d["hosts"]["fresh"],
                                    d["hosts"]["stale"], roles, d.get("unmanaged_pcs", 0),
                                    waivers))
    summary = []
    for stt, check in enumerate(order, 1):
        checks = by_check[check]
        first = checks[0]
        rules = sorted({requirement(c) for c in checks})
        same = len(rules) == 1
        target = rules[0] if same else "theo loại cơ sở / per site type: " + "; ".join(rules)
        if first["scope"] == "host":
            text, status, passing, counted = _pooled(checks)
        else:
            text, status, passing, counted = _sites_share(checks)
            target += " — 100 % cơ sở"
        summary.append(Row(stt, check, first["title_vi"], first["title_en"], target, text,
                           VERDICT_SHORT[status], status, first["source"],
                           applies_to(_union(checks)), rule_note(first), passing, counted,
                           passing / counted if counted else None, "%"))
    where = province or ", ".join(sorted({s.province for s in sections})) or "—"
    waivers = [dict(w, site_name=s.name) for s in sections for w in s.waivers]
    return YearReport(
        title=f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU CÔNG NGHỆ THÔNG TIN NĂM {year}",
        year=year, as_of=as_of.strftime("%d/%m/%Y %H:%M"), province=where,
        generated_at=dt.datetime.now().strftime("%d/%m/%Y %H:%M"), summary=summary,
        sites=sections, waivers=waivers, heading=heading)


def _union(checks: list[dict]) -> dict:
    """The site types the target applies to across the province (from every site's rule)."""
    types = sorted({t for c in checks for t in c.get("site_types", [])})
    roles = sorted({r for c in checks for r in c.get("roles", [])})
    return {"site_types": types, "roles": roles}

