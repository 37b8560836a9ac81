"""The year-end report as files: JSON for other tools, XLSX (openpyxl), HTML (Jinja2) and
PDF (WeasyPrint, from the HTML). Heavy libraries load only for their format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from yte_compliance.exporters.yearly import Row, YearReport

# the department's form first (STT … Đánh giá), then the notes, the figures as numbers
# (they sum and sort) and the English title
HEADER = ("STT", "Nội dung", "Chỉ tiêu", "Thực hiện", "Đánh giá", "Ghi chú",
          "Số đạt", "Số tính", "Tỷ lệ / giá trị", "Content (English)")
WIDTHS = (6, 48, 22, 34, 13, 40, 9, 9, 13, 44)
FILLS = {"pass": "C6EFCE", "fail": "FFC7CE", "unknown": "FFEB9C", "waived": "DDEBF7"}
# number formats: Excel shows them with the reader's separators (1.234,5 in Vietnamese)
FORMATS = {"%": "0.0%", "Mbps": '#,##0.0 "Mbps"', None: "#,##0.00"}
SHEET_NAME_MAX = 31  # Excel's limit


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


def _sheet_names(sites: list, reserved: set[str]) -> list[str]:
    """Each site's full name as its sheet's name; where Excel cannot hold it (31
    characters, no []:*?/\\, unique), "Cơ sở N", and the index sheet gives the full name."""
    used, out = set(reserved), []
    for n, s in enumerate(sites, 1):
        name = s.name.strip()
        if (len(name) > SHEET_NAME_MAX or re.search(r"[\[\]:*?/\\]", name)
                or name.lower() in {u.lower() for u in used} or not name):
            name = f"Cơ sở {n}"
        used.add(name)
        out.append(name)
    return out


def _print_setup(ws, title: str, header_row: int) -> None:
    """A4 landscape, fit to the page's width, the header row on every page, the title
    above and the page number below."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.oddHeader.center.text = title[:250]
    ws.oddFooter.center.text = "Trang &P / &N"
    ws.oddFooter.right.text = "yte-compliance"


def _named_styles(book: Any) -> None:
    """The workbook's cell styles, registered once by name: a cell given a style by name
    takes it as it is, where a cell given a font, a border and a fill of its own has each
    looked up again (most of the time a province's 500 sheets took)."""
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = Alignment(wrap_text=True, vertical="top")
    book.add_named_style(NamedStyle("yte_head", font=Font(bold=True), border=border,
                                    alignment=top, fill=PatternFill("solid", fgColor="DDE4EE")))
    book.add_named_style(NamedStyle("yte_cell", border=border, alignment=top))
    book.add_named_style(NamedStyle("yte_wrap", alignment=top))
    for status, colour in FILLS.items():
        book.add_named_style(NamedStyle(f"yte_{status}", font=Font(bold=True), border=border,
                                        alignment=top, fill=PatternFill("solid", fgColor=colour)))


def write_xlsx(report: YearReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    _named_styles(book)

    def head(ws, header: tuple[str, ...], row: int, widths: tuple[int, ...]) -> None:
        for col, text in enumerate(header, 1):
            ws.cell(row, col, text).style = "yte_head"
        for col, width in enumerate(widths, 1):
            ws.column_dimensions[ws.cell(row, col).column_letter].width = width

    def table(ws, rows: list[Row], start: int) -> None:
        head(ws, HEADER, start, WIDTHS)
        for i, row in enumerate(rows, start + 1):
            values = (row.stt, row.content_vi, row.target, row.achieved, row.verdict,
                      notes(row), row.passing, row.counted, row.figure, row.content_en)
            for col, value in enumerate(values, 1):  # the verdict (column 5) in its colour
                ws.cell(i, col, value).style = f"yte_{row.status}" if col == 5 else "yte_cell"
            ws.cell(i, 7).number_format = ws.cell(i, 8).number_format = "#,##0"
            ws.cell(i, 9).number_format = FORMATS.get(row.unit, FORMATS[None])

    ws = book.active
    ws.title = "Tổng hợp"
    ws["A1"] = report.title
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = f"Tỉnh / Province: {report.province} — số liệu đến / as of {report.as_of}"
    if report.heading:
        h = report.heading
        ws["A3"] = f"{h.agency} — Số: {h.number} — {h.place}, {h.date}"
    table(ws, report.summary, 4)
    _print_setup(ws, report.title, 4)
    fixed = ["Tổng hợp", "Mục lục", "Máy chưa đạt", "Miễn trừ"]
    names = _sheet_names(report.sites, set(fixed))
    index = book.create_sheet("Mục lục")
    head(index, ("Trang tính / sheet", "Cơ sở (tên đầy đủ)", "Mã", "Huyện", "Loại"), 1,
         (16, 50, 18, 20, 18))
    for r, (s, name) in enumerate(zip(report.sites, names, strict=True), 2):
        sheet = book.create_sheet(name)
        sheet["A1"] = f"{s.name} ({s.id})"
        sheet["A1"].font = Font(bold=True, size=12)
        sheet["A2"] = f"{s.district}, {s.province} — máy báo cáo: {s.hosts_reporting}, " \
                      f"quá hạn: {s.hosts_stale}"
        table(sheet, s.rows, 4)
        _print_setup(sheet, f"{report.title} — {s.name}", 4)
        link = index.cell(r, 1, name)
        link.hyperlink, link.style = f"#'{name}'!A1", "Hyperlink"
        for col, value in enumerate((s.name, s.id, s.district, s.type), 2):
            index.cell(r, col, value)
    _print_setup(index, "Mục lục", 1)
    failing = book.create_sheet("Máy chưa đạt")
    head(failing, ("Cơ sở", "Máy", "Cần khắc phục", "What it lacks"), 1, (30, 24, 60, 60))
    r = 2
    for s in report.sites:
        for pc in s.failing:
            values = (s.name, pc.hostname, "\n".join(pc.lacks), "\n".join(pc.lacks_en))
            for col, value in enumerate(values, 1):
                failing.cell(r, col, value).style = "yte_wrap"
            r += 1
    _print_setup(failing, f"{report.title} — máy chưa đạt", 1)
    waived = book.create_sheet("Miễn trừ")
    head(waived, ("Cơ sở", "Chỉ tiêu", "Máy", "Lý do", "Người phê duyệt", "Quyết định",
                  "Hết hạn"), 1, (30, 24, 20, 40, 24, 24, 12))
    for r, w in enumerate(report.waivers, 2):
        values = (w["site_name"], w["check"], w["host"] or "toàn cơ sở", w["reason"],
                  w["approved_by"], w["decision"], w["expires"])
        for col, value in enumerate(values, 1):
            waived.cell(r, col, value).style = "yte_wrap"
    _print_setup(waived, f"{report.title} — miễn trừ", 1)
    book.save(path)
