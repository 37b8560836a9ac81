"""The year-end report: a province over a year of history, read back as a person and a
spreadsheet would; budgets from an XLSX; figures as of a past date."""

import datetime as dt
import subprocess
import unicodedata
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import need_binary
from tests.fleet import http, make_bed, make_report, serving
from yte_compliance.apps.yearend import generate, write
from yte_compliance.checks.budgets import load_items, summarize
from yte_compliance.core.yamlconf import ConfigError

pytestmark = pytest.mark.integration
YEAR = 2025
SITES = "version: 1\nsites:\n" + "".join(
    f"  - {{id: {i}, name: {n}, type: {t}, province: Lâm Đồng, district: {d}}}\n"
    for i, n, t, d in (("bv-tinh", "Bệnh viện Đa khoa tỉnh", "hospital", "Đà Lạt"),
                       ("ttyt-duc-trong", "Trung tâm Y tế Đức Trọng", "health_centre", "Đức Trọng"),
                       ("tyt-xa-a", "Trạm Y tế xã A", "commune_station", "Đức Trọng"),
                       ("ttksbt", "Trung tâm Kiểm soát bệnh tật", "other", "Đà Lạt")))
DECLARATIONS = f"""version: 1
sites:
  bv-tinh:
    {YEAR}: {{perimeter_firewall: true, lan_fiber: true, router: true, wifi_internal: true,
             wifi_patients: true}}
  tyt-xa-a:
    {YEAR}: {{perimeter_firewall: false, router: true}}
budgets:
  bv-tinh:
    {YEAR}: {{items_file: budget-bv-tinh.xlsx}}
  tyt-xa-a:
    {YEAR}: {{it_total_million_vnd: 60, security_million_vnd: 3}}
  ttyt-duc-trong:
    {YEAR}: {{it_total_million_vnd: 400}}
plans:
  bv-tinh:
    - id: KH-CDS-2021-2025
      name: Kế hoạch chuyển đổi số 2021–2025
      from_year: 2021
      to_year: 2025
      budget: {{it_total_million_vnd: 15000, security_million_vnd: 1650}}
"""
GiB = 1 << 30


def ts(month, day=15):
    return dt.datetime(YEAR, month, day, 10, 0).timestamp()


# host → (site, months it reports, facts by month)
FLEET = {
    "b1": ("bv-tinh", range(1, 13), lambda m: {}),
    "b2": ("bv-tinh", range(1, 13), lambda m: {"media": "hdd"}),
    "b3": ("bv-tinh", range(1, 13), lambda m: {"ram": 4 * GiB}),
    "b4": ("bv-tinh", range(1, 13), lambda m: {"media": None}),  # a virtual disk: unknown
    "d1": ("ttyt-duc-trong", range(1, 10), lambda m: {}),  # stops in September: stale by Dec
    "d2": ("ttyt-duc-trong", range(1, 13), lambda m: {"antivirus": False}),
    "a1": ("tyt-xa-a", range(1, 13), lambda m: {"firewall": m >= 7}),  # fixed in July
    "a2": ("tyt-xa-a", range(1, 13), lambda m: {"ram": 4 * GiB, "media": "hdd"}),
    "k1": ("ttksbt", range(1, 13), lambda m: {"ipv6": False}),
}


def budget_xlsx(path: Path, rows) -> Path:
    book = Workbook()
    ws = book.active
    ws.append(["DỰ TOÁN KINH PHÍ CNTT NĂM 2025"])
    ws.append([])
    ws.append(["STT", "Nội dung", "Kinh phí (triệu đồng)", "An toàn thông tin"])
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


BUDGET_ROWS = [[1, "Máy chủ HIS", 1500, None], [2, "Máy trạm", "1.100", ""],
               [3, "Bản quyền phần mềm diệt virus", "250,5", "x"],
               [4, "Tường lửa vành đai", 149.5, "có"], [None, "Tổng cộng", 3000, None]]


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    folder = tmp_path_factory.mktemp("province")
    bed = make_bed(folder / "c", sites_yaml=SITES, declarations=DECLARATIONS,
                   site_ids=("bv-tinh", "ttyt-duc-trong", "tyt-xa-a", "ttksbt"))
    budget_xlsx(bed.folder / "budget-bv-tinh.xlsx", BUDGET_ROWS)
    now = [0.0]  # the collector receives each report a minute after it was collected
    with serving(bed.config, clock=lambda: now[0]):
        for host, (site, months, facts) in FLEET.items():
            for m in months:
                days = [15, 28, 30] if m == 12 else [15, 28]
                for day in days:
                    now[0] = ts(m, day) + 60
                    rep = make_report(site, host, collected_at=ts(m, day), **facts(m))
                    status = http("POST", bed.url + "/api/v1/reports", rep,
                                  token=bed.tokens[site])[0]
                    assert status == 201
    yield bed


def rows_of(ws, header_row=4):
    out = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] is None:
            break
        out.append(list(row[:5]))
    return out


def test_xlsx_summary_cell_by_cell_against_the_evaluation(province, tmp_path):
    report = generate(province.config, YEAR)
    out = tmp_path / "bao-cao.xlsx"
    write(report, "xlsx", out)
    book = load_workbook(out)
    assert book.sheetnames[:2] == ["Tổng hợp", "Mục lục"]
    assert book.sheetnames[-2:] == ["Máy chưa đạt", "Miễn trừ"]
    assert len(book.sheetnames) == 4 + 4  # a sheet per site, each under its full name
    index = [r[:2] for r in book["Mục lục"].iter_rows(min_row=2, values_only=True)]
    assert index == [(s.name, s.name) for s in report.sites]
    ws = book["Tổng hợp"]
    assert ws["A1"].value == f"BÁO CÁO KẾT QUẢ THỰC HIỆN CHỈ TIÊU CÔNG NGHỆ THÔNG TIN NĂM {YEAR}"
    assert [c.value for c in ws[4]] == ["STT", "Nội dung", "Chỉ tiêu", "Thực hiện", "Đánh giá",
                                        "Ghi chú", "Số đạt", "Số tính", "Tỷ lệ / giá trị",
                                        "Content (English)"]
    # printable as the department prints it: header frozen and repeated, A4 landscape
    assert ws.freeze_panes == "A5" and ws.print_title_rows == "$4:$4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert "&P" in ws.oddFooter.center.text
    cells = rows_of(ws)
    expected = [[r.stt, r.content_vi, r.target, r.achieved, r.verdict] for r in report.summary]
    assert cells == expected
    assert ws.cell(4, 6).value == "Ghi chú"
    notes = [ws.cell(5 + i, 6).value for i in range(len(report.summary))]
    assert all(n.startswith("Áp dụng / applies to: ") for n in notes)
    by_check = {r.check: r for r in report.summary}
    # independently of the evaluation: at year end d1 is gone; fresh hosts b1..b4, d2, a1,
    # a2, k1 = 8. RAM+SSD is the hospital plan's: only bv-tinh's b1..b4 count. It passes on
    # b1, fails b2, b3, unknown b4: 1 of 4, and b4 could make it the 2 of 4 it needs.
    # (Before site types, every site counted: 4/8 = 50 %, ĐẠT.)
    ram = by_check["pc.ram_ssd"]
    assert ram.achieved == "1/4 máy (25,0 %), 1 chưa rõ" and ram.verdict == "CHƯA RÕ"
    # the same figures as numbers: they sum and sort
    ram_row = next(r for r in ws.iter_rows(min_row=5) if r[1].value == ram.content_vi)
    assert [c.value for c in ram_row[6:9]] == [1, 4, 0.25]
    assert ram_row[8].number_format == "0.0%" and ram_row[9].value == ram.content_en
    assert "2025" in ram.rule_note or YEAR <= 2025
    assert by_check["pc.firewall"].verdict == "ĐẠT"  # a1 fixed in July
    assert by_check["pc.antivirus"].achieved == "7/8 máy (87,5 %)"
    assert by_check["pc.antivirus"].verdict == "CHƯA ĐẠT"
    budget = by_check["unit.security_budget"]
    assert budget.achieved == "1/4 cơ sở đạt (25,0 %), 2 chưa rõ"  # bv ĐẠT, tyt 5 % fails
    assert budget.verdict == "CHƯA ĐẠT"
    site = {s.id: s for s in report.sites}["bv-tinh"]
    bv_budget = next(r for r in site.rows if r.check == "unit.security_budget")
    assert bv_budget.achieved == "400/3.000 triệu đồng (13,33 %)" and bv_budget.verdict == "ĐẠT"
    plan = next(r for r in site.rows if r.check == "unit.security_budget_plan")
    assert plan.verdict == "ĐẠT" and "11,00 %" in plan.achieved
    sheet = book[report.sites[0].name]
    assert rows_of(sheet) == [[r.stt, r.content_vi, r.target, r.achieved, r.verdict]
                              for r in report.sites[0].rows]
    wifi = next(r for r in site.rows if r.check == "site.wifi")
    assert wifi.achieved == "Wi-Fi nội bộ: có; Wi-Fi cho người bệnh: có"
    # failing PCs grouped by PC, each with what it lacks in plain words
    failing = {r[1]: r for r in book["Máy chưa đạt"].iter_rows(min_row=2, values_only=True)}
    assert failing["pc-d2"][:3] == ("Trung tâm Y tế Đức Trọng", "pc-d2",
                                    "Cài phần mềm diệt virus")
    assert failing["pc-b3"][2] == "Nâng RAM lên 8 GB (hiện 4 GB)"
    assert failing["pc-b2"][2] == "Thay ổ chứa hệ điều hành bằng SSD (hiện ổ cứng HDD)"


def test_as_of_a_past_date_reads_that_day_from_history(province):
    june = generate(province.config, YEAR, as_of=dt.date(YEAR, 6, 30))
    december = generate(province.config, YEAR)
    fw = {r.check: r for r in june.summary}["pc.firewall"]
    assert fw.verdict == "CHƯA ĐẠT"  # a1's firewall was off until July
    assert {r.check: r for r in december.summary}["pc.firewall"].verdict == "ĐẠT"
    d = {s.id: s for s in june.sites}["ttyt-duc-trong"]
    assert (d.hosts_reporting, d.hosts_stale) == (2, 0)  # both still reported in June
    assert june.as_of == "30/06/2025 23:59"
    d = {s.id: s for s in december.sites}["ttyt-duc-trong"]
    assert (d.hosts_reporting, d.hosts_stale) == (1, 0)  # d1: silent > 30 days, forgotten


def test_budget_from_xlsx_and_a_malformed_row(tmp_path):
    items = load_items(budget_xlsx(tmp_path / "ok.xlsx", BUDGET_ROWS))
    s = summarize(items)
    assert (s.total, s.security) == (3000.0, 400.0)  # the "Tổng cộng" row is not an item
    assert f"{s.ratio * 100:.2f}" == "13.33" and s.ratio >= 0.10
    low = summarize(load_items(budget_xlsx(tmp_path / "low.xlsx",
                                           [[1, "Máy chủ", 950, None], [2, "ATTT", 50, "x"]])))
    assert f"{low.ratio * 100:.2f}" == "5.00" and low.ratio < 0.10
    bad = budget_xlsx(tmp_path / "bad.xlsx", [[1, "Máy chủ", 950, None],
                                              [2, "Phần mềm", "mười triệu", "x"]])
    with pytest.raises(ConfigError) as e:
        load_items(bad)
    assert e.value.line == 5 and e.value.key == "Kinh phí (triệu đồng)"
    assert str(bad) in str(e.value)
    csv = tmp_path / "bad.csv"
    csv.write_text("Nội dung;Kinh phí (triệu đồng);An toàn thông tin\nA;10;x\nB;20;maybe\n")
    with pytest.raises(ConfigError) as e:
        load_items(csv)
    assert (e.value.line, e.value.key) == (3, "An toàn thông tin")


def _fold(text):
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Mn").split())


def ocr(png: Path) -> str:
    tesseract = need_binary("tesseract")
    out = subprocess.run([tesseract, str(png), "stdout", "-l", "vie+eng"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return _fold(out.stdout)


def assert_looks_like_the_report(text: str, report):
    """The title, the table's header and the evaluation's own figures, read off the page
    (OCR reads the shaded bold 'STT' unreliably, so the figures are checked instead)."""
    figures = [_fold(r.achieved) for r in report.summary if r.check in ("pc.ram_ssd",
                                                                          "pc.antivirus")]
    for words in ("cong nghe thong tin nam", "noi dung", "chi tieu", "thuc hien",
                  "danh gia", "tong hop toan tinh", *figures):
        assert words in text, f"{words!r} not read on the page: {text[:600]}"
    # the form's heading: the national motto and tagline, the agency and its number
    # (OCR reads the underlined tagline's dashes and the number's slash unreliably)
    for words in ("cong hoa xa hoi chu nghia viet nam", "doc lap", "hanh phuc", "so y te",
                  "bc-syt"):
        assert words in text, f"{words!r} not read on the page: {text[:600]}"


def test_html_and_pdf_render_as_a_person_sees_them(province, tmp_path):
    report = generate(province.config, YEAR)
    html, pdf = tmp_path / "bao-cao.html", tmp_path / "bao-cao.pdf"
    write(report, "html", html)
    write(report, "pdf", pdf)
    chromium = need_binary("chromium")
    shot = tmp_path / "html.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1500,1100",
                    f"--screenshot={shot}", html.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert_looks_like_the_report(ocr(shot), report)
    pdftoppm = need_binary("pdftoppm")
    subprocess.run([pdftoppm, "-png", "-r", "110", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=120)
    (page,) = tmp_path.glob("page*.png")
    first = ocr(page)
    assert_looks_like_the_report(first, report)
    assert "trang 1/" in first  # numbered pages
    # the last page ends with the recipients and the signature block, numbered too
    pages = subprocess.run([need_binary("pdftotext"), "-layout", str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    last = pages[-1]
    assert "Nơi nhận:" in last and "GIÁM ĐỐC" in last and "đóng dấu" in last
    assert all(f"Trang {i}/{len(pages)}" in p for i, p in enumerate(pages, 1))
