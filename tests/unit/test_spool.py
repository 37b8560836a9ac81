"""An unreachable collector: the agent keeps its reports on disk and sends them later,
oldest first; a report the collector refuses is set aside with the reason, not lost."""

import json
import subprocess
import sys
import time

from tests.fleet import free_port, http
from yte_compliance.agent.spool import SendError, Spool


def test_spool_keeps_until_acknowledged(tmp_path):
    spool = Spool(tmp_path / "spool")
    for i in range(3):
        spool.put(1000.0 + i, f"id-{i}", json.dumps({"n": i}).encode())
    sent = []

    def down(body):
        raise SendError("collector unreachable", retry=True)

    result = spool.flush(down)
    assert (result.sent, result.pending) == (0, 3) and len(spool.pending()) == 3

    def up(body):
        sent.append(json.loads(body)["n"])

    assert spool.flush(up).sent == 3
    assert sent == [0, 1, 2] and spool.pending() == []


def test_refused_report_is_set_aside_with_its_reason(tmp_path):
    spool = Spool(tmp_path / "spool")
    spool.put(1.0, "bad", b"{}")
    spool.put(2.0, "good", b"{}")
    calls = []

    def send(body):
        calls.append(body)
        if len(calls) == 1:
            raise SendError("collector answered 400: invalid report", retry=False)

    result = spool.flush(send)
    assert (result.sent, result.rejected) == (1, 1)
    reason = next(spool.rejected_dir.glob("*.reason")).read_text()
    assert "400" in reason and spool.pending() == []


def test_agent_once_fails_when_collector_is_down_and_delivers_later(served, tmp_path):
    bed, app = served
    down_url = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
    (tmp_path / "token").chmod(0o600)

    def run(url):
        (tmp_path / "agent.yaml").write_text(
            f"site: tyt-xa-a\ncollector_url: {url}\ntoken_file: token\nspool_dir: spool\n"
            "host_id: h-offline\n")
        return subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "run", "--once",
                               "--config", str(tmp_path / "agent.yaml")],
                              capture_output=True, text=True, timeout=60)

    first = run(down_url)
    assert first.returncode == 1 and "unreachable" in first.stderr
    time.sleep(0.01)
    second = run(down_url)
    assert second.returncode == 1
    assert len(list((tmp_path / "spool").glob("*.json"))) == 2
    third = run(bed.url)
    assert third.returncode == 0, third.stderr
    assert list((tmp_path / "spool").glob("*.json")) == []
    assert app.state.store.report_count("tyt-xa-a") == 3
    detail = json.loads(http("GET", bed.url + "/api/v1/sites/tyt-xa-a", token=bed.viewer)[2])
    assert detail["hosts"]["fresh"] == 1


def test_an_older_agents_drop_count_is_carried_over(tmp_path):
    from yte_compliance.agent.spool import Spool

    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "state.json").write_text('{"dropped_total": 5}')  # written by 0.1.0 agents
    spool = Spool(folder)
    spool.put(1_800_000_000.0, "r-000001", b"{}")
    assert spool.dropped_total() == 5 and not (folder / "state.json").exists()
    spool.count_dropped(2)
    assert spool.dropped_total() == 7
