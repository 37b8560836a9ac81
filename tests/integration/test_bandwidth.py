"""The agent's bandwidth against the collector on a shaped link, side by side with iperf3
on the same link in the same test; and one site, one test at a time."""

import json
import subprocess
import sys
import threading

import pytest

from tests.conftest import need_binary
from tests.fleet import http
from tests.measuring import measuring
from tests.netns import Pair, SlowLink
from yte_compliance.agent.probe import Context, run_probe
from yte_compliance.agent.probes import bandwidth as bw

pytestmark = pytest.mark.integration
RATES = (20, 80, 200)


def iperf3(pair, reverse: bool) -> float:
    out = subprocess.run(pair.argv(pair.b, "iperf3", "-c", pair.A4, "-J", "-P", "4", "-t", "4",
                                   "-O", "1", *(["-R"] if reverse else [])),
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return bw.parse_iperf3(out)[0]


@pytest.fixture
def shaped(tmp_path):
    need_binary("iperf3")
    with measuring(Pair(), tmp_path) as ready:
        yield ready


def side_by_side(label: str, answer: dict, ref_down: float, ref_up: float):
    """(direction, agent, iperf3) for both directions; printed for the test's log."""
    facts = answer["facts"]
    print(f"{label}: agent ↓{facts['download_bps'] / 1e6:.2f} ↑{facts['upload_bps'] / 1e6:.2f}, "
          f"iperf3 ↓{ref_down / 1e6:.2f} ↑{ref_up / 1e6:.2f} Mbit/s, "
          f"{answer['duration_seconds']} s")
    return (("download", facts["download_bps"], ref_down), ("upload", facts["upload_bps"], ref_up))


def agent_measure(pair, config, ok: bool = True) -> dict:
    done = subprocess.run(pair.argv(pair.b, sys.executable, "-m", "yte_compliance", "agent",
                                    "bandwidth", "--config", str(config)),
                          capture_output=True, text=True, timeout=120)
    answer = json.loads(done.stdout)
    if ok:
        assert done.returncode == 0, (answer, done.stderr)
    return answer


@pytest.mark.parametrize("mbit", RATES)
def test_agent_within_10_percent_of_iperf3(shaped, mbit):
    pair, config = shaped
    pair.shape(mbit)
    ref_down, ref_up = iperf3(pair, reverse=True), iperf3(pair, reverse=False)
    answer = agent_measure(pair, config)
    facts = answer["facts"]
    for name, got, ref in (("download", facts["download_bps"], ref_down),
                           ("upload", facts["upload_bps"], ref_up)):
        error = abs(got - ref) / ref
        assert error <= 0.10, f"{mbit} Mbit/s {name}: agent {got / 1e6:.1f}, iperf3 {ref / 1e6:.1f}"
    assert ref_down < mbit * 1e6 * 1.02  # the shaping held
    assert facts["streams"] == 4 and answer["duration_seconds"] <= 12
    assert facts["latency_ms"] > 0


def test_one_site_one_test_at_a_time(served):
    bed, app = served
    token = bed.tokens["tyt-xa-a"]
    answers = []

    def ask(host):
        answers.append(json.loads(http("POST", bed.url + "/api/v1/speedtest/lease",
                                       {"host_id": host}, token=token)[2]))

    threads = [threading.Thread(target=ask, args=(h,)) for h in ("h-1", "h-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    granted = [a for a in answers if a["granted"]]
    refused = [a for a in answers if not a["granted"]]
    assert len(granted) == 1 and len(refused) == 1
    assert "being measured by host" in refused[0]["reason"]

    # the agent that did not get it skips, and says why
    ctx = Context(options={"access": bw.Access(bed.url, token, "h-3"),
                           "bandwidth_plan": bw.Plan(seconds=2)})
    result = run_probe(bw.collect, ctx)
    assert result.status == "unknown" and result.reason.startswith("skipped: site is being")
    # without the lease, the endpoints refuse
    assert http("GET", bed.url + "/api/v1/speedtest/download?bytes=10", token=token)[0] == 403
    # another site is not blocked by this one
    other = json.loads(http("POST", bed.url + "/api/v1/speedtest/lease", {"host_id": "h-9"},
                            token=bed.tokens["bv-tinh"])[2])
    assert other["granted"] is True


def test_agent_with_an_iperf3_server(shaped):
    pair, config = shaped
    pair.shape(80)
    config.write_text(config.read_text().replace(
        "  streams: 4\n", f"  streams: 4\n  server: iperf3\n  url: {pair.A4}:5201\n"))
    facts = agent_measure(pair, config)["facts"]
    assert facts["server"] == f"iperf3 {pair.A4}:5201" and facts["streams"] == 4
    for value in (facts["download_bps"], facts["upload_bps"]):
        assert 0.85 * 80e6 < value < 80e6


# ---- a 3G station's line: 8 Mbit/s, 150 ms each way, TCP segments lost ------------------


@pytest.fixture(scope="module")
def link_3g(tmp_path_factory):
    """One shaped link for the module's cases (set-up costs seconds): 1 % loss; a case
    may change the loss by restarting the relay's counter (see SlowLink)."""
    need_binary("iperf3")
    tmp = tmp_path_factory.mktemp("3g")
    with measuring(SlowLink(8, 0.150, 100), tmp) as ready:
        yield ready


def test_3g_agent_within_10_percent_of_iperf3_counted_where_bytes_arrive(link_3g):
    """Before: upload read 9.4–14.1 Mbit/s against iperf3's 7.2–7.5 (bytes counted when
    handed to the socket) and the probe took 14–15 s."""
    pair, config = link_3g
    ref_down, ref_up = iperf3(pair, reverse=True), iperf3(pair, reverse=False)
    answer = agent_measure(pair, config)
    facts = answer["facts"]
    for name, got, ref in side_by_side("3G 1 %", answer, ref_down, ref_up):
        error = abs(got - ref) / ref
        assert error <= 0.10, f"3G {name}: agent {got / 1e6:.2f}, iperf3 {ref / 1e6:.2f}"
    assert facts["upload_bps"] < 8e6 and "upload as received" in facts["server"]
    assert answer["duration_seconds"] <= 12, answer["duration_seconds"]
    assert 280 < facts["latency_ms"] < 500  # 300 ms of round trip, plus the queue


def test_3g_a_byte_budget_that_runs_out_is_unknown_not_a_small_figure(link_3g):
    """Before: max_megabytes 2 held, the streams stopped inside the window, and the probe
    said ok with 0.46 Mbit/s up."""
    pair, config = link_3g
    small = config.with_name("agent-2mb.yaml")
    small.write_text(config.read_text() + "  max_megabytes: 2\n")
    answer = agent_measure(pair, small, ok=False)
    assert answer["status"] == "unknown", answer
    assert "byte budget" in answer["reason"] and "stopped before the window" in answer["reason"]


def test_3g_with_5_percent_loss_upload_is_not_over_read(tmp_path):
    """Before: at 5 % loss the agent's upload read 120 % above iperf3's."""
    need_binary("iperf3")
    with measuring(SlowLink(8, 0.150, 20), tmp_path) as (pair, config):
        ref_down, ref_up = iperf3(pair, reverse=True), iperf3(pair, reverse=False)
        answer = agent_measure(pair, config)
    # Never more than the line carries (the old reading was 120 % above), and not far
    # below iperf3. iperf3 is no tight reference here: a stream whose SYN is lost starts a
    # second late inside its 4 s, and it read 4.8 to 6.5 Mbit/s up across runs. A lost
    # SYN also costs the probe a one-second retransmission: it may run past the 1 % time.
    carried = 8e6 * 1448 / (1448 + 52 + 14)  # TCP payload of 8 Mbit/s of Ethernet frames
    for name, got, ref in side_by_side("3G 5 %", answer, ref_down, ref_up):
        assert 0.6 * ref <= got <= carried * 1.02, \
            f"3G 5 % {name}: agent {got / 1e6:.2f}, iperf3 {ref / 1e6:.2f}"
    assert answer["duration_seconds"] <= 16
