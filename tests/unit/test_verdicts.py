"""Verdicts a department can sign: each case was judged wrong before (said in its
docstring) and is judged right now. Site types, host roles, PCs without an agent,
waivers, end-of-life operating systems, and the plan's dates."""

import datetime as dt
from pathlib import Path

import pytest

from yte_compliance.checks.evaluate import FAIL, PASS, UNKNOWN, WAIVED, HostFacts, SiteInput
from yte_compliance.checks.evaluate import evaluate_site as evaluate
from yte_compliance.checks.lifecycle import load_lifecycle, parse_lifecycle, windows_channel
from yte_compliance.checks.policy import Policy
from yte_compliance.checks.targets import in_force, load_targets, parse_targets
from yte_compliance.checks.waivers import Waiver, Waivers, parse_waivers
from yte_compliance.collector.sites import parse_sites
from yte_compliance.collector.state import SiteView, evaluate_view, known_facts
from yte_compliance.collector.store import HostRow, SeenDevice
from yte_compliance.collector.views import site_json
from yte_compliance.core.yamlconf import ConfigError, parse_yaml
from yte_compliance.exporters.table import format_site
from yte_compliance.exporters.yearly import build

ROOT = Path(__file__).parent.parent.parent
TARGETS = load_targets([])
NOW = dt.datetime(2026, 11, 20, 12, 0).timestamp()
TODAY = dt.date.fromtimestamp(NOW)
DAY = 86400.0
GiB = 1 << 30
DEBIAN12 = {"hardware.os_family": "linux", "hardware.os_name": "Debian GNU/Linux",
            "hardware.os_version": "12"}
GOOD = {"hardware.memory_installed_bytes": 8 * GiB, "hardware.os_disk_media": "ssd",
        "firewall.inbound_filtering": True, "antivirus.any_running": True, **DEBIAN12}
OLD = {**GOOD, "hardware.memory_installed_bytes": 4 * GiB, "hardware.os_disk_media": "hdd"}

SITES = """version: 1
sites:
  - {id: bv, name: Bệnh viện, type: hospital, province: P, district: D,
     subnets: [198.18.1.0/24],
     hosts: [{host: pacs-01, role: server}]}
  - {id: tyt, name: Trạm Y tế, type: commune_station, province: P, district: D}
"""


def sites():
    return parse_sites(parse_yaml(SITES, "sites.yaml"), "sites.yaml")


def row(site, i, facts, hostname=None):
    return HostRow(f"h{i}", site, hostname or f"pc-{i}", "linux", "0.1", "agent", f"r{i}",
                   NOW - 600, NOW - 600, dict(facts), {})


def view(site_id, rows, policy=None, targets=None, devices=None) -> SiteView:
    active = in_force(targets or TARGETS, TODAY)
    return evaluate_view(sites()[site_id], rows, [], active, policy or Policy(), now=NOW,
                         stale_after=3 * DAY, forget_after=30 * DAY, devices=devices)


def results(v: SiteView):
    return {r.check: r for r in v.results}


# --- site types ------------------------------------------------------------------------


def test_a_commune_station_is_not_judged_on_the_hospital_plan():
    """Before: every target judged every site; a 3G station failed 80 Mbps, fibre LAN and
    patient Wi-Fi forever. Now the hospital plan's targets judge hospitals."""
    station = results(view("tyt", [row("tyt", 1, OLD)], devices=None))
    for hospital_only in ("pc.ram_ssd", "site.bandwidth", "site.lan_fiber", "site.wifi"):
        assert hospital_only not in station
    assert station["pc.firewall"].status == PASS  # national rules still apply
    hospital = results(view("bv", [row("bv", 1, OLD)]))
    assert hospital["pc.ram_ssd"].status == FAIL and "site.bandwidth" in hospital


def test_a_province_gives_stations_their_own_bandwidth_line(tmp_path):
    f = tmp_path / "province.yaml"
    f.write_text("version: 1\ntargets:\n  - id: site.bandwidth\n"
                 "    site_types: [hospital, commune_station]\n    by_site_type:\n"
                 "      commune_station:\n        all_of: [{fact: bandwidth.download_bps, "
                 "op: ge, value: 10000000}]\n        source: Kế hoạch tỉnh\n")
    targets = load_targets([f], known_facts=known_facts())
    t = targets["site.bandwidth"]
    station = SiteInput("tyt", "commune_station", (), {"bandwidth.download_bps": 12e6})
    hospital = SiteInput("bv", "hospital", (), {"bandwidth.download_bps": 12e6})
    (r_station,) = evaluate(station, [t], now=NOW, stale_after=DAY)
    (r_hospital,) = evaluate(hospital, [t], now=NOW, stale_after=DAY)
    assert (r_station.status, r_station.target) == (PASS, 10e6)
    assert r_hospital.status == FAIL  # 12 Mbps × 1.062 is far from 80
    assert t.for_site_type("commune_station").source == "Kế hoạch tỉnh"


def test_by_site_type_names_a_type_the_target_covers(tmp_path):
    f = tmp_path / "province.yaml"
    f.write_text("version: 1\ntargets:\n  - id: site.bandwidth\n    by_site_type:\n"
                 "      commune_station: {source: x}\n")
    with pytest.raises(ConfigError) as e:
        load_targets([f])
    assert "province.yaml:5" in str(e.value) and "not one of this target's site_types" in str(e.value)


# --- roles -----------------------------------------------------------------------------


def test_servers_leave_the_workstation_share():
    """Before: a hospital with 2 good workstations and 3 HIS/PACS servers on HDD scored
    2/5 = 40 % on the RAM/SSD target (CHƯA ĐẠT). The plan counts workstations: 2/2."""
    server = {**OLD, "hardware.system_role": "server",
              "hardware.system_role_source": "ProductType=3"}
    rows = [row("bv", 1, GOOD), row("bv", 2, GOOD), row("bv", 3, server), row("bv", 4, server),
            row("bv", 5, OLD, hostname="pacs-01")]  # a server by the sites file
    v = view("bv", rows)
    r = results(v)["pc.ram_ssd"]
    assert (r.status, r.hosts_counted, r.hosts_other_role) == (PASS, 2, 3)
    assert results(v)["pc.firewall"].hosts_counted == 5  # the firewall counts servers too
    detail = site_json(v, TARGETS, True)
    roles = {h["hostname"]: (h["role"], h["role_source"]) for h in detail["hosts_detail"]}
    assert roles["pacs-01"] == ("server", "sites file")
    assert roles["pc-3"] == ("server", "ProductType=3")
    assert roles["pc-1"] == ("workstation", "assumed: the edition's kind is unknown")


def test_sites_file_role_must_be_known():
    bad = SITES.replace("role: server", "role: printer")
    with pytest.raises(ConfigError) as e:
        parse_sites(parse_yaml(bad, "sites.yaml"), "sites.yaml")
    assert "sites.yaml:" in str(e.value) and "role" in str(e.value)


# --- PCs without an agent ----------------------------------------------------------------


def seen(i, mac):
    return SeenDevice("bv", mac, f"198.18.1.{i}", None, NOW - DAY, NOW - 3600)


def test_pcs_without_an_agent_make_a_share_unknown():
    """Before: a site deploying agents only to its 2 good PCs passed at 100 %, though
    discovery saw 3 more PCs. Now they count as unknown: 2 of 5 could be 40 % or 100 %."""
    rows = [row("bv", 1, GOOD), row("bv", 2, GOOD)]
    devices = [seen(10 + i, f"02:00:00:00:00:1{i}") for i in range(3)]
    r = results(view("bv", rows, devices=devices))["pc.ram_ssd"]
    assert (r.status, r.hosts_counted, r.hosts_unmanaged) == (UNKNOWN, 5, 3)
    assert "3 PC(s) without an agent" in r.reason
    off = results(view("bv", rows, Policy(count_unmanaged=False), devices=devices))
    assert off["pc.ram_ssd"].status == PASS  # the province turned it off
    # a device marked in the sites file as a printer is not a PC
    assert results(view("bv", rows, devices=[]))["pc.ram_ssd"].status == PASS


# --- waivers -----------------------------------------------------------------------------


WAIVERS = """version: 1
waivers:
  - {site: tyt, check: pc.firewall, reason: "Máy đo điện tim, nhà cung cấp khoá",
     approved_by: PGĐ Sở, decision: QĐ 12/QĐ-SYT, granted: 2026-01-01, expires: 2026-12-31}
  - {site: bv, host: pc-2, check: pc.ram_ssd, reason: Máy thay trong quý 1/2027,
     approved_by: GĐ BV, decision: CV 45/BV, granted: 2026-01-01, expires: 2026-12-31}
  - {site: bv, check: site.lan_fiber, reason: Đã hết hạn, approved_by: GĐ BV,
     decision: CV 1/BV, granted: 2025-01-01, expires: 2026-06-30}
"""


def waivers():
    return parse_waivers(parse_yaml(WAIVERS, "waivers.yaml"), "waivers.yaml",
                         sites={"bv": "hospital", "tyt": "commune_station"},
                         targets={t.id: t.scope for t in TARGETS.values()})


def test_a_waived_result_is_neither_pass_nor_fail():
    policy = Policy(waivers=waivers())
    off = {**GOOD, "firewall.inbound_filtering": False}
    v = view("tyt", [row("tyt", 1, off)], policy)
    fw = results(v)["pc.firewall"]
    assert (fw.status, fw.measured_status) == (WAIVED, FAIL)
    detail = site_json(v, TARGETS, True)
    c = next(c for c in detail["checks"] if c["check"] == "pc.firewall")
    assert c["waiver"]["decision"] == "QĐ 12/QĐ-SYT" and detail["checks_summary"]["waived"] == 1
    table = format_site(detail)
    assert "MIỄN TRỪ" in table and "QĐ 12/QĐ-SYT" in table and "31/12/2026" in table


def test_a_host_waiver_takes_the_host_out_and_an_expired_waiver_stops():
    policy = Policy(waivers=waivers())
    rows = [row("bv", 1, GOOD), row("bv", 2, OLD), row("bv", 3, OLD)]
    v = view("bv", rows, policy)
    r = results(v)["pc.ram_ssd"]
    assert (r.status, r.hosts_counted, r.waived_hosts) == (PASS, 2, ("h2",))  # 1 of 2
    assert results(v)["site.lan_fiber"].status == UNKNOWN  # expired: judged again
    later = dt.datetime(2027, 1, 2).timestamp()
    again = evaluate_view(sites()["bv"], rows, [], in_force(TARGETS, dt.date(2027, 1, 2)),
                          policy, now=later, stale_after=1e9, forget_after=1e9)
    assert results(again)["pc.ram_ssd"].status == FAIL  # 1 of 3 once the waiver ends


@pytest.mark.parametrize(("entry", "message"), [
    ("{site: nope, check: pc.firewall, reason: r, approved_by: a, decision: d, "
     "granted: 2026-01-01, expires: 2026-02-01}", "no site 'nope'"),
    ("{site: bv, check: pc.firewal, reason: r, approved_by: a, decision: d, "
     "granted: 2026-01-01, expires: 2026-02-01}", "no target 'pc.firewal'"),
    ("{site: bv, host: pc-1, check: site.wifi, reason: r, approved_by: a, decision: d, "
     "granted: 2026-01-01, expires: 2026-02-01}", "judged per site"),
    ("{site: bv, check: pc.firewall, reason: r, approved_by: a, decision: d, "
     "granted: 2026-03-01, expires: 2026-02-01}", "before granted"),
    ("{site: bv, check: pc.firewall, reason: ' ', approved_by: a, decision: d, "
     "granted: 2026-01-01, expires: 2026-02-01}", "must not be empty"),
    ("{site: bv, check: pc.firewall, reason: r, approved_by: a, decision: d, "
     "granted: 2026-01-01, expire: 2026-02-01}", "expires"),
])
def test_a_bad_waiver_names_the_file_line_and_key(entry, message):
    text = f"version: 1\nwaivers:\n  - {entry}\n"
    with pytest.raises(ConfigError) as e:
        parse_waivers(parse_yaml(text, "waivers.yaml"), "waivers.yaml",
                      sites={"bv": "hospital"}, targets={t.id: t.scope for t in TARGETS.values()})
    assert str(e.value).startswith("waivers.yaml:3") and message in str(e.value)


# --- operating systems past their vendor's support ----------------------------------------


WINDOWS = {"hardware.os_family": "windows"}


@pytest.mark.parametrize(("name", "build", "supported", "release"), [
    ("Windows 7 Professional", "7601", False, "Windows 7 SP1"),
    ("Windows 10 Pro", "19045", False, "Windows 10 22H2"),  # ended 2025-10-14
    ("Windows 10 Enterprise LTSC 2021", "19044", True, "Windows 10 Enterprise LTSC 2021"),
    ("Windows 10 IoT Enterprise LTSC 2021", "19044", True,
     "Windows 10 IoT Enterprise LTSC 2021"),
    ("Windows 11 Pro", "22631", False, "Windows 11 23H2 Home/Pro"),
    ("Windows 11 Enterprise", "22631", False, "Windows 11 23H2 Enterprise/Education"),
    ("Windows 11 Pro", "26100", False, "Windows 11 24H2 Home/Pro"),  # ended 2026-10-13
    ("Windows 11 Enterprise", "26100", True, "Windows 11 24H2 Enterprise/Education"),
    ("Windows Server 2019 Standard", "17763", True, "Windows Server 2019"),
    ("Windows Server 2012 R2 Standard", "9600", False, "Windows Server 2012 R2"),
    ("Windows 11 Pro", "99999", None, None),  # not in the data: unknown, not a fail
])
def test_windows_lifecycle(name, build, supported, release):
    facts = load_lifecycle().facts({**WINDOWS, "hardware.os_name": name,
                                    "hardware.os_build": build}, TODAY)
    assert (facts["os.supported"], facts["os.release"]) == (supported, release)
    if release:
        assert "learn.microsoft.com" in facts["os.lifecycle_source"]


@pytest.mark.parametrize(("name", "version", "supported"), [
    ("Debian GNU/Linux", "12", True), ("Debian GNU/Linux", "10", False),
    ("Debian GNU/Linux", "11", False),  # LTS ended 2026-08-31
    ("Ubuntu", "22.04", True), ("Ubuntu", "20.04", False),
    ("Red Hat Enterprise Linux", "9.4", True), ("CentOS Linux", "7", False),
    ("Arch Linux", None, None),
])
def test_linux_lifecycle(name, version, supported):
    facts = load_lifecycle().facts({"hardware.os_family": "linux", "hardware.os_name": name,
                                    "hardware.os_version": version}, TODAY)
    assert facts["os.supported"] is supported


def test_the_last_day_of_support_still_counts():
    win = {**WINDOWS, "hardware.os_name": "Windows 11 Enterprise", "hardware.os_build": "22631"}
    assert load_lifecycle().facts(win, dt.date(2026, 11, 10))["os.supported"] is True
    assert load_lifecycle().facts(win, dt.date(2026, 11, 11))["os.supported"] is False


def test_windows_channels_from_the_caption():
    assert windows_channel("Windows 10 Pro Education") == "home_pro"
    assert windows_channel("Windows 10 Education") == "enterprise"
    assert windows_channel("Windows 10 Enterprise LTSC 2019") == "ltsc"


def test_windows_7_with_antivirus_and_firewall_no_longer_passes():
    """Before: a Windows 7 PC with antivirus and firewall passed every check."""
    win7 = {**GOOD, **WINDOWS, "hardware.os_name": "Windows 7 Professional",
            "hardware.os_build": "7601"}
    v = view("tyt", [row("tyt", 1, win7), row("tyt", 2, GOOD)])
    r = results(v)["pc.os_supported"]
    assert (r.status, r.failing_hosts) == (FAIL, ("h1",))
    c = next(c for c in site_json(v, TARGETS, True)["checks"] if c["check"] == "pc.os_supported")
    assert c["failing_hosts"][0]["why"] == "Windows 7 SP1"


def test_a_lifecycle_file_error_names_its_line():
    text = ("version: 1\nsources: {ms: Microsoft}\nwindows:\n"
            "  - {product: client, build: 7601, release: W7, ends: 2020-01-14, source: msft}\n")
    with pytest.raises(ConfigError) as e:
        parse_lifecycle(parse_yaml(text, "os.yaml"), "os.yaml")
    assert str(e.value).startswith("os.yaml:4") and "source" in str(e.value)


# --- dates ---------------------------------------------------------------------------------


def test_a_plans_target_past_its_year_says_it_is_carried_forward():
    """Before: targets from the 2025 plan had no end, and a 2026 report did not say that
    it judged 2026 by the 2025 plan."""
    t = TARGETS["pc.ram_ssd"]
    assert (t.effective_from, t.effective_to) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert t.basis(dt.date(2025, 6, 1)) == "in_force"
    assert t.basis(dt.date(2026, 6, 1)) == "carried_forward"
    assert t.basis(dt.date(2024, 6, 1)) is None
    v = view("bv", [row("bv", 1, GOOD)])
    c = next(c for c in site_json(v, TARGETS, True)["checks"] if c["check"] == "pc.ram_ssd")
    assert c["rule"]["basis"] == "carried_forward" and "31/12/2025" in c["rule"]["note_vi"]
    stop = parse_targets(parse_yaml("version: 1\ntargets:\n  - {id: pc.ram_ssd, "
                                    "carry_forward: false}\n", "p.yaml"), "p.yaml", TARGETS)
    assert stop["pc.ram_ssd"].basis(dt.date(2026, 6, 1)) is None


def test_every_default_target_says_its_site_types_and_dates():
    text = (ROOT / "configs/targets.yaml").read_text(encoding="utf-8")
    blocks = text.split("\n  - id: ")[1:]
    assert len(blocks) == len(TARGETS)
    for block in blocks:
        assert "site_types:" in block and "effective_from:" in block, block.split("\n")[0]
        if 'source: "Kế hoạch chuyển đổi số 2025' in block:  # a plan's year, nothing else
            assert "effective_to: 2025-12-31" in block, block.split("\n")[0]


# --- the year-end report ----------------------------------------------------------------------


def test_year_end_report_shows_waivers_roles_unmanaged_and_site_types():
    policy = Policy(waivers=waivers())
    off = {**GOOD, "firewall.inbound_filtering": False}
    bv_rows = [row("bv", 1, GOOD), row("bv", 2, OLD),
               row("bv", 3, {**OLD, "hardware.system_role": "server"})]
    details = [site_json(view("bv", bv_rows, policy,
                              devices=[seen(20, "02:00:00:00:00:20")]), TARGETS, True),
               site_json(view("tyt", [row("tyt", 4, off)], policy), TARGETS, True)]
    report = build(details, year=2026, as_of=dt.datetime.fromtimestamp(NOW), province="P")
    summary = {r.check: r for r in report.summary}
    ram = summary["pc.ram_ssd"]
    assert "bệnh viện" in ram.applies_to and "trạm y tế" not in ram.applies_to
    assert "máy trạm" in ram.applies_to and "áp dụng tiếp" in ram.rule_note
    assert "1 không có tác tử" in ram.achieved and "1 máy miễn trừ" in ram.achieved
    # the station's failing PC is waived: left out, the hospital's PC without an agent
    # leaves the province's figure unknown, not failed
    fw = summary["pc.firewall"]
    assert fw.status == "unknown" and "1 cơ sở miễn trừ" in fw.achieved
    bv = next(s for s in report.sites if s.id == "bv")
    assert bv.roles == {"workstation": 2, "server": 1} and bv.unmanaged_pcs == 1
    assert {(w["site"], w["check"]) for w in report.waivers} == {
        ("tyt", "pc.firewall"), ("bv", "pc.ram_ssd")}  # the expired one is not listed


def test_waiver_model_in_force_dates():
    w = Waiver("s", "pc.firewall", None, "r", "a", "d", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert w.in_force(dt.date(2026, 1, 31)) and not w.in_force(dt.date(2026, 2, 1))
    assert Waivers((w,)).in_force(dt.date(2026, 2, 1)) == ()


def test_a_host_listing_for_the_facts_the_checks_derive():
    """The judged facts a target may name are known to the targets file's validation."""
    assert {"os.supported", "host.role"} <= known_facts()["host"]
    hosts = (HostFacts("h1", "pc-1", NOW, {**GOOD}, "server"),)
    (r,) = evaluate(SiteInput("bv", "hospital", hosts, {}), [TARGETS["pc.ram_ssd"]],
                    now=NOW, stale_after=DAY)
    assert r.status == UNKNOWN and "another role" in r.reason


def test_the_terminal_table_wraps_long_titles_instead_of_cutting_them():
    """Before: target titles were cut at 70 characters."""
    from yte_compliance.exporters.table import TITLE_WIDTH

    v = view("bv", [row("bv", 1, GOOD)])
    detail = site_json(v, TARGETS, True)
    table = format_site(detail)
    for c in detail["checks"]:
        words = c["title_vi"].split()
        assert all(w in table for w in words), c["title_vi"]
    long = max(detail["checks"], key=lambda c: len(c["title_vi"]))
    assert len(long["title_vi"]) > TITLE_WIDTH  # the case is really exercised
    assert long["title_vi"].split()[-1] in table


def test_sheet_names_are_full_names_or_numbered_with_an_index():
    from types import SimpleNamespace

    from yte_compliance.exporters.render import _sheet_names

    sites = [SimpleNamespace(name=n) for n in (
        "Trạm Y tế xã A", "Trung tâm Y tế huyện Đức Trọng, tỉnh Lâm Đồng",  # 45 characters
        "Trạm Y tế xã A", "Phòng khám 1/2", "Tổng hợp")]
    assert _sheet_names(sites, {"Tổng hợp"}) == [
        "Trạm Y tế xã A", "Cơ sở 2", "Cơ sở 3", "Cơ sở 4", "Cơ sở 5"]  # never cut mid-word


def test_the_form_heading_from_the_collector_config(tmp_path):
    from yte_compliance.collector.config import Issuer
    from yte_compliance.exporters.yearly import make_heading

    h = make_heading(Issuer(), "Lâm Đồng", None, dt.date(2026, 12, 31))
    assert (h.parent_agency, h.agency, h.number, h.place, h.date) == (
        "UBND TỈNH LÂM ĐỒNG", "SỞ Y TẾ", "……./BC-SYT", "Lâm Đồng", "ngày 31 tháng 12 năm 2026")
    h = make_heading(Issuer(signer_name="Nguyễn Văn A", recipients=("Bộ Y tế",)), "Lâm Đồng",
                     "125", dt.date(2027, 1, 5))
    assert h.number == "125/BC-SYT" and h.signer_name == "Nguyễn Văn A"
    assert h.recipients == ["Bộ Y tế"]
