"""The exposition: pinned by a golden file, and its rules checked one by one."""

import datetime as dt
import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fleet import ROOT, SITES_YAML, make_report
from yte_compliance.checks.declarations import parse_declarations
from yte_compliance.checks.policy import Policy
from yte_compliance.checks.targets import load_targets
from yte_compliance.collector.derive import derive
from yte_compliance.collector.sites import parse_sites
from yte_compliance.collector.state import Fleet
from yte_compliance.collector.store import HostRow, Store
from yte_compliance.core.report import parse_report
from yte_compliance.core.yamlconf import load_yaml
from yte_compliance.exporters.prometheus import render

GOLDEN = Path(__file__).parent.parent / "fixtures/metrics/golden.prom"
NOW = 1_790_000_000.0  # 2026-09-21
DAY = 86400.0


def row_of(obj, received=NOW):
    r = parse_report(obj)
    return HostRow(r.host_id, r.site, r.hostname, r.platform, r.agent_version, r.source,
                   r.report_id, r.collected_at, received, derive(r.flat_facts(), ()),
                   {n: {"status": p.status, "reason": p.reason, "unknown": p.unknown}
                    for n, p in r.probes.items()})


@pytest.fixture
def fleet(tmp_path):
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(SITES_YAML)
    decl_file = tmp_path / "decl.yaml"
    decl_file.write_text("version: 1\nsites:\n  bv-tinh:\n    2026: {perimeter_firewall: true}\n"
                         "budgets:\n  bv-tinh:\n    2026: {it_total_million_vnd: 2000, "
                         "security_million_vnd: 150}\n")
    store = Store(tmp_path / "db.sqlite")
    reports = [
        make_report("bv-tinh", "h1", collected_at=NOW - 600,
                    report_id="00000000-0000-0000-0000-000000000001"),
        make_report("bv-tinh", "h2", collected_at=NOW - 600, media="hdd", firewall=False,
                    report_id="00000000-0000-0000-0000-000000000002"),
        make_report("bv-tinh", "h3", collected_at=NOW - 600, media=None, firewall=None,
                    report_id="00000000-0000-0000-0000-000000000003"),
        make_report("tyt-xa-a", "h4", collected_at=NOW - 5 * DAY, ipv6=False,  # stale
                    report_id="00000000-0000-0000-0000-000000000004"),
        make_report("tyt-xa-a", "h5", collected_at=NOW - 40 * DAY,  # forgotten
                    report_id="00000000-0000-0000-0000-000000000005"),
    ]
    for obj in reports:
        store.ingest(row_of(obj), "{}")
    sites = parse_sites(load_yaml(sites_file), sites_file)
    targets = load_targets([ROOT / "configs/targets.yaml"])
    decl = parse_declarations(load_yaml(decl_file), decl_file)
    f = Fleet(store, sites, targets, Policy(declarations=decl), stale_after=3 * DAY,
              forget_after=30 * DAY, clock=lambda: NOW)
    yield f
    store.close()


def exposition(fleet):
    return render(fleet.current_views(), fleet.targets,
                  lambda: {"results": {"accepted": 5}, "rejected": {"invalid": 2}}).decode()


def samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def get(text, name, **labels):
    return samples(text).get((name, tuple(sorted(labels.items()))))


def test_golden(fleet):
    text = exposition(fleet)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "exposition changed: review, then UPDATE_GOLDEN=1"


def test_site_results(fleet):
    text = exposition(fleet)
    # bv-tinh: 3 fresh hosts; RAM+SSD 1 pass, 1 fail (hdd), 1 unknown → 1/3 sure, ≤ 2/3 → unknown
    assert get(text, "yte_site_check_unknown", site="bv-tinh", check="pc.ram_ssd") == 1
    assert get(text, "yte_site_check_pass", site="bv-tinh", check="pc.ram_ssd") is None
    assert get(text, "yte_site_check_ratio", site="bv-tinh", check="pc.ram_ssd") == pytest.approx(1 / 3)
    assert get(text, "yte_site_check_target_ratio", site="bv-tinh", check="pc.ram_ssd") == 0.5
    assert get(text, "yte_site_check_pass", site="bv-tinh", check="pc.firewall") == 0
    assert get(text, "yte_site_check_hosts", site="bv-tinh", check="pc.firewall", result="unknown") == 1
    assert get(text, "yte_site_check_pass", site="bv-tinh", check="site.firewall") == 1
    assert get(text, "yte_site_check_value", site="bv-tinh", check="unit.security_budget") == 0.075
    assert get(text, "yte_site_check_pass", site="bv-tinh", check="unit.security_budget") == 0


def test_unknown_facts_are_absent_not_zero(fleet):
    text = exposition(fleet)
    assert get(text, "yte_host_os_disk_ssd", site="bv-tinh", host="h1") == 1
    assert get(text, "yte_host_os_disk_ssd", site="bv-tinh", host="h2") == 0
    assert get(text, "yte_host_os_disk_ssd", site="bv-tinh", host="h3") is None
    assert get(text, "yte_host_firewall_enabled", site="bv-tinh", host="h3") is None
    assert get(text, "yte_host_probe_success", site="bv-tinh", host="h3", probe="firewall") == 0
    assert get(text, "yte_host_check_pass", site="bv-tinh", host="h3", check="pc.firewall") is None
    assert get(text, "yte_host_check_pass", site="bv-tinh", host="h2", check="pc.firewall") == 0


def test_stale_hosts_keep_identity_only_and_forgotten_hosts_vanish(fleet):
    text = exposition(fleet)
    assert get(text, "yte_host_stale", site="tyt-xa-a", host="h4") == 1
    last = get(text, "yte_host_last_report_timestamp_seconds", site="tyt-xa-a", host="h4")
    assert last == NOW - 5 * DAY
    assert get(text, "yte_host_memory_installed_bytes", site="tyt-xa-a", host="h4") is None
    assert get(text, "yte_site_hosts", site="tyt-xa-a", state="stale") == 1
    assert get(text, "yte_site_check_unknown", site="tyt-xa-a", check="pc.firewall") == 1
    assert 'host="h5"' not in text


def test_no_label_clashes_with_target_labels(fleet):
    for fam in text_string_to_metric_families(exposition(fleet)):
        assert fam.name.startswith("yte_")
        for s in fam.samples:
            assert not {"job", "instance", "type", "env"} & s.labels.keys()


def test_empty_declarations_everything_declared_is_unknown(fleet):
    fleet.policy = Policy()
    fleet.refresh = 0
    text = exposition(fleet)
    assert get(text, "yte_site_check_unknown", site="bv-tinh", check="site.firewall") == 1


def test_a_newly_seen_device_reaches_the_view_and_the_exposition(fleet):
    """The view kept its identity when results, hosts and stale were the same, though it
    also carries devices: a printer discovered later never reached /metrics."""
    from yte_compliance.collector.store import SeenDevice

    before = fleet.current_views()["tyt-xa-a"]
    assert before.devices == ()
    fleet.saw_devices("tyt-xa-a", [SeenDevice("tyt-xa-a", "02:00:00:00:00:99", "198.18.1.99",
                                              "HP", NOW, NOW)])
    after = fleet.current_views()["tyt-xa-a"]
    assert after is not before and [d.mac for d in after.devices] == ["02:00:00:00:00:99"]
    assert get(exposition(fleet), "yte_site_devices", site="tyt-xa-a", state="unmanaged") == 1.0
    # nothing changed since: the same object, so nothing downstream renders it again
    assert fleet.current_views()["tyt-xa-a"] is after


def test_only_sites_whose_results_time_changes_are_judged_again(tmp_path):
    """Before, every site was judged again every minute; now a site is judged again at
    the moment time alone changes it (here: its one host turning stale), and no other."""
    sites_file = tmp_path / "sites.yaml"
    sites_file.write_text(SITES_YAML)
    store = Store(tmp_path / "db.sqlite")
    store.ingest(row_of(make_report("bv-tinh", "h1", collected_at=NOW - 600)), "{}")
    store.ingest(row_of(make_report("tyt-xa-a", "h2", collected_at=NOW - DAY)), "{}")
    now = [NOW]
    f = Fleet(store, parse_sites(load_yaml(sites_file), sites_file),
              load_targets([ROOT / "configs/targets.yaml"]), Policy(), stale_after=3 * DAY,
              forget_after=30 * DAY, clock=lambda: now[0])
    try:
        f.current_views()
        assert f.evaluations == 2
        midnight = dt.datetime.combine(dt.date.fromtimestamp(NOW) + dt.timedelta(days=1),
                                       dt.time()).timestamp()  # every site is judged then
        for minutes in (1, 5, 60):  # scrapes with nothing due: no site judged
            if NOW + minutes * 60 < midnight:
                now[0] = NOW + minutes * 60
                f.current_views()
        assert f.evaluations == 2
        now[0] = NOW + 2 * DAY + 60  # tyt-xa-a's host turns stale (it reported a day before)
        views = f.current_views()
        assert "h2" in views["tyt-xa-a"].stale and "h1" not in views["bv-tinh"].stale
        assert f._due["bv-tinh"] > now[0] and f._due["tyt-xa-a"] > now[0]
    finally:
        store.close()


def test_per_host_series_can_be_switched_off_for_a_very_large_province(fleet):
    from yte_compliance.exporters.prometheus import Renderer

    full = Renderer(process=False).render(fleet.current_views(), fleet.targets).decode()
    lean = Renderer(process=False, per_host=False).render(fleet.current_views(),
                                                          fleet.targets).decode()
    assert "yte_host_info{" in full and "yte_host_" not in lean
    site = [line for line in full.splitlines() if line.startswith("yte_site_")]
    assert site and site == [line for line in lean.splitlines() if line.startswith("yte_site_")]


def test_gzip_body_is_the_plain_body_after_each_change(fleet):
    """The gzip body is put together from pieces compressed site by site: after a report
    to one site, and for a reader who sees one site only, it still inflates to exactly
    the plain body (Prometheus asks for gzip; a person with curl may not)."""
    import gzip

    from yte_compliance.exporters.prometheus import MetricsCache

    counts = {"results": {"accepted": 5}}
    cache = MetricsCache(fleet, lambda: counts)
    before = cache.get(want_gzip=True)
    assert gzip.decompress(before) == cache.get(want_gzip=False)
    fleet.accept(row_of(make_report("bv-tinh", "h2", collected_at=NOW - 60, firewall=True,
                                    report_id="00000000-0000-0000-0000-000000000012")))
    counts = {"results": {"accepted": 6}}
    after = cache.get(want_gzip=True)
    plain = cache.get(want_gzip=False)
    assert after != before and gzip.decompress(after) == plain
    assert 'yte_host_firewall_enabled{site="bv-tinh",host="h2"} 1.0' in plain.decode()
    assert 'yte_collector_reports_total{result="accepted"} 6.0' in plain.decode()
    one = cache.get(want_gzip=True, only={"tyt-xa-a"})
    assert gzip.decompress(one) == cache.get(want_gzip=False, only={"tyt-xa-a"})
    assert b'site="tyt-xa-a"' in gzip.decompress(one) and b"bv-tinh" not in gzip.decompress(one)
