"""The dashboards as a reader needs them (every query also runs on a real Prometheus in
tests/integration/test_monitoring_e2e.py): CHƯA RÕ shown, names not ids, the district
honoured, links down a level, the target beside the figure."""

import re

from yte_compliance.exporters.grafana import (
    HOST_BY_NAME,
    SITE_BY_NAME,
    host_dashboard,
    province_overview,
    site_dashboard,
)


def panel(board: dict, title_start: str) -> dict:
    return next(p for p in board["panels"] if p["title"].startswith(title_start))


def test_unknown_shows_as_chua_ro_not_as_a_missing_row():
    """Before: the table was built from yte_site_check_pass alone, absent when unknown:
    a site with 3 known checks of 12 showed 3 rows and CHƯA RÕ never appeared."""
    for board, title in ((province_overview(), "Cơ sở × chỉ tiêu"),
                         (site_dashboard(), "Chỉ tiêu của cơ sở")):
        p = panel(board, title)
        assert "yte_site_check_unknown" in p["targets"][0]["expr"]
        texts = {v["text"] for m in p["fieldConfig"]["defaults"]["mappings"]
                 if m["type"] == "value" for v in m["options"].values()}
        assert {"ĐẠT", "CHƯA ĐẠT", "MIỄN TRỪ", "CHƯA RÕ"} <= texts


def test_dropdowns_show_names_and_keep_ids():
    site_var = next(v for v in site_dashboard()["templating"]["list"] if v["name"] == "site")
    assert site_var["regex"] == SITE_BY_NAME and site_var["query"]["query"].startswith(
        "query_result(yte_site_info")
    host_var = next(v for v in host_dashboard()["templating"]["list"] if v["name"] == "host")
    assert host_var["regex"] == HOST_BY_NAME


def test_every_province_panel_honours_the_district():
    """Before: two province panels read recordings without the district."""
    for p in province_overview()["panels"]:
        for t in p["targets"]:
            if "yte_site" in t["expr"] or "site_check:" in t["expr"]:
                assert 'district=~"$district"' in t["expr"], (p["title"], t["expr"])


def test_links_down_a_level_and_the_target_beside_the_figure():
    province = panel(province_overview(), "Cơ sở × chỉ tiêu")
    assert "/d/yte-site?var-site=${__data.fields.site}" in \
        province["fieldConfig"]["defaults"]["links"][0]["url"]
    hosts = panel(site_dashboard(), "Các máy")
    assert "/d/yte-host?" in hosts["fieldConfig"]["defaults"]["links"][0]["url"]
    share = panel(site_dashboard(), "Tỷ lệ máy đạt theo thời gian")
    assert any("yte_site_check_target_ratio" in t["expr"] for t in share["targets"])


def test_each_dashboard_links_the_web_page_of_the_same_place():
    from yte_compliance.exporters.grafana import host_dashboard, province_overview, site_dashboard

    url = "https://yte.soyte.example.vn"
    assert province_overview(url)["links"][0]["url"] == f"{url}/ui/"
    assert site_dashboard(url)["links"][0]["url"] == f"{url}/ui/site/${{site}}"
    assert host_dashboard(url)["links"][0]["url"] == f"{url}/ui/site/${{site}}/pc/${{host}}"
    table = next(p for p in province_overview(url)["panels"] if p["type"] == "table")
    urls = [link["url"] for link in table["fieldConfig"]["defaults"]["links"]]
    assert f"{url}/ui/site/${{__data.fields.site}}" in urls  # and the Grafana site dashboard


def test_the_bandwidth_panel_draws_the_target_on_the_measured_scale():
    """The target is a link rate, the agents measure goodput: the dashed line is the
    threshold divided by the target's framing scale, so a site on the line passes."""
    from yte_compliance.checks.targets import load_targets

    scale = load_targets([])["site.bandwidth"].all_of[0].scale
    bandwidth = panel(site_dashboard(bandwidth_scale=scale), "Băng thông theo thời gian")
    line = bandwidth["targets"][-1]
    assert line["expr"] == ('yte_site_check_threshold{site="$site", check="site.bandwidth"}'
                            f" / {scale:g}")
    styled = bandwidth["fieldConfig"]["overrides"][0]["matcher"]["options"]
    assert re.match(styled, line["legendFormat"])  # drawn dashed
