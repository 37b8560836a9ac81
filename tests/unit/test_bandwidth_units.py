"""Bandwidth: the goodput window, latency, iperf3's JSON, leases, the site's median."""

import json
from pathlib import Path

import pytest

from yte_compliance.agent.probes.bandwidth import bytes_at, goodput_bps, latency, parse_iperf3
from yte_compliance.checks.evaluate import SiteInput, evaluate_site
from yte_compliance.checks.targets import load_targets
from yte_compliance.collector.speedtest import Leases, SpeedtestLimits
from yte_compliance.collector.state import bandwidth_facts
from yte_compliance.collector.store import Measurement

FIX = Path(__file__).parent.parent / "fixtures/iperf3"
ROOT = Path(__file__).parent.parent.parent


def test_goodput_leaves_the_ramp_up_out():
    # one stream: slow start (1 MB in the first second), then 10 MB/s steady
    samples = [[(0.0, 0), (1.0, 1_000_000), (2.0, 11_000_000), (3.0, 21_000_000)]]
    assert goodput_bps(samples, 1.0, 3.0) == pytest.approx(80e6)  # 10 MB/s = 80 Mbit/s
    assert goodput_bps(samples, 0.0, 3.0) < 80e6  # counting the ramp-up would under-read
    assert bytes_at(samples[0], 1.5) == pytest.approx(6_000_000)  # interpolated


def test_goodput_sums_streams_and_refuses_an_empty_window():
    samples = [[(0.0, 0), (2.0, 5_000_000)], [(0.0, 0), (2.0, 5_000_000)]]
    assert goodput_bps(samples, 0.0, 2.0) == pytest.approx(40e6)
    with pytest.raises(ValueError):
        goodput_bps(samples, 1.0, 1.0)


def test_latency_and_jitter():
    median, jitter = latency([0.010, 0.012, 0.011, 0.015])
    assert median == pytest.approx(11.5) and jitter == pytest.approx((2 + 1 + 4) / 3)


def test_iperf3_json_recorded_here():
    bps, received, streams = parse_iperf3((FIX / "loopback-2-streams.json").read_text())
    doc = json.loads((FIX / "loopback-2-streams.json").read_text())
    assert bps == doc["end"]["sum_received"]["bits_per_second"] and bps > 0
    assert received > 0 and streams == 2
    with pytest.raises(ValueError, match="Connection refused"):
        parse_iperf3((FIX / "refused.json").read_text())


def test_lease_one_at_a_time_then_due_after_the_period():
    now = [1000.0]
    leases = Leases(SpeedtestLimits(period_seconds=3600, lease_seconds=60),
                    clock=lambda: now[0], rand=lambda a, b: 1.0)
    first, why, _ = leases.request("s", "h1")
    assert first and why is None
    none, why, wait = leases.request("s", "h2")
    assert none is None and "h1" in why and wait == pytest.approx(60)
    assert leases.release("s", first.lease_id)
    none, why, wait = leases.request("s", "h2")  # released, but the site is not due yet
    assert none is None and "due in" in why and wait == pytest.approx(3600)
    now[0] += 3601
    assert leases.request("s", "h2")[0] is not None
    assert leases.request("other", "h9")[0] is not None  # sites do not block each other


def test_site_value_is_the_median_so_one_bad_reading_decides_nothing():
    def m(down):
        return Measurement("s", "h", 0.0, down, None, None, None)

    facts = bandwidth_facts([m(85e6), m(3e6), m(90e6)])
    assert facts["bandwidth.download_bps"] == 85e6 and facts["bandwidth.measurements"] == 3
    assert bandwidth_facts([])["bandwidth.download_bps"] is None  # unknown, not 0


@pytest.mark.parametrize(("goodput", "status"), [(76e6, "pass"), (75e6, "fail"), (None, "unknown")])
def test_link_rate_estimate_is_goodput_times_overhead(goodput, status):
    # an "80 Mbps" line carries about 76 Mbps of goodput: 76 × 1.062 = 80.7 ≥ 80 passes
    target = load_targets([ROOT / "configs/targets.yaml"])["site.bandwidth"]
    facts = {"bandwidth.download_bps": goodput}
    (result,) = evaluate_site(SiteInput("s", "hospital", (), facts), [target], now=0,
                              stale_after=1)
    assert result.status == status
    if goodput:
        assert result.value == goodput  # the figure shown is the measured goodput …
        assert target.all_of[0].scale == pytest.approx(1538 / 1448, abs=1e-3)  # … and its factor


def test_a_backlog_gulp_at_the_window_edge_moves_the_slope_less_than_the_endpoints():
    # steady 10 MB/s, but one stream read 0.5 MB of backlog just after the window opened
    steady = [(t / 10, int(t / 10 * 10_000_000)) for t in range(0, 41)]
    gulp = [(t, b + (500_000 if t >= 1.02 else 0)) for t, b in steady]
    true = 80e6
    endpoints = (bytes_at(gulp, 4.0) - bytes_at(gulp, 1.0)) * 8 / 3.0
    slope = goodput_bps([gulp], 1.0, 4.0)
    assert abs(slope - true) < abs(endpoints - true) / 2
