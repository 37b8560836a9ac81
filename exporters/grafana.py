"""Grafana dashboards as code: province overview, site, host. Generated JSON, checked in
under configs/grafana/dashboards/ (`yte exporters dashboards`). Vietnamese titles first."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yte_compliance.checks.targets import Target, load_targets
from yte_compliance.core.protocol import EXAMPLE_PUBLIC_URL, UI_PATH

DS = {"type": "prometheus", "uid": "${datasource}"}
PASS_MAPPINGS = [{"type": "value", "options": {
    "1": {"text": "ĐẠT", "color": "green", "index": 0},
    "0": {"text": "CHƯA ĐẠT", "color": "red", "index": 1}}},
    {"type": "special", "options": {"match": "null", "result": {"text": "CHƯA RÕ",
                                                                  "color": "yellow"}}}]
# A site's result per check: 1 ĐẠT, 0 CHƯA ĐẠT, 2 MIỄN TRỪ (its own series, not a pass),
# 3 CHƯA RÕ (yte_site_check_unknown): every check the site has gets a row, known or not.
VERDICT_MAPPINGS = [{"type": "value", "options": {
    "1": {"text": "ĐẠT", "color": "green", "index": 0},
    "0": {"text": "CHƯA ĐẠT", "color": "red", "index": 1},
    "2": {"text": "MIỄN TRỪ", "color": "blue", "index": 2},
    "3": {"text": "CHƯA RÕ", "color": "yellow", "index": 3}}}, PASS_MAPPINGS[1]]
SITE_FILTER = 'province=~"$province", district=~"$district", site_type=~"$site_type"'


def _verdict(passing: str, waived: str, unknown: str) -> str:
    return f"({passing}) or ({waived} == 1) * 2 or ({unknown} == 1) * 3"


def _link(title: str, url: str) -> list[dict]:
    """A data link: a click on a row opens the next level (province → site → host)."""
    return [{"title": title, "url": url}]


SITE_LINK = _link("Mở cơ sở / open the site",
                  "/d/yte-site?var-site=${__data.fields.site}&${datasource:queryparam}")
HOST_LINK = _link("Mở máy / open the host",
                  "/d/yte-host?var-site=${__data.fields.site}&var-host=${__data.fields.host}"
                  "&${datasource:queryparam}")


def _var(name: str, label: str, query: str, multi: bool = True, regex: str = "") -> dict:
    """A query variable; ``regex`` with named groups text/value shows names, keeps ids."""
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": f"var-{name}"}, "definition": query,
            "refresh": 2, "includeAll": multi, "multi": multi, "allValue": ".*" if multi else None,
            "current": {}, "sort": 1, "regex": regex}


# Prometheus prints a series' labels sorted: name before site, host before hostname
SITE_BY_NAME = '/name="(?<text>[^"]+)".*site="(?<value>[^"]+)"/'
HOST_BY_NAME = '/host="(?<value>[^"]+)".*hostname="(?<text>[^"]+)"/'


def _site_var(selector: str) -> dict:
    query = f"query_result({selector})"
    return _var("site", "Cơ sở / Site", query, False, SITE_BY_NAME)


def _datasource_var() -> dict:
    return {"name": "datasource", "label": "Nguồn dữ liệu / Data source", "type": "datasource",
            "query": "prometheus", "current": {}}


def _target(expr: str, legend: str = "", instant: bool = False, ref: str = "A") -> dict:
    t = {"datasource": DS, "expr": expr, "refId": ref, "legendFormat": legend or "__auto"}
    if instant:
        t.update({"instant": True, "range": False, "format": "table"})
    return t


def _web_link(title: str, url: str) -> dict:
    """A link at the top of a dashboard to the collector's web page of the same place."""
    return {"title": title, "type": "link", "url": url, "targetBlank": True,
            "icon": "external link", "includeVars": False, "keepTime": False}


class Board:
    def __init__(self, uid: str, title: str, variables: list[dict],
                 links: list[dict] | None = None):
        self.uid, self.title, self.variables = uid, title, variables
        self.links = links or []
        self.panels: list[dict] = []
        self._x = self._y = 0
        self._row_h = 0

    def add(self, kind: str, title: str, targets: list[dict], w: int = 12, h: int = 8,
            **extra: Any) -> None:
        if self._x + w > 24:
            self._x, self._y = 0, self._y + self._row_h
            self._row_h = 0
        panel = {"id": len(self.panels) + 1, "type": kind, "title": title, "datasource": DS,
                 "gridPos": {"x": self._x, "y": self._y, "w": w, "h": h}, "targets": targets,
                 "fieldConfig": {"defaults": extra.pop("defaults", {}), "overrides": []},
                 "options": extra.pop("options", {})}
        panel.update(extra)
        self.panels.append(panel)
        self._x += w
        self._row_h = max(self._row_h, h)

    def json(self) -> dict:
        return {"uid": self.uid, "title": self.title, "tags": ["yte"], "timezone": "browser",
                "schemaVersion": 39, "version": 1, "editable": True, "refresh": "1m",
                "time": {"from": "now-7d", "to": "now"},
                "templating": {"list": self.variables}, "links": self.links,
                "panels": self.panels}


def _place_vars() -> list[dict]:
    return [
        _datasource_var(),
        _var("province", "Tỉnh / Province", "label_values(yte_site_info, province)"),
        _var("district", "Huyện / District",
             'label_values(yte_site_info{province=~"$province"}, district)'),
        _var("site_type", "Loại cơ sở / Site type",
             'label_values(yte_site_info{province=~"$province"}, site_type)'),
    ]


NATIONAL = 'province=~"$province"'


def national_overview() -> dict:
    """The country's view, for the national long-term store (VictoriaMetrics or a central
    Prometheus): only the recorded site and province aggregates the provinces send
    (docs/monitoring.md), no per-host series; a year and more of months."""
    variables = [_datasource_var(),
                 _var("province", "Tỉnh / Province",
                      "label_values(province_check:yte_site_check_pass:ratio, province)")]
    b = Board("yte-national", "yte — Toàn quốc / National", variables)
    b.add("table", "Tỷ lệ cơ sở đạt theo tỉnh và chỉ tiêu / Share of sites meeting each target",
          [_target(f"province_check:yte_site_check_pass:ratio{{{NATIONAL}}}", instant=True)],
          w=24, h=10, defaults={"unit": "percentunit", "min": 0, "max": 1},
          transformations=[{"id": "groupingToMatrix", "options": {
              "columnField": "check", "rowField": "province", "valueField": "Value"}}])
    b.add("table", "Cơ sở chưa đạt theo tỉnh / Sites failing a target, per province",
          [_target(f"count by (province, check) "
                   f"(site_check:yte_site_check_pass:info{{{NATIONAL}}} == 0)", instant=True)],
          w=12, h=8)
    b.add("table", "Kết quả chưa rõ theo tỉnh / Unknown results per province",
          [_target(f"province_check:yte_site_check_unknown:sum{{{NATIONAL}}}", instant=True)],
          w=12, h=8)
    b.add("timeseries", "Máy báo cáo theo tỉnh / Reporting PCs per province",
          [_target(f'province:yte_site_hosts:sum{{{NATIONAL}, state="fresh"}}', "{{province}}")],
          w=12, h=8)
    b.add("timeseries", "Theo tháng: tỷ lệ cơ sở đạt / Month by month: share of sites meeting",
          [_target(f"avg by (province, check) (avg_over_time("
                   f"province_check:yte_site_check_pass:ratio{{{NATIONAL}}}[30d]))",
                   "{{province}} {{check}}")], w=12, h=8,
          defaults={"unit": "percentunit", "min": 0, "max": 1},
          interval="1d")
    b.add("table", "Theo loại cơ sở / By site type",
          [_target(f"province_site_type_check:yte_site_check_pass:ratio{{{NATIONAL}}}",
                   instant=True)], w=24, h=8, defaults={"unit": "percentunit"})
    board = b.json()
    board["time"] = {"from": "now-1y", "to": "now"}
    return board


def province_overview(public_url: str = EXAMPLE_PUBLIC_URL) -> dict:
    b = Board("yte-province", "yte — Toàn tỉnh / Province overview", _place_vars(),
              [_web_link("Trang web của tỉnh / the province's web page",
                         f"{public_url}{UI_PATH}/")])
    b.add("stat", "Máy đang báo cáo / Reporting hosts",
          [_target(f'sum(site:yte_site_hosts:info{{{SITE_FILTER}, state="fresh"}})')], w=6, h=4)
    b.add("stat", "Máy quá hạn báo cáo / Stale hosts",
          [_target(f'sum(site:yte_site_hosts:info{{{SITE_FILTER}, state="stale"}})')], w=6, h=4,
          defaults={"thresholds": {"mode": "absolute", "steps": [
              {"color": "green", "value": None}, {"color": "orange", "value": 1}]}})
    b.add("stat", "Kết quả chưa rõ / Unknown results",
          [_target(f'sum(site_check:yte_site_check_unknown:info{{{SITE_FILTER}}})')], w=6, h=4)
    b.add("stat", "Kết quả miễn trừ / Waived results",
          [_target(f'sum(site_check:yte_site_check_waived:info{{{SITE_FILTER}}})')], w=6, h=4)
    b.add("stat", "Cơ sở / Sites", [_target(f'count(yte_site_info{{{SITE_FILTER}}})')], w=6, h=4)
    b.add("table", "Cơ sở × chỉ tiêu (ĐẠT / CHƯA ĐẠT / MIỄN TRỪ / CHƯA RÕ) / Sites × checks",
          [_target(_verdict(f'site_check:yte_site_check_pass:info{{{SITE_FILTER}}}',
                            f'site_check:yte_site_check_waived:info{{{SITE_FILTER}}}',
                            f'site_check:yte_site_check_unknown:info{{{SITE_FILTER}}}'),
                   instant=True)],
          w=24, h=12, defaults={"mappings": VERDICT_MAPPINGS, "links": [
              *SITE_LINK, {"title": "Trang web của cơ sở / the site's web page",
                           "url": f"{public_url}{UI_PATH}/site/${{__data.fields.site}}",
                           "targetBlank": True}],
                                "custom": {"cellOptions": {"type": "color-background"}}},
          transformations=[{"id": "groupingToMatrix", "options": {
              "columnField": "check", "rowField": "name", "valueField": "Value",
              "emptyValue": "null"}}])
    # district honoured too: from the per-site series, not the province recordings
    by_type = (f"avg by (site_type, check) (site_check:yte_site_check_pass:info{{{SITE_FILTER}}})")
    b.add("bargauge", "Tỷ lệ cơ sở đạt theo chỉ tiêu / Share of sites passing, per check",
          [_target(by_type, "{{check}} — {{site_type}}")], w=12, h=10,
          defaults={"unit": "percentunit", "min": 0, "max": 1},
          options={"orientation": "horizontal", "displayMode": "gradient"})
    b.add("timeseries", "Tỷ lệ cơ sở đạt theo thời gian / Share of sites passing over time",
          [_target(f"avg by (check) (site_check:yte_site_check_pass:info{{{SITE_FILTER}}})",
                   "{{check}}")], w=12, h=10, defaults={"unit": "percentunit", "min": 0, "max": 1})
    b.add("bargauge", "Băng thông trung vị theo cơ sở / Median download per site",
          [_target('yte_site_bandwidth_median_download_bytes_per_second * 8 * on (site) '
                   f'group_left (name) yte_site_info{{{SITE_FILTER}}}', "{{name}}")], w=24, h=10,
          defaults={"unit": "bps", "min": 0},
          options={"orientation": "horizontal", "displayMode": "gradient"})
    b.add("geomap", "Bản đồ cơ sở / Sites on the map",
          [_target(f'site_check:yte_site_check_pass:info{{{SITE_FILTER}}} * on (site) '
                   'group_left (latitude, longitude) yte_site_info{latitude!=""}',
                   instant=True)], w=24, h=12,
          options={"view": {"id": "fit"}, "layers": [{
              "type": "markers", "name": "Cơ sở / Sites",
              "location": {"mode": "coords", "latitude": "latitude", "longitude": "longitude"},
              "config": {"showLegend": True, "style": {"color": {"field": "Value"}}}}]},
          defaults={"mappings": PASS_MAPPINGS})
    return b.json()


def site_dashboard(public_url: str = EXAMPLE_PUBLIC_URL, bandwidth_scale: float = 1.0) -> dict:
    variables = _place_vars() + [_site_var(f"yte_site_info{{{SITE_FILTER}}}")]
    b = Board("yte-site", "yte — Cơ sở / Site", variables,
              [_web_link("Trang web của cơ sở: việc cần làm từng máy / the site's web page",
                         f"{public_url}{UI_PATH}/site/${{site}}")])
    b.add("stat", "Máy báo cáo / Reporting hosts",
          [_target('yte_site_hosts{site="$site", state="fresh"}')], w=8, h=4)
    b.add("stat", "Máy quá hạn / Stale hosts",
          [_target('yte_site_hosts{site="$site", state="stale"}')], w=8, h=4)
    b.add("stat", "Chỉ tiêu chưa đạt / Checks not met",
          [_target('count(yte_site_check_pass{site="$site"} == 0) or vector(0)')], w=8, h=4)
    b.add("table", "Chỉ tiêu của cơ sở / The site's checks",
          [_target("(" + _verdict('yte_site_check_pass{site="$site"}',
                                  'yte_site_check_waived{site="$site"}',
                                  'yte_site_check_unknown{site="$site"}')
                   + ') * on (check) group_left (title_vi) yte_check_info', instant=True)],
          w=12, h=10, defaults={"mappings": VERDICT_MAPPINGS})
    b.add("table", "Máy × chỉ tiêu / Hosts × checks",
          [_target('yte_host_check_pass{site="$site"} * on (host) group_left (hostname) '
                   'yte_host_info{site="$site"}', instant=True)], w=12, h=10,
          defaults={"mappings": PASS_MAPPINGS,
                    "custom": {"cellOptions": {"type": "color-background"}}},
          transformations=[{"id": "groupingToMatrix", "options": {
              "columnField": "check", "rowField": "hostname", "valueField": "Value"}}])
    # the target beside the figure: a dashed line at each check's required share
    target_style = {"matcher": {"id": "byRegexp", "options": ".*chỉ tiêu.*"}, "properties": [
        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}
    b.add("timeseries", "Tỷ lệ máy đạt theo thời gian / Share of hosts passing over time",
          [_target('yte_site_check_ratio{site="$site"}', "{{check}}"),
           _target('yte_site_check_target_ratio{site="$site"}', "{{check}} — chỉ tiêu / target",
                   ref="B")], w=12, h=9,
          defaults={"unit": "percentunit", "min": 0, "max": 1})
    b.panels[-1]["fieldConfig"]["overrides"].append(target_style)
    b.add("timeseries", "Băng thông theo thời gian / Bandwidth over time",
          [_target('yte_site_bandwidth_last_download_bytes_per_second{site="$site"} * 8',
                   "tải xuống / download"),
           _target('yte_site_bandwidth_last_upload_bytes_per_second{site="$site"} * 8',
                   "tải lên / upload", ref="B"),
           _target('yte_site_bandwidth_median_download_bytes_per_second{site="$site"} * 8',
                   "trung vị tải xuống / median download", ref="C"),
           # the target is a link rate; the agents measure goodput (scale: the framing)
           _target(f'yte_site_check_threshold{{site="$site", check="site.bandwidth"}}'
                   f' / {bandwidth_scale:g}',
                   "chỉ tiêu, quy ra tốc độ đo / target as measured goodput", ref="D")],
          w=12, h=9, defaults={"unit": "bps", "min": 0})
    b.panels[-1]["fieldConfig"]["overrides"].append(target_style)
    # a month per bar: the share of the month each target was met (Prometheus keeps 30
    # days; a year of months comes from the national store, or the web page's trend)
    b.add("barchart", "Theo tháng: phần thời gian đạt / Month by month: share of time met",
          [_target('avg_over_time(site_check:yte_site_check_pass:info{site="$site"}[30d])',
                   "{{check}}")], w=24, h=8, interval="30d",
          defaults={"unit": "percentunit", "min": 0, "max": 1},
          timeFrom="1y")
    b.add("table", "Các máy / Hosts",
          [_target('yte_host_info{site="$site"}', instant=True)], w=24, h=8,
          defaults={"links": HOST_LINK})
    b.add("table", "Miễn trừ và ngày hết hạn / Waivers and when they end",
          [_target('yte_site_waiver_expiry_timestamp_seconds{site="$site"} * 1000',
                   instant=True)], w=24, h=6, defaults={"unit": "dateTimeAsIso"})
    return b.json()


def host_dashboard(public_url: str = EXAMPLE_PUBLIC_URL) -> dict:
    variables = [_datasource_var(), _site_var("yte_site_info"),
                 _var("host", "Máy / Host", 'query_result(yte_host_info{site="$site"})', False,
                      HOST_BY_NAME)]
    b = Board("yte-host", "yte — Máy / Host", variables,
              [_web_link("Việc cần làm của máy / the PC's to-do list",
                         f"{public_url}{UI_PATH}/site/${{site}}/pc/${{host}}")])
    b.add("stat", "Báo cáo gần nhất / Last report",
          [_target('time() - yte_host_last_report_timestamp_seconds{host="$host"}')], w=6, h=4,
          defaults={"unit": "s"})
    b.add("stat", "Tường lửa / Firewall", [_target('yte_host_firewall_enabled{host="$host"}')],
          w=6, h=4, defaults={"mappings": PASS_MAPPINGS})
    b.add("stat", "Diệt virus / Antivirus", [_target('yte_host_antivirus_running{host="$host"}')],
          w=6, h=4, defaults={"mappings": PASS_MAPPINGS})
    b.add("stat", "Ổ hệ điều hành SSD / OS on SSD", [_target('yte_host_os_disk_ssd{host="$host"}')],
          w=6, h=4, defaults={"mappings": PASS_MAPPINGS})
    b.add("timeseries", "Bộ nhớ / Memory",
          [_target('yte_host_memory_installed_bytes{host="$host"}', "lắp đặt / installed"),
           _target('yte_host_memory_usable_bytes{host="$host"}', "sử dụng được / usable", ref="B")],
          w=12, h=8, defaults={"unit": "bytes"})
    b.add("state-timeline", "Chỉ tiêu theo thời gian / Checks over time",
          [_target('yte_host_check_pass{host="$host"}', "{{check}}")], w=12, h=8,
          defaults={"mappings": PASS_MAPPINGS})
    b.add("state-timeline", "Đầu dò đọc được / Probes that read their facts",
          [_target('yte_host_probe_success{host="$host"}', "{{probe}}")], w=24, h=6,
          defaults={"mappings": [{"type": "value", "options": {
              "1": {"text": "OK", "color": "green"}, "0": {"text": "CHƯA RÕ", "color": "yellow"}}}]})
    return b.json()


def render_dashboards(public_url: str = EXAMPLE_PUBLIC_URL,
                      targets: Mapping[str, Target] | None = None) -> dict[str, str]:
    """File name → content; ``public_url``: the collector whose web pages they link to;
    ``targets`` (default: the shipped ones) give the bandwidth target's scale."""
    if targets is None:
        targets = load_targets([])
    bandwidth = targets.get("site.bandwidth")
    scale = bandwidth.all_of[0].scale if bandwidth else 1.0
    boards = {"yte-national.json": national_overview(),
              "yte-province.json": province_overview(public_url),
              "yte-site.json": site_dashboard(public_url, scale),
              "yte-host.json": host_dashboard(public_url)}
    return {name: json.dumps(board, ensure_ascii=False, indent=2) + "\n"
            for name, board in boards.items()}


def expressions(dashboard: dict) -> list[str]:
    """Every PromQL a dashboard runs: panel targets and variable queries (as selectors)."""
    out = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for v in dashboard["templating"]["list"]:
        if v["type"] == "query":
            query = v["query"]["query"]
            if query.startswith("query_result("):
                out.append(query[len("query_result("):-1])
            else:
                out.append(query[len("label_values("):query.rindex(",")])
    return out


def write_dashboards(folder: Path, public_url: str = EXAMPLE_PUBLIC_URL,
                     targets: Mapping[str, Target] | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, content in render_dashboards(public_url, targets).items():
        (folder / name).write_text(content, encoding="utf-8")
        out.append(folder / name)
    return out
