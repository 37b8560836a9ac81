"""The web pages in a real browser (Debian's Chromium driven by Playwright) against the real
collector on loopback: sign in with a viewer token, province → district → site → PC, the
to-do list in plain words, the trend by month, the exports, a district viewer kept to its
district, a hostile hostname rendered inert, the cookie's flags, CSRF and sign-out.
Screenshots go to test-artifacts/web/ for a reviewer."""

from __future__ import annotations

import datetime as dt
import io
import json
import urllib.parse

import pytest

from tests.browser import chromium, screenshots
from tests.fleet import GiB, http, make_bed, make_report, serving

EVIL_HOST = '<img src=x onerror="document.title=\'pwned\'"><script>alert(1)</script>'
EVIL_PRODUCT = "<b onmouseover=alert(2)>AV</b>"
BROWSE_AT = dt.datetime(2026, 11, 30, 10, 0).timestamp()


def at(month: int, day: int) -> float:
    return dt.datetime(2026, month, day, 10, 0).timestamp()


# host: site, hostname, {month: facts}; September's and November's reports
FLEET = {
    "h-ketoan": ("bv-tinh", "pc-ke-toan", {9: {"ram": 4 * GiB}, 11: {"ram": 16 * GiB}}),
    "h-tiepdon": ("bv-tinh", "pc-tiep-don", {9: {"ram": 4 * GiB, "media": "hdd"},
                                             11: {"ram": 4 * GiB, "media": "hdd",
                                                  "firewall": False}}),
    "h-evil": ("bv-tinh", EVIL_HOST, {9: {}, 11: {"antivirus": False}}),
    "h-tram": ("tyt-xa-a", "pc-tram", {9: {}, 11: {}}),
}


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    bed = make_bed(tmp_path_factory.mktemp("web") / "c")
    store = Store(load_collector_config(bed.config).database)
    district, stored = new_token()
    store.add_viewer("trạm Đức Trọng", "district:Đức Trọng", stored)
    store.close()
    now = [at(9, 15)]
    with serving(bed.config, clock=lambda: now[0]) as app:
        for month in (9, 11):
            for host, (site, hostname, months) in FLEET.items():
                # the last days of the month: still fresh when the month ends
                now[0] = at(month, 29) + 60
                rep = make_report(site, host, collected_at=at(month, 29), **months[month])
                rep["hostname"] = hostname
                if host == "h-evil":
                    rep["probes"]["antivirus"]["facts"]["products"] = [
                        {"name": EVIL_PRODUCT, "running": False}]
                assert http("POST", bed.url + "/api/v1/reports", rep,
                            token=bed.tokens[site])[0] == 201
        now[0] = BROWSE_AT + 120
        yield bed, district, app


def sign_in(page, bed, token: str) -> None:
    page.goto(bed.url + "/ui/")
    assert "/ui/login" in page.url  # not signed in: the sign-in page, not an error
    page.fill("#token", token)
    page.click("button[type=submit]")


def test_province_to_pc_with_the_to_do_list(web):
    bed, _, _ = web
    shots = screenshots("web")
    dialogs: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, bed, bed.viewer)
        assert page.url.endswith("/ui/")
        body = page.inner_text("main")
        assert "Đà Lạt" in body and "Đức Trọng" in body
        page.screenshot(path=str(shots / "1-tinh.png"), full_page=True)

        page.click("text=Đà Lạt")
        assert "/ui/district/" in page.url
        visits = page.inner_text("ol.visits")
        assert "Bệnh viện tỉnh" in visits and "2 máy cần khắc phục" in visits, visits
        page.screenshot(path=str(shots / "2-huyen.png"), full_page=True)

        page.click("ol.visits >> text=Bệnh viện tỉnh")
        assert page.url.endswith("/ui/site/bv-tinh")
        # the trend: RAM+SSD was 1/3 PCs in September, 2/3 (4 GB → 16 GB) in November; no
        # agent had reported before September
        trend = page.locator("table.trend tr", has_text="RAM").inner_text()
        assert trend.split("\t")[1:] == ["—"] * 8 + ["CHƯA ĐẠT", "—", "ĐẠT"], trend
        # the hostile hostname is text, nothing ran, nothing was injected
        assert EVIL_HOST in page.inner_text("main")
        assert page.locator("main img").count() == 0
        assert page.locator("main script").count() == 0
        assert page.title() != "pwned"
        page.screenshot(path=str(shots / "3-co-so.png"), full_page=True)

        page.click("a:text-is('pc-tiep-don')")
        fixes = page.inner_text("ol.fixes")
        assert "Nâng RAM lên 8 GB (hiện 4 GB)" in fixes
        assert "Thay ổ chứa hệ điều hành bằng SSD (hiện ổ cứng HDD)" in fixes
        assert "Bật tường lửa" in fixes
        page.screenshot(path=str(shots / "4-may.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(shots / "4-may-in.png"), full_page=True)
        assert not page.locator("header.top").is_visible()  # printable: no navigation
        page.emulate_media(media="screen")

        page.goto(bed.url + "/ui/site/bv-tinh/pc/h-evil")
        assert EVIL_PRODUCT in page.inner_text("main")
        assert "Bật phần mềm diệt virus" in page.inner_text("ol.fixes")
        assert page.locator("main b").count() == 0
        page.screenshot(path=str(shots / "5-may-ten-doc-hai.png"), full_page=True)

        page.goto(bed.url + "/ui/site/bv-tinh?lang=en")
        assert "PCs and what each needs" in page.inner_text("main")
        page.goto(bed.url + "/ui/site/bv-tinh?lang=vi")

        cookie = next(c for c in context.cookies() if c["name"] == "yte_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        context.close()
    assert dialogs == []


def test_every_page_sends_a_policy_that_forbids_scripts(web):
    bed, _, _ = web
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, bed, bed.viewer)
        for path in ("/ui/", "/ui/district/Đà Lạt", "/ui/site/bv-tinh",
                     "/ui/site/bv-tinh/pc/h-evil", "/ui/login"):
            response = page.goto(bed.url + urllib.parse.quote(path))
            assert response.status == 200, path
            csp = response.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "script" not in csp, csp
            assert response.headers["x-frame-options"] == "DENY"


def test_exports_hold_the_page_table(web):
    from openpyxl import load_workbook

    bed, _, _ = web
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, bed, bed.viewer)
        xlsx = page.request.get(bed.url + "/ui/site/bv-tinh?format=xlsx&table=pcs")
        assert xlsx.ok
        assert "attachment" in xlsx.headers["content-disposition"]
        ws = load_workbook(io.BytesIO(xlsx.body())).active
        hosts = [r[0] for r in ws.iter_rows(min_row=3, values_only=True)]
        assert sorted(hosts) == sorted([EVIL_HOST, "pc-ke-toan", "pc-tiep-don"])
        assert ws.freeze_panes == "A3"
        text = page.request.get(bed.url + "/ui/district/"
                                + urllib.parse.quote("Đà Lạt") + "?format=csv").body()
        assert text.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 with its mark
        lines = text.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("Cơ sở,Loại,ĐẠT,CHƯA ĐẠT")
        assert lines[1].startswith("Bệnh viện tỉnh,Bệnh viện,")
        # every table of a page: the trend, and a PC's to-do list to print or hand over
        trend = page.request.get(bed.url + "/ui/site/bv-tinh?format=csv&table=trend").body()
        ram = next(r for r in trend.decode("utf-8-sig").splitlines() if "RAM" in r)
        assert ram.endswith(",CHƯA ĐẠT,—,ĐẠT"), ram
        todo = page.request.get(bed.url + "/ui/site/bv-tinh/pc/h-tiepdon?format=csv&table=todo")
        assert "Nâng RAM lên 8 GB (hiện 4 GB),khắc phục,pc.ram_ssd" in todo.text()
        assert page.request.get(bed.url + "/ui/site/bv-tinh?format=csv&table=x").status == 404


def test_a_district_viewer_reads_its_district_only(web):
    bed, district, _ = web
    shots = screenshots("web")
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, bed, district)
        assert page.url.endswith("/ui/district/" + urllib.parse.quote("Đức Trọng"))
        assert "Trạm Y tế xã A" in page.inner_text("main")
        for path in ("/ui/district/Đà Lạt", "/ui/site/bv-tinh", "/ui/site/bv-tinh/pc/h-evil",
                     "/ui/site/bv-tinh?format=xlsx"):
            response = page.goto(bed.url + urllib.parse.quote(path, safe="/?=&"))
            assert response.status == 403, path
            assert "ngoài phạm vi" in page.inner_text("main")
            assert "pc-tiep-don" not in page.content()
        page.screenshot(path=str(shots / "6-ngoai-pham-vi.png"), full_page=True)
        # the province page is the district's own: no other district is listed
        page.goto(bed.url + "/ui/")
        assert "Đà Lạt" not in page.inner_text("main")


def test_sign_in_needs_the_form_own_csrf_and_a_valid_token(web):
    bed, _, _ = web
    form = urllib.parse.urlencode({"token": bed.viewer, "csrf": "forged"}).encode()
    status, _, body = http("POST", bed.url + "/ui/login", raw=form, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "yte_login_csrf=other"})
    assert status == 403 and "thử lại" in body.decode()
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, bed, "yte_v1_notatoken")
        assert "mã xem không đúng" in page.inner_text("main")
        assert page.context.cookies() == [] or all(
            c["name"] != "yte_session" for c in page.context.cookies())


def test_sign_out_and_revocation_end_the_session(web):
    from yte_compliance.collector.tokens import new_token, token_id_of

    bed, _, app = web
    plain, stored = new_token()
    app.state.store.add_viewer("short-lived", "province", stored)
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, bed, plain)
        assert page.url.endswith("/ui/")
        app.state.store.revoke_viewer(token_id_of(plain))
        page.goto(bed.url + "/ui/site/tyt-xa-a")
        assert "/ui/login" in page.url  # revoked: the session is gone at once
        sign_in(page, bed, bed.viewer)
        page.click("text=Đăng xuất")
        assert "/ui/login" in page.url
        page.goto(bed.url + "/ui/")
        assert "/ui/login" in page.url


def test_month_by_month_in_the_api_and_the_report_kept_and_judged_again_when_late(web):
    """The same months everywhere: the API's history, `yte report --monthly` and the
    trend; a past month is kept, and a late report for it has it judged again."""
    from yte_compliance.apps.yearend import monthly

    bed, _, app = web
    status, _, body = http("GET", bed.url + "/api/v1/sites/bv-tinh/history", token=bed.viewer)
    assert status == 200
    months = {m["month"]: m["checks"] for m in json.loads(body)["months"]}
    assert sorted(months) == list(range(1, 12)) and not any(months[m] for m in range(1, 9))
    assert months[9]["pc.ram_ssd"]["status"] == "fail" and months[10] == {}  # 32 days silent
    assert months[11]["pc.ram_ssd"]["status"] == "pass"  # this month: live
    assert app.state.store.monthly("2026-09")["bv-tinh"]["pc.firewall"]["status"] == "pass"
    text = monthly(bed.config, 2026, site="bv-tinh", now=BROWSE_AT + 120)
    ram = next(line for line in text.splitlines() if "RAM" in line)
    assert ram.split()[-3:] == ["ĐẠT", "—", "ĐẠT"] and "CHƯA ĐẠT" in ram
    # a report collected on the evening of 31 October arrives now (a PC back online):
    # October, which no report covered, is judged again
    assert app.state.store.monthly("2026-10") == {}
    late = make_report("bv-tinh", "h-tiepdon", collected_at=at(10, 31) + 12 * 3600,
                       firewall=False, ram=4 * GiB, media="hdd")
    late["hostname"] = "pc-tiep-don"
    assert http("POST", bed.url + "/api/v1/reports", late, token=bed.tokens["bv-tinh"])[0] == 201
    assert app.state.store.monthly("2026-10") is None
    status, _, body = http("GET", bed.url + "/api/v1/sites/bv-tinh/history", token=bed.viewer)
    october = json.loads(body)["months"][9]["checks"]
    assert october["pc.firewall"]["status"] == "fail"
    # a district viewer reads its own sites' months only
    status, _, _ = http("GET", bed.url + "/api/v1/sites/bv-tinh/history", token=web[1])
    assert status == 403
