"""The year-end report as files: JSON for other tools, XLSX (openpyxl), HTML (Jinja2) and
PDF (WeasyPrint, from the HTML). Heavy libraries load only for their format."""

from __future__ import annotations

import json
import re
from pathlib import Path

from yte_compliance.exporters.yearly import Row, YearReport

HEADER = ("STT", "Nội dung", "Chỉ tiêu", "Thực hiện", "Đánh giá", "Ghi chú")
FILLS = {"pass": "C6EFCE", "fail": "FFC7CE", "unknown": "FFEB9C", "waived": "DDEBF7"}


def notes(row: Row) -> str:
    """The Ghi chú column: where the target applies, and which rule judged it."""
    return "\n".join(x for x in (row.applies_to, row.rule_note) if x)


def to_json(report: YearReport) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)


def to_html(report: YearReport) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("yte_compliance.exporters", "templates"),
                      autoescape=select_autoescape(["j2"]))
    return env.get_template("report.html.j2").render(r=report)


def write_pdf(report: YearReport, path: Path) -> None:
    from weasyprint import HTML

    HTML(string=to_html(report)).write_pdf(str(path))  # self-contained: no linked files


def _sheet_name(name: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", name)[:28].strip() or "Cơ sở"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base[:26]} {n}", n + 1
    used.add(candidate)
    return candidate


def write_xlsx(report: YearReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    book = Workbook()
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def table(ws, rows: list[Row], start: int) -> int:
        for col, text in enumerate(HEADER, 1):
            cell = ws.cell(start, col, text)
            cell.font, cell.border = Font(bold=True), border
            cell.fill = PatternFill("solid", fgColor="DDE4EE")
        for i, row in enumerate(rows, start + 1):
            values = (row.stt, row.content_vi, row.target, row.achieved, row.verdict,
                      notes(row))
            for col, value in enumerate(values, 1):
                cell = ws.cell(i, col, value)
                cell.border = border
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.cell(i, 5).fill = PatternFill("solid", fgColor=FILLS[row.status])
            ws.cell(i, 5).font = Font(bold=True)
        for col, width in zip("ABCDEF", (6, 60, 26, 40, 14, 50), strict=True):
            ws.column_dimensions[col].width = width
        return start + len(rows) + 1

    ws = book.active
    ws.title = "Tổng hợp"
    ws["A1"] = report.title
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"Tỉnh / Province: {report.province} — số liệu đến / as of {report.as_of}"
    table(ws, report.summary, 4)
    used = {"Tổng hợp", "Máy chưa đạt", "Miễn trừ"}
    for s in report.sites:
        sheet = book.create_sheet(_sheet_name(s.name, used))
        sheet["A1"] = f"{s.name} ({s.id})"
        sheet["A1"].font = Font(bold=True, size=12)
        sheet["A2"] = f"{s.district}, {s.province} — máy báo cáo: {s.hosts_reporting}, " \
                      f"quá hạn: {s.hosts_stale}"
        table(sheet, s.rows, 4)
    failing = book.create_sheet("Máy chưa đạt")
    for col, text in enumerate(("Cơ sở", "Chỉ tiêu", "Máy", "Lý do"), 1):
        failing.cell(1, col, text).font = Font(bold=True)
    r = 2
    for s in report.sites:
        for f in s.failing:
            for col, value in enumerate((s.name, f.content_vi, f.hostname, f.reason), 1):
                failing.cell(r, col, value)
            r += 1
    for col, width in zip("ABCD", (30, 50, 24, 50), strict=True):
        failing.column_dimensions[col].width = width
    waived = book.create_sheet("Miễn trừ")
    head = ("Cơ sở", "Chỉ tiêu", "Máy", "Lý do", "Người phê duyệt", "Quyết định", "Hết hạn")
    for col, text in enumerate(head, 1):
        waived.cell(1, col, text).font = Font(bold=True)
    for r, w in enumerate(report.waivers, 2):
        values = (w["site_name"], w["check"], w["host"] or "toàn cơ sở", w["reason"],
                  w["approved_by"], w["decision"], w["expires"])
        for col, value in enumerate(values, 1):
            waived.cell(r, col, value)
    book.save(path)
