"""The collector's services called directly: no HTTP, no server, an injected clock."""

import asyncio

import pytest

from tests.fleet import make_bed, make_report
from yte_compliance.collector.config import load_collector_config
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.service import open_collector
from yte_compliance.core.report import parse_report

NOW = 1_800_000_000.0


@pytest.fixture
def collector(tmp_path):
    bed = make_bed(tmp_path / "c", extra="limits:\n  body_timeout_seconds: 1\n"
                                         "  reports_per_host_per_minute: 1\n  burst_per_host: 2\n")
    clock = [NOW]
    c = open_collector(load_collector_config(bed.config), lambda: clock[0])
    c.bed, c.now = bed, clock  # the test's handles on the files and the clock
    yield c
    c.close()


def report(**kw):
    return parse_report(make_report("tyt-xa-a", kw.pop("host", "h1"),
                                    collected_at=kw.pop("at", NOW), **kw))


def reason(call) -> str:
    with pytest.raises(Refused) as e:
        call()
    return e.value.reason


def test_admit_checks_in_order_without_any_disk(collector):
    r = collector.reception
    assert reason(lambda: r.admit("bv-tinh", report())) == "forbidden"
    assert reason(lambda: r.admit("tyt-xa-a", report(at=NOW + 3600))) == "clock_skew"
    assert reason(lambda: r.admit("tyt-xa-a", report(at=NOW - 40 * 86400))) == "too_old"
    row = r.admit("tyt-xa-a", report())
    assert row.site == "tyt-xa-a" and row.received_at == NOW
    assert row.facts["hardware.os_disk_media"] == "ssd"
    r.admit("tyt-xa-a", report())  # the burst of 2 …
    assert reason(lambda: r.admit("tyt-xa-a", report())) == "rate_limited"  # … is spent
    collector.now[0] += 60  # a minute on the injected clock refills one
    r.admit("tyt-xa-a", report())


def test_submit_stores_and_answers_like_the_api(collector):
    body = report().to_json_obj()
    import json

    raw = json.dumps(body).encode()

    async def chunks():
        yield raw

    token = collector.bed.tokens["tyt-xa-a"]
    answer = asyncio.run(collector.reception.submit(f"Bearer {token}", str(len(raw)),
                                                    chunks(), None))
    assert answer[0] == 201 and answer[1]["status"] == "stored"
    again = asyncio.run(collector.reception.submit(f"Bearer {token}", str(len(raw)),
                                                   chunks(), None))
    assert again[0] == 200 and again[1]["status"] == "duplicate"
    assert collector.store.report_count() == 1
    assert collector.counters.snapshot()["results"] == {"accepted": 1, "duplicate": 1}


def test_bodies_are_bounded_in_size_and_in_time(collector):
    r = collector.reception

    async def endless():  # no declared length: counted as it comes
        while True:
            yield b"x" * 65536

    async def trickle():
        for _ in range(10):
            await asyncio.sleep(0.5)
            yield b"x"

    with pytest.raises(Refused) as big:
        asyncio.run(r.read_body("", endless()))
    assert big.value.status == 413
    with pytest.raises(Refused) as slow:
        asyncio.run(r.read_body("10", trickle()))
    assert slow.value.status == 408 and slow.value.reason == "body_timeout"


def test_reading_needs_a_viewer_and_keeps_to_its_scope(collector):
    from yte_compliance.collector.tokens import new_token

    reading = collector.reading
    assert reason(lambda: reading.sites("")) == "unauthorized"
    assert reason(lambda: reading.sites(f"Bearer {collector.bed.tokens['bv-tinh']}")) == \
        "unauthorized"  # a site token writes; it does not read
    plain, stored = new_token()
    collector.store.add_viewer("one station", "site:tyt-xa-a", stored)
    listed = reading.sites(f"Bearer {plain}")["sites"]
    assert [s["site"]["id"] for s in listed] == ["tyt-xa-a"]
    assert reason(lambda: reading.site(f"Bearer {plain}", "bv-tinh")) == "out_of_scope"
    assert reason(lambda: reading.site(f"Bearer {plain}", "nope")) == "not_found"
    # no exposition given to this collector (the apps layer gives the exporters')
    assert reason(lambda: reading.metrics(f"Bearer {plain}", False)) == "not_found"
