"""The monitoring stack for real: Prometheus scraping the collector with the shipped rules,
Alertmanager routing to a webhook, every dashboard and rule expression run, and a central
Prometheus federating two provinces."""

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml

from tests.fleet import ROOT, http, make_bed, make_report, serving
from tests.monitoring import Alertmanager, Prometheus, Webhook
from yte_compliance.checks.targets import load_targets
from yte_compliance.exporters.grafana import expressions, render_dashboards
from yte_compliance.exporters.rules import RECORDING, render_rules

pytestmark = pytest.mark.integration
YEAR = time.gmtime().tm_year
NOW = time.time()

SITES = """version: 1
sites:
  - id: bv-tinh
    name: Bệnh viện tỉnh
    type: hospital
    province: {province}
    district: Trung tâm
    latitude: 11.9415
    longitude: 108.4583
    subnets: ['198.18.{net}.0/24']
    expected_hosts: 1  # with the default 25 % margin: 2 PCs may report
  - id: tyt-xa-a
    name: Trạm Y tế xã A
    type: commune_station
    province: {province}
    district: Đức Trọng
"""
_DECLARED = ("perimeter_firewall", "lan_fiber", "router", "wifi_internal", "wifi_patients")
GOOD = "{" + ", ".join(f"{k}: true" for k in _DECLARED) + "}"
BAD = "{" + ", ".join(f"{k}: false" for k in _DECLARED) + "}"
DECLARATIONS = f"""version: 1
sites:
  bv-tinh:
    {YEAR}: {BAD}
  tyt-xa-a:
    {YEAR}: {GOOD}
budgets:
  bv-tinh:
    {YEAR}: {{it_total_million_vnd: 2000, security_million_vnd: 100}}
  tyt-xa-a:
    {YEAR}: {{it_total_million_vnd: 50, security_million_vnd: 10}}
plans:
  bv-tinh:
    - {{id: KH-1, name: Kế hoạch, from_year: {YEAR - 1}, to_year: {YEAR + 1},
       budget: {{it_total_million_vnd: 9000, security_million_vnd: 90}}}}
"""


def waivers(prefix=""):
    """One waiver expired yesterday, one ending in ten days (neither changes a verdict the
    tests read: the checks they name are unknown or off at those sites)."""
    day = 86400
    expired = time.strftime("%Y-%m-%d", time.localtime(NOW - day))
    soon = time.strftime("%Y-%m-%d", time.localtime(NOW + 10 * day))
    granted = time.strftime("%Y-%m-%d", time.localtime(NOW - 30 * day))
    entry = ("  - {{site: {site}, check: {check}, reason: Thử / test, approved_by: Sở Y tế, "
             "decision: QĐ 1/QĐ-SYT, granted: " + granted + ", expires: {expires}}}\n")
    return ("version: 1\nwaivers:\n"
            + entry.format(site=f"{prefix}bv-tinh", check="pc.antivirus_signatures",
                           expires=expired)
            + entry.format(site=f"{prefix}tyt-xa-a", check="unit.security_budget_plan",
                           expires=soon))


def running_collector(folder, province="Lâm Đồng", sites_prefix=""):
    sites = SITES.format(province=province, net=2 if sites_prefix else 1)
    decl = DECLARATIONS
    if sites_prefix:
        sites = sites.replace("id: bv-tinh", f"id: {sites_prefix}bv-tinh").replace(
            "id: tyt-xa-a", f"id: {sites_prefix}tyt-xa-a")
        decl = decl.replace("  bv-tinh:", f"  {sites_prefix}bv-tinh:").replace(
            "  tyt-xa-a:", f"  {sites_prefix}tyt-xa-a:")
    bed = make_bed(folder, sites_yaml=sites, declarations=decl,
                   site_ids=(f"{sites_prefix}bv-tinh", f"{sites_prefix}tyt-xa-a"),
                   # the discovered PC without an agent shows in the devices series; it
                   # is not counted as unknown here, so bv-tinh fails every check
                   extra="waivers_file: waivers.yaml\ncount_unmanaged_pcs: false\n")
    (folder / "waivers.yaml").write_text(waivers(sites_prefix), encoding="utf-8")
    served = serving(bed.config)
    served.__enter__()
    return bed, lambda: served.__exit__(None, None, None)


def post(bed, site, host, **facts):
    rep = make_report(site, host, collected_at=facts.pop("collected_at", time.time()), **facts)
    status = http("POST", bed.url + "/api/v1/reports", rep, token=bed.tokens[site])[0]
    assert status == 201


def prometheus_config(targets, *, token, alertmanager=None, interval="1s"):
    """Scrapes the collector with its viewer ``token``, as the shipped config does."""
    alerting = ""
    if alertmanager:
        alerting = ("alerting:\n  alertmanagers:\n    - static_configs:\n"
                    f"        - targets: ['127.0.0.1:{alertmanager.port}']\n")
    return (f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n"
            "rule_files: [yte-recording.yml, yte-alerts.yml]\n" + alerting +
            "scrape_configs:\n  - job_name: yte\n"
            f"    authorization:\n      type: Bearer\n      credentials: {token}\n"
            "    static_configs:\n"
            f"      - targets: [{', '.join(repr(t) for t in targets)}]\n")


# what docs/monitoring.md tells a province to add: its aggregates only, to the nation
REMOTE_WRITE = """remote_write:
  - url: {url}
    write_relabel_configs:
      - source_labels: [__name__]
        regex: 'site_check:.*|site:.*|province.*:.*'
        action: keep
"""


def rules(for_override=None):
    targets = load_targets([ROOT / "configs/targets.yaml"])
    return render_rules(targets.values(), for_override=for_override)


@pytest.fixture
def province(tmp_path):
    """A fleet where bv-tinh fails every enabled check and tyt-xa-a passes them all."""
    bed, stop = running_collector(tmp_path / "collector")
    post(bed, "bv-tinh", "h-b1", media="hdd", firewall=False, antivirus=False, ipv6=False,
         bandwidth_bps=40e6, os_version="10")  # Debian 10: no security updates since 2024
    post(bed, "bv-tinh", "h-b2", collected_at=NOW - 4 * 86400)  # stale
    post(bed, "tyt-xa-a", "h-a1")
    post(bed, "tyt-xa-a", "h-a2")
    seen = {"scanned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "devices": [{"ip": "198.18.1.50", "mac": "02:00:00:00:00:50"}]}  # no agent on it
    assert http("POST", bed.url + "/api/v1/discoveries", seen, token=bed.tokens["bv-tinh"])[0] == 201
    prom = Prometheus(tmp_path / "prometheus",
                      prometheus_config([f"127.0.0.1:{bed.port}"], token=bed.viewer), rules())
    prom.wait_for('province_check:yte_site_check_pass:ratio', lambda r: len(r) >= 12)
    # one PC too many, once Prometheus has seen the counter at 0
    invented = make_report("bv-tinh", "h-b9", collected_at=NOW)
    assert http("POST", bed.url + "/api/v1/reports", invented,
                token=bed.tokens["bv-tinh"])[0] == 403
    prom.wait_for('yte_collector_new_hosts_refused_total{site="bv-tinh"} > 0', bool)
    prom.wait_for('increase(yte_collector_new_hosts_refused_total[1h]) > 0', bool)
    # one PC enrolls with the station's secret, once the counter was seen at 0
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    secret, stored = new_token()
    store = Store(bed.folder / "collector.db")
    store.add_enrollment("tyt-xa-a", "e2e", stored)
    store.close()
    assert http("POST", bed.url + "/api/v1/enroll", {"host_id": "h-a3", "hostname": "TYT-PC03"},
                token=secret)[0] == 201
    prom.wait_for('increase(yte_collector_enrollments_total[1d]) > 0', bool)
    yield bed, prom
    prom.stop()
    stop()


def _substitute(expr: str) -> str:
    return (expr.replace('"$province"', '".*"').replace('"$district"', '".*"')
            .replace('"$site_type"', '".*"').replace("$site", "bv-tinh").replace("$host", "h-b1"))


def test_every_dashboard_and_rule_expression_parses_and_returns_data(province):
    bed, prom = province
    alert_exprs = [r["expr"] for r in yaml.safe_load(rules()["yte-alerts.yml"])["groups"][0]["rules"]]
    collector_down = [e for e in alert_exprs if 'job="yte"' in e]
    checked = 0
    for name, content in render_dashboards().items():
        for expr in expressions(json.loads(content)):
            assert prom.query(_substitute(expr)), f"{name}: no data for {expr}"
            checked += 1
    for record, expr in RECORDING:
        assert prom.query(expr), f"recording rule {record}: no data"
        assert prom.query(record), f"{record} was not recorded"
        checked += 1
    for expr in alert_exprs:
        result = prom.query(expr)  # parses in every case …
        if expr in collector_down:
            assert result == [], f"{expr} fires while the collector is up"
        elif " offset " in expr:
            # a window of a day or a week: the fleet is minutes old, so the alert cannot
            # hold yet (it judges no site on days it was not there); its failing part does
            assert result == [], f"{expr} holds on a fleet minutes old"
            failing = expr.split(" and on ")[0].lstrip("(")
            assert prom.query(failing), f"no site fails now: {failing}"
        else:
            assert result, f"alert expression returned no data on a failing fleet: {expr}"
        checked += 1
    assert checked >= 40


def test_alertmanager_sends_one_grouped_notification_and_a_resolved_one(tmp_path):
    bed, stop = running_collector(tmp_path / "collector")
    hook = Webhook()
    shipped = yaml.safe_load((ROOT / "configs/alertmanager/alertmanager.yml").read_text())
    for receiver in shipped["receivers"]:  # the shipped routing tree, delivered to the test
        for key in [k for k in receiver if k.endswith("_configs")]:
            del receiver[key]
        receiver["webhook_configs"] = [{"url": hook.url, "send_resolved": True}]
    shipped["global"] = {"resolve_timeout": "5m"}
    shipped["route"].update(group_wait="1s", group_interval="2s", repeat_interval="1h")
    am = Alertmanager(tmp_path / "alertmanager", yaml.safe_dump(shipped, allow_unicode=True))
    prom = None
    try:
        post(bed, "tyt-xa-a", "h-a1")
        post(bed, "tyt-xa-a", "h-a2")
        prom = Prometheus(tmp_path / "prometheus", prometheus_config(
            [f"127.0.0.1:{bed.port}"], token=bed.viewer, alertmanager=am),
            rules(for_override="0s"))
        prom.wait_for('yte_site_check_pass{site="tyt-xa-a",check="pc.firewall"}',
                      lambda r: r and r[0]["value"][1] == "1")
        time.sleep(3)

        def site_notes(status):
            return [n for n in hook.notifications if n["status"] == status
                    and n["groupLabels"].get("alertname") == "YteSiteCheckFailing"
                    and n["groupLabels"].get("site") == "tyt-xa-a"]

        assert site_notes("firing") == []  # a compliant site raises nothing
        post(bed, "tyt-xa-a", "h-a2", firewall=False)  # the site falls out of compliance
        deadline = time.monotonic() + 40
        while not site_notes("firing") and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(5)  # anything else the group would send
        firing = site_notes("firing")
        # critical: one grouped message to the duty phone and one to e-mail and tickets
        assert sorted(n["receiver"] for n in firing) == ["lam-dong-cntt", "lam-dong-truc"], \
            hook.notifications
        alerts = firing[0]["alerts"]
        assert [a["labels"]["check"] for a in alerts] == ["pc.firewall"]
        # the PC's own alert for the same check is held back: one message per cause
        assert not [n for n in hook.notifications
                    if n["groupLabels"].get("alertname") == "YteHostFirewallOff"]
        labels = alerts[0]["labels"]
        assert (labels["site"], labels["province"], labels["severity"]) == (
            "tyt-xa-a", "Lâm Đồng", "critical")
        assert alerts[0]["annotations"]["runbook_url"].endswith("#pc-firewall")

        post(bed, "tyt-xa-a", "h-a2", firewall=True)  # fixed
        deadline = time.monotonic() + 60
        while not site_notes("resolved") and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # both receivers' resolved messages
        resolved = site_notes("resolved")
        assert len(resolved) == 2
        assert {n["alerts"][0]["labels"]["check"] for n in resolved} == {"pc.firewall"}
    finally:
        if prom:
            prom.stop()
        am.stop()
        hook.stop()
        stop()


@contextmanager
def two_provinces(tmp_path, extra: str = "") -> Iterator[list]:
    """Lâm Đồng and Quảng Ngãi, each a collector (one failing PC's firewall of two) and a
    Prometheus scraping it with the shipped rules and ``extra`` configuration."""
    a, stop_a = running_collector(tmp_path / "ca", "Lâm Đồng")
    b, stop_b = running_collector(tmp_path / "cb", "Quảng Ngãi", sites_prefix="qn-")
    proms: list = []
    try:
        for bed, prefix in ((a, ""), (b, "qn-")):
            post(bed, f"{prefix}bv-tinh", f"{prefix}h1", firewall=False)
            post(bed, f"{prefix}tyt-xa-a", f"{prefix}h2")
            config = prometheus_config([f"127.0.0.1:{bed.port}"], token=bed.viewer) + extra
            proms.append(Prometheus(tmp_path / f"p-{prefix or 'ld'}", config, rules()))
        yield proms
    finally:
        for p in proms:
            p.stop()
        stop_a()
        stop_b()


def test_central_prometheus_federates_site_level_series_only(tmp_path):
    with two_provinces(tmp_path) as proms:
        match = '{__name__=~"site_check:.*|site:.*|province.*:.*"}'
        central = Prometheus(tmp_path / "central", (
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: federate\n"
            "    honor_labels: true\n    metrics_path: /federate\n"
            f"    params:\n      'match[]': ['{match}']\n    static_configs:\n"
            f"      - targets: ['127.0.0.1:{proms[0].port}', '127.0.0.1:{proms[1].port}']\n"))
        proms.append(central)
        both = central.wait_for(
            'count by (province) (site_check:yte_site_check_pass:info)',
            lambda r: {x["metric"]["province"] for x in r} == {"Lâm Đồng", "Quảng Ngãi"},
            timeout=60)
        assert len(both) == 2
        ratio = central.query('province_check:yte_site_check_pass:ratio{check="pc.firewall"}')
        assert {r["metric"]["province"]: float(r["value"][1]) for r in ratio} == {
            "Lâm Đồng": 0.5, "Quảng Ngãi": 0.5}
        assert central.query('{__name__=~"yte_host_.*"}') == []  # no per-host series travel
        assert central.query('{__name__=~"yte_.*"}') == []  # only recorded aggregates
        assert proms[0].query('count({__name__=~"yte_host_.*"})')  # they stay in the province


def test_two_provinces_write_to_victoria_metrics_and_the_national_dashboard_reads_it(tmp_path):
    """The national long-term store for real: each province's Prometheus remote-writes its
    site and province aggregates (the shipped filter) to VictoriaMetrics; every query of
    the national dashboard returns both provinces there, and no per-host series arrived."""
    from tests.monitoring import VictoriaMetrics

    vm = VictoriaMetrics(tmp_path / "vm")
    try:
        with two_provinces(tmp_path, REMOTE_WRITE.format(url=f"{vm.url}/api/v1/write")) as proms:
            check_national_store(vm, proms)
    finally:
        vm.stop()


def check_national_store(vm, proms) -> None:
    """Both provinces' aggregates in VictoriaMetrics; every national query answers both."""
    vm.wait_for('count by (province) (province_check:yte_site_check_pass:ratio)',
                lambda r: {x["metric"]["province"] for x in r} == {"Lâm Đồng", "Quảng Ngãi"},
                timeout=90)
    national = json.loads(render_dashboards()["yte-national.json"])
    for expr in expressions(national):
        found = vm.wait_for(expr.replace('"$province"', '".*"'), bool, timeout=30)
        provinces = {r["metric"].get("province") for r in found}
        assert provinces == {"Lâm Đồng", "Quảng Ngãi"}, (expr, provinces)
    ratio = vm.query('province_check:yte_site_check_pass:ratio{check="pc.firewall"}')
    assert {r["metric"]["province"]: float(r["value"][1]) for r in ratio} == {
        "Lâm Đồng": 0.5, "Quảng Ngãi": 0.5}
    assert vm.query('count({__name__=~"yte_.*"})') == []  # no raw series, no per-host
    assert proms[0].query('count({__name__=~"yte_host_.*"})')  # they stay in the province
