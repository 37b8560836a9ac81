"""The year-end report in the department's own form: per target STT | Nội dung |
Chỉ tiêu | Thực hiện | Đánh giá (ĐẠT / CHƯA ĐẠT), a province summary, one section per
site and the failing hosts, built from the same per-site results as the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from yte_compliance.exporters.table import achieved, requirement, vn_percent

VERDICT_SHORT = {"pass": "ĐẠT", "fail": "CHƯA ĐẠT", "unknown": "CHƯA RÕ"}


@dataclass
class Row:
    stt: int
    check: str
    content_vi: str
    content_en: str
    target: str  # Chỉ tiêu
    achieved: str  # Thực hiện
    verdict: str  # ĐẠT | CHƯA ĐẠT | CHƯA RÕ
    status: str  # pass | fail | unknown
    source: str


@dataclass
class Failing:
    check: str
    content_vi: str
    hostname: str
    reason: str


@dataclass
class SiteSection:
    id: str
    name: str
    type: str
    province: str
    district: str
    rows: list[Row]
    failing: list[Failing]
    hosts_reporting: int
    hosts_stale: int


@dataclass
class YearReport:
    title: str
    year: int
    as_of: str
    province: str
    generated_at: str
    summary: list[Row]
    sites: list[SiteSection] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _pooled(checks: list[dict], required: float) -> tuple[str, str]:
    """Host-scope over the province: every reporting host of every site counts once."""
    passing = sum(c["hosts"]["passing"] for c in checks)
    counted = sum(c["hosts"]["counted"] for c in checks)
    unknown = sum(c["hosts"]["unknown"] for c in checks)
    if counted == 0:
        return "0 máy báo cáo", "unknown"
    need = Fraction(str(required)) * counted
    status = ("pass" if passing >= need else "fail" if passing + unknown < need else "unknown")
    text = f"{passing}/{counted} máy ({vn_percent(passing / counted)})"
    if unknown:
        text += f", {unknown} chưa rõ"
    return text, status


def _sites_share(checks: list[dict]) -> tuple[str, str]:
    """Site-scope over the province: every applicable site must meet it (100 %)."""
    n = len(checks)
    passing = sum(c["status"] == "pass" for c in checks)
    failing = sum(c["status"] == "fail" for c in checks)
    status = "fail" if failing else "pass" if passing == n and n else "unknown"
    text = f"{passing}/{n} cơ sở đạt ({vn_percent(passing / n) if n else '—'})"
    if n - passing - failing:
        text += f", {n - passing - failing} chưa rõ"
    return text, status


def build(details: list[dict], *, year: int, as_of: dt.datetime, province: str | None
          ) -> YearReport:
    """``details``: the API's site detail (collector.views.site_json with detail=True)."""
    by_check: dict[str, list[dict]] = {}
    order: list[str] = []
    sections = []
    for d in details:
        rows, failing = [], []
        for i, c in enumerate(d["checks"], 1):
            rows.append(Row(i, c["check"], c["title_vi"], c["title_en"], requirement(c),
                            achieved(c), VERDICT_SHORT[c["status"]], c["status"], c["source"]))
            if c["check"] not in by_check:
                by_check[c["check"]] = []
                order.append(c["check"])
            by_check[c["check"]].append(c)
            for h in c.get("failing_hosts", []):
                failing.append(Failing(c["check"], c["title_vi"], h["hostname"],
                                       h.get("why") or "chưa đạt / not met"))
        s = d["site"]
        sections.append(SiteSection(s["id"], s["name"], s["type"], s["province"],
                                    s["district"], rows, failing, d["hosts"]["fresh"],
                                    d["hosts"]["stale"]))
    summary = []
    for stt, check in enumerate(order, 1):
        checks = by_check[check]
        first = checks[0]
        if first["scope"] == "host":
            text, status = _pooled(checks, first["target"])
            target = requirement(first)
        else:
            text, status = _sites_share(checks)
            target = f"{requirement(first)} — 100 % cơ sở"
        summary.append(Row(stt, check, first["title_vi"], first["title_en"], target, text,
                           VERDICT_SHORT[status], status, first["source"]))
    where = province or ", ".join(sorted({s.province for s in sections})) or "—"
    return YearReport(
        title=f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU CÔNG NGHỆ THÔNG TIN NĂM {year}",
        year=year, as_of=as_of.strftime("%d/%m/%Y %H:%M"), province=where,
        generated_at=dt.datetime.now().strftime("%d/%m/%Y %H:%M"), summary=summary,
        sites=sections)

