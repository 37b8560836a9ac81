"""Nothing one site does can hurt another: a compromised station PC holding its site's
token attacks the collector on loopback, and every attack fails alone."""

import json
import threading
import time

from click.testing import CliRunner

from tests.fleet import SITES_YAML, calling, make_bed, make_report
from yte_compliance.collector.store import FOREIGN, STORED, HostRow, Incoming, Store

NOW = time.time()


def post(bed, rep, token):
    return bed.call("POST", "/api/v1/reports", rep, token=token)


def post_raw(bed, body: bytes, token):
    return bed.call("POST", "/api/v1/reports", raw=body, token=token)


def site_hosts(app, site: str) -> set[str]:
    return {h.host_id for h in app.state.fleet.current_views()[site].hosts}


def test_a_site_token_cannot_take_over_another_sites_host(running):
    bed, app = running
    assert post(bed, make_report("bv-tinh", "h-bv-1", collected_at=NOW),
                bed.tokens["bv-tinh"])[0] == 201
    # the station's token, reporting the hospital's PC as its own, dated ahead
    hijack = make_report("tyt-xa-a", "h-bv-1", collected_at=NOW + 200, firewall=False)
    status, _, body = post(bed, hijack, bed.tokens["tyt-xa-a"])
    answer = json.loads(body)
    assert status == 403 and answer["reason"] == "host_of_other_site", answer
    assert site_hosts(app, "bv-tinh") == {"h-bv-1"} and site_hosts(app, "tyt-xa-a") == set()
    assert app.state.store.report_count("tyt-xa-a") == 0  # nothing of it was kept
    metrics = bed.call("GET", "/metrics", token=bed.viewer)[2].decode()
    assert 'yte_collector_reports_rejected_total{reason="host_of_other_site"} 1.0' in metrics
    # the hospital's PC keeps reporting into its own site
    assert post(bed, make_report("bv-tinh", "h-bv-1", collected_at=NOW + 1),
                bed.tokens["bv-tinh"])[0] == 201


def test_moving_a_pc_is_an_operators_logged_command(tmp_path):
    from yte_compliance.cli import main as yte

    bed = make_bed(tmp_path / "c")
    with calling(bed) as app:
        assert post(bed, make_report("bv-tinh", "pc-9", collected_at=NOW),
                    bed.tokens["bv-tinh"])[0] == 201
    done = CliRunner().invoke(yte, ["collector", "host", "move", "-c", str(bed.config), "pc-9",
                                          "tyt-xa-a"])
    assert done.exit_code == 0, done.output
    assert "bv-tinh → tyt-xa-a" in done.output and '"event": "host_moved"' in done.output
    with calling(bed) as app:
        assert site_hosts(app, "tyt-xa-a") == {"pc-9"}
        assert post(bed, make_report("tyt-xa-a", "pc-9", collected_at=NOW + 1),
                    bed.tokens["tyt-xa-a"])[0] == 201
        assert post(bed, make_report("bv-tinh", "pc-9", collected_at=NOW + 2),
                    bed.tokens["bv-tinh"])[0] == 403


def test_the_store_itself_refuses_a_host_of_another_site(tmp_path):
    store = Store(tmp_path / "c.db")
    try:
        def row(site, rid, at):
            return HostRow("h1", site, "pc", "linux", "0.1", "agent", rid, at, at, {}, {})

        assert store.ingest(row("a", "r-000001", NOW), "{}") is True
        assert store.ingest_batch([Incoming(row("b", "r-000002", NOW + 9), "{}", "x")]) == [FOREIGN]
        assert [h.site for h in store.hosts()] == ["a"]
    finally:
        store.close()


def test_a_lone_surrogate_is_400_naming_the_field(running):
    bed, _ = running
    body = json.dumps(make_report("tyt-xa-a", "h1", collected_at=NOW)).replace(
        '"pc-h1"', '"a\\ud800b"').encode()
    status, _, answer = post_raw(bed, body, bed.tokens["tyt-xa-a"])
    assert status == 400, answer
    assert json.loads(answer)["field"] == "hostname"
    # the same in a nested fact and in an unknown-reason
    rep = make_report("tyt-xa-a", "h1", collected_at=NOW, media=None)
    text = json.dumps(rep).replace('"virtual disk"', '"v\\udfffd"')
    status, _, answer = post_raw(bed, text.encode(), bed.tokens["tyt-xa-a"])
    assert status == 400 and "hardware.unknown.os_disk_media" in json.loads(answer)["field"]


def test_poisoned_reports_fail_no_other_sites_upload(running):
    """Site A floods poisoned reports while site B sends good ones: every good one lands."""
    bed, app = running
    stop = threading.Event()
    poisoned: list[int] = []

    def attacker():
        n = 0
        while not stop.is_set() and n < 400:  # bounded in count and time
            rep = make_report("tyt-xa-a", f"evil-{n % 3}", collected_at=NOW)
            body = json.dumps(rep).replace(f'"pc-evil-{n % 3}"', '"x\\ud800"').encode()
            poisoned.append(post_raw(bed, body, bed.tokens["tyt-xa-a"])[0])
            n += 1

    threads = [threading.Thread(target=attacker) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        good = [post(bed, make_report("bv-tinh", f"good-{i % 5}", collected_at=NOW - i),
                     bed.tokens["bv-tinh"])[0] for i in range(200)]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert good == [201] * 200
    assert poisoned and set(poisoned) == {400}
    assert app.state.store.report_count("bv-tinh") == 200


def test_one_item_that_fails_in_a_batch_is_undone_alone(tmp_path):
    """Even a failure validation missed (here a value SQLite cannot store) costs only
    its own report: the rest of the batch commits."""
    store = Store(tmp_path / "c.db")
    try:
        def item(host, rid, hostname="pc"):
            return Incoming(HostRow(host, "a", hostname, "linux", "0.1", "agent", rid, NOW, NOW,
                                    {}, {}), "{}", rid)

        results = store.ingest_batch([item("h1", "r-000001"), item("h2", "r-000002", "x\ud800"),
                                      item("h3", "r-000003")])
        assert results[0] == STORED and results[2] == STORED
        assert isinstance(results[1], UnicodeError)
        assert sorted(h.host_id for h in store.hosts()) == ["h1", "h3"]
        assert store.report_count() == 2
    finally:
        store.close()


def test_invented_hosts_are_refused_beyond_the_sites_limit(tmp_path):
    sites = SITES_YAML.replace("    district: Đức Trọng\n",
                               "    district: Đức Trọng\n    expected_hosts: 4\n")
    bed = make_bed(tmp_path / "c", sites_yaml=sites, extra="limits:\n  new_host_margin: 0.25\n")
    tok = bed.tokens["tyt-xa-a"]
    with calling(bed) as app:
        codes = [post(bed, make_report("tyt-xa-a", f"pc-{i}", collected_at=NOW), tok)[0]
                 for i in range(8)]
        assert codes == [201] * 5 + [403] * 3  # 4 PCs declared, 25 % margin: 5
        status, _, body = post(bed, make_report("tyt-xa-a", "pc-99", collected_at=NOW), tok)
        assert status == 403 and json.loads(body)["reason"] == "host_limit"
        assert post(bed, make_report("tyt-xa-a", "pc-0", collected_at=NOW + 1), tok)[0] == 201
        # the hospital declares nothing: the global default applies, far above 8
        assert post(bed, make_report("bv-tinh", "pc-x", collected_at=NOW),
                    bed.tokens["bv-tinh"])[0] == 201
        assert len(site_hosts(app, "tyt-xa-a")) == 5
        metrics = bed.call("GET", "/metrics", token=bed.viewer)[2].decode()
        assert 'yte_collector_new_hosts_refused_total{site="tyt-xa-a"} 4.0' in metrics
        assert 'yte_collector_reports_rejected_total{reason="host_limit"} 4.0' in metrics


def test_a_report_dated_year_1_is_refused(running):
    bed, _ = running
    rep = make_report("tyt-xa-a", "h1", collected_at=NOW)
    rep["collected_at"] = "0001-01-01T00:00:00Z"
    status, _, body = post(bed, rep, bed.tokens["tyt-xa-a"])
    answer = json.loads(body)
    assert status == 400 and answer["reason"] == "too_old" and answer["field"] == "collected_at"
    old = make_report("tyt-xa-a", "h1", collected_at=NOW - 31 * 86400)
    assert post(bed, old, bed.tokens["tyt-xa-a"])[0] == 400
    recent = make_report("tyt-xa-a", "h1", collected_at=NOW - 29 * 86400)
    assert post(bed, recent, bed.tokens["tyt-xa-a"])[0] == 201
