"""What each web page shows, as plain data built from the API's site details (the same
JSON the API and the year-end report read): the province by district, a district by site
with the sites to visit, a site by check and by PC, one PC's to-do list. Every page has one
main table, which is also what its CSV/XLSX export holds. No HTTP here: tests call these."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yte_compliance.checks.todo import gib
from yte_compliance.exporters.table import VERDICT_SHORT, achieved, requirement

STATUSES = ("pass", "fail", "unknown", "waived")
VERDICT_EN = {"pass": "MET", "fail": "NOT MET", "unknown": "UNKNOWN", "waived": "WAIVED"}
SITE_TYPE = {"hospital": ("Bệnh viện", "Hospital"),
             "health_centre": ("Trung tâm y tế", "Health centre"),
             "commune_station": ("Trạm y tế xã", "Commune station"),
             "other": ("Cơ sở khác", "Other")}
ROLE = {"workstation": ("Máy trạm", "Workstation"), "server": ("Máy chủ", "Server")}


@dataclass
class Table:
    """A page's main table: header cells and rows of cells (numbers stay numbers, for the
    spreadsheet); ``status`` gives a row's verdict colour, ``links`` a cell's target."""

    header: list[str]
    verdict_column: int = -1  # the cell a row's verdict colours
    rows: list[list[Any]] = field(default_factory=list)
    status: list[str | None] = field(default_factory=list)
    links: list[dict[int, str]] = field(default_factory=list)

    def add(self, cells: list[Any], status: str | None = None,
            links: dict[int, str] | None = None) -> None:
        self.rows.append(cells)
        self.status.append(status)
        self.links.append(links or {})


def verdict(status: str | None, lang: str) -> str:
    if status is None:
        return "—"
    return VERDICT_EN[status] if lang == "en" else VERDICT_SHORT[status]


def pick(lang: str, vi: str, en: str) -> str:
    return en if lang == "en" else vi


def counts(detail: Mapping[str, Any]) -> dict[str, int]:
    return dict(detail["checks_summary"])


def todo_count(detail: Mapping[str, Any]) -> tuple[int, int]:
    """(PCs with something to fix, things to fix) at one site."""
    fixes = [sum(x["kind"] == "fix" for x in h["todo"]) for h in detail["hosts_detail"]]
    return sum(1 for n in fixes if n), sum(fixes)


def site_fixes(detail: Mapping[str, Any], lang: str) -> list[str]:
    """A site's own failing targets (site scope) in plain words: its remediation."""
    out = []
    for c in detail["checks"]:
        if c["scope"] == "site" and c["status"] == "fail":
            out.append(pick(lang, c["title_vi"], c["title_en"]))
    return out


def province_table(details: list[dict[str, Any]], lang: str) -> Table:
    """One row per district: its sites, how many meet every target, PCs to fix."""
    by_district: dict[str, list[dict[str, Any]]] = {}
    for d in details:
        by_district.setdefault(d["site"]["district"], []).append(d)
    t = Table([pick(lang, "Huyện / khu vực", "District"), pick(lang, "Số cơ sở", "Sites"),
               pick(lang, "Đạt mọi chỉ tiêu", "Meeting every target"),
               pick(lang, "Có chỉ tiêu chưa đạt", "Failing a target"),
               pick(lang, "Có chỉ tiêu chưa rõ", "With unknowns"),
               pick(lang, "Máy cần khắc phục", "PCs to fix")])
    for name in sorted(by_district):
        ds = by_district[name]
        all_pass = sum(1 for d in ds if not counts(d)["fail"] and not counts(d)["unknown"])
        failing = sum(1 for d in ds if counts(d)["fail"])
        unknown = sum(1 for d in ds if counts(d)["unknown"])
        pcs = sum(todo_count(d)[0] for d in ds)
        t.add([name, len(ds), all_pass, failing, unknown, pcs],
              "fail" if failing else "unknown" if unknown else "pass", {0: "district/" + name})
    return t


def checks_by_site_count(details: list[dict[str, Any]], lang: str) -> Table:
    """Per target: how many of the sites it applies to are ĐẠT / CHƯA ĐẠT / CHƯA RÕ / MIỄN TRỪ."""
    order: list[str] = []
    tally: dict[str, dict[str, int]] = {}
    titles: dict[str, str] = {}
    for d in details:
        for c in d["checks"]:
            if c["check"] not in tally:
                order.append(c["check"])
                tally[c["check"]] = dict.fromkeys(STATUSES, 0)
                titles[c["check"]] = pick(lang, c["title_vi"], c["title_en"])
            tally[c["check"]][c["status"]] += 1
    t = Table([pick(lang, "STT", "No."), pick(lang, "Chỉ tiêu", "Target"),
               *(verdict(s, lang) for s in STATUSES)])
    for i, check in enumerate(order, 1):
        n = tally[check]
        t.add([i, titles[check], *(n[s] for s in STATUSES)],
              "fail" if n["fail"] else "unknown" if n["unknown"] else "pass")
    return t


def district_table(details: list[dict[str, Any]], lang: str) -> Table:
    """One row per site of the district."""
    t = Table([pick(lang, "Cơ sở", "Site"), pick(lang, "Loại", "Type"),
               *(verdict(s, lang) for s in STATUSES),
               pick(lang, "Máy báo cáo", "PCs reporting"),
               pick(lang, "Máy cần khắc phục", "PCs to fix")])
    for d in sorted(details, key=lambda d: d["site"]["name"]):
        s, n = d["site"], counts(d)
        kind = SITE_TYPE.get(s["type"], (s["type"], s["type"]))
        t.add([s["name"], pick(lang, *kind), *(n[k] for k in STATUSES), d["hosts"]["fresh"],
               todo_count(d)[0]],
              "fail" if n["fail"] else "unknown" if n["unknown"] else "pass",
              {0: "site/" + s["id"]})
    return t


@dataclass
class Visit:
    """A site the district's IT person should go to, and what to bring."""

    site_id: str
    name: str
    pcs: int  # PCs with something to fix
    fixes: int
    site_fixes: list[str]
    top: list[tuple[str, int]]  # the commonest fixes, with how many PCs need each


def sites_to_visit(details: list[dict[str, Any]], lang: str) -> list[Visit]:
    """Sites with something to fix, most work first: PCs to fix, then failing site targets."""
    out = []
    for d in details:
        pcs, fixes = todo_count(d)
        own = site_fixes(d, lang)
        if not fixes and not own:
            continue
        kinds: dict[str, int] = {}
        for h in d["hosts_detail"]:
            for x in h["todo"]:
                if x["kind"] == "fix":
                    key = _kind_of(x, lang)
                    kinds[key] = kinds.get(key, 0) + 1
        top = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
        out.append(Visit(d["site"]["id"], d["site"]["name"], pcs, fixes, own, top))
    return sorted(out, key=lambda v: (-v.pcs - len(v.site_fixes), v.name))


def _kind_of(todo: Mapping[str, str], lang: str) -> str:
    """A fix without its figures ('Nâng RAM lên 8 GB (hiện 4 GB)' → 'Nâng RAM lên 8 GB')."""
    return pick(lang, todo["vi"], todo["en"]).split(" (")[0]


def site_table(detail: dict[str, Any], lang: str) -> Table:
    """The site's targets in the plans' form: STT | Nội dung | Chỉ tiêu | Thực hiện | Đánh giá."""
    t = Table([pick(lang, "STT", "No."), pick(lang, "Nội dung", "Target"),
               pick(lang, "Chỉ tiêu", "Required"), pick(lang, "Thực hiện", "Achieved"),
               pick(lang, "Đánh giá", "Verdict")])
    for i, c in enumerate(detail["checks"], 1):
        t.add([i, pick(lang, c["title_vi"], c["title_en"]), requirement(c), achieved(c),
               verdict(c["status"], lang)], c["status"])
    return t


def pcs_table(detail: dict[str, Any], lang: str) -> Table:
    """The site's PCs, those with the most to fix first."""
    t = Table([pick(lang, "Máy", "PC"), pick(lang, "Vai trò", "Role"),
               pick(lang, "Hệ điều hành", "Operating system"),
               pick(lang, "Việc cần làm", "To do"), pick(lang, "Cần kiểm tra", "To check")],
              verdict_column=3)
    hosts = sorted(detail["hosts_detail"],
                   key=lambda h: (-sum(x["kind"] == "fix" for x in h["todo"]), h["hostname"]))
    for h in hosts:
        fixes = [pick(lang, x["vi"], x["en"]) for x in h["todo"] if x["kind"] == "fix"]
        checks = [pick(lang, x["vi"], x["en"]) for x in h["todo"] if x["kind"] == "verify"]
        role = ROLE.get(h["role"] or "", (h["role"] or "—", h["role"] or "—"))
        t.add([h["hostname"], pick(lang, *role), h["os_release"] or h["platform"] or "—",
               "; ".join(fixes) or pick(lang, "không", "none"), "; ".join(checks)],
              "fail" if fixes else "unknown" if checks else "pass",
              {0: f"site/{detail['site']['id']}/pc/{h['host_id']}"})
    return t


def todo_table(host: dict[str, Any], lang: str) -> Table:
    """One PC's to-do list: what to fix, then what to check."""
    t = Table([pick(lang, "STT", "No."), pick(lang, "Việc cần làm", "To do"),
               pick(lang, "Loại", "Kind"), pick(lang, "Chỉ tiêu", "Target")])
    items = sorted(host["todo"], key=lambda x: x["kind"] != "fix")
    for i, x in enumerate(items, 1):
        t.add([i, pick(lang, x["vi"], x["en"]),
               pick(lang, "khắc phục", "fix") if x["kind"] == "fix"
               else pick(lang, "kiểm tra", "check"), x["check"]],
              "fail" if x["kind"] == "fix" else "unknown")
    return t


def pc_table(host: dict[str, Any], lang: str) -> Table:
    """One PC's facts as read."""
    t = Table([pick(lang, "Thông tin", "Fact"), pick(lang, "Giá trị", "Value")])
    for f in host["facts"]:
        t.add([pick(lang, f["label_vi"], f["label_en"]), show_fact(f["fact"], f["value"], lang)])
    return t


def show_fact(fact: str, value: Any, lang: str) -> str:
    if value is None:
        return pick(lang, "chưa rõ", "unknown")
    if isinstance(value, bool):
        return pick(lang, "có", "yes") if value else pick(lang, "không", "no")
    if fact.endswith("_bytes"):
        return gib(value)
    if fact.endswith("_at"):
        return dt.datetime.fromtimestamp(float(value)).strftime("%d/%m/%Y %H:%M")
    if fact == "hardware.os_disk_media":
        return {"ssd": "SSD", "hdd": "HDD"}.get(str(value), str(value))
    return str(value)


def trend_table(months: list[tuple[int, Mapping[str, Mapping[str, Mapping[str, Any]]]]],
                titles: Mapping[str, tuple[str, str]], lang: str) -> Table:
    """Per target, month by month: the verdict at one site, or 'met/of' over many.
    ``months``: (month, {site: {check: {status, value}}}), oldest first (collector.months)."""
    t = Table([pick(lang, "Chỉ tiêu", "Target"),
               *(pick(lang, f"tháng {m}", f"month {m}") for m, _ in months)])
    for check, (vi, en) in titles.items():
        cells: list[Any] = [pick(lang, vi, en)]
        for _, by_site in months:
            statuses = [s[check]["status"] for s in by_site.values() if check in s]
            if not statuses:
                cells.append("—")
            elif len(by_site) == 1:
                cells.append(verdict(statuses[0], lang))
            else:
                met = sum(s in ("pass", "waived") for s in statuses)
                cells.append(f"{met}/{len(statuses)}")
        t.add(cells)
    return t


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark: Excel opens Vietnamese text right."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(table.header)
    w.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = "Bảng"
    ws.append([title])
    ws["A1"].font = Font(bold=True)
    ws.append(table.header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in table.rows:
        ws.append(row)
    ws.freeze_panes = "A3"
    for col in ws.columns:
        width = max(len(str(c.value or "")) for c in col[1:]) if len(col) > 1 else 10
        ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
