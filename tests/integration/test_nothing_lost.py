"""Nothing lost: a collector down for 30 reports and agent restarts; a collector killed
with SIGKILL in the middle of a burst from concurrent senders."""

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.fleet import http, make_report

pytestmark = pytest.mark.integration


class Collector:
    """`yte collector serve` as its own process, to be stopped or killed."""

    def __init__(self, bed):
        self.bed, self.proc = bed, None

    def start(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                                      "--config", str(self.bed.config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http("GET", self.bed.url + "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("collector did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def collector(bed):
    c = Collector(bed)
    yield c
    c.stop()


def stored_ids(bed, host: str | None = None) -> list[tuple[str, float]]:
    from yte_compliance.collector.store import Store

    store = Store(bed.folder / "collector.db")
    try:
        return store.report_ids(host)
    finally:
        store.close()


def db_rows(bed, sql, args=()):
    with sqlite3.connect(bed.folder / "collector.db") as db:
        return db.execute(sql, args).fetchall()


def test_outage_30_reports_and_restarts_then_every_report_once_in_order(bed, collector, tmp_path):
    (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
    (tmp_path / "token").chmod(0o600)
    (tmp_path / "agent.yaml").write_text(
        f"site: tyt-xa-a\ncollector_url: {bed.url}\ntoken_file: token\nspool_dir: spool\n"
        "host_id: h-outage\ntimeout_seconds: 2\n")

    def agent_once():  # each run is a fresh process: 30 agent restarts while down
        return subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "run", "--once",
                               "--config", str(tmp_path / "agent.yaml")],
                              capture_output=True, text=True, timeout=60)

    for i in range(30):
        done = agent_once()
        assert done.returncode == 1 and "unreachable" in done.stderr, done.stderr
        if i in (9, 19):  # the collector comes and goes: up for nothing, killed again
            collector.start()
            collector.kill()
    spooled = sorted((tmp_path / "spool").glob("*.json"))
    assert len(spooled) == 30
    ids_in_order = [json.loads(p.read_text())["report_id"] for p in spooled]

    collector.start()
    done = agent_once()  # the 31st report, after the 30 waiting
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "spool").glob("*.json")) == []
    rows = stored_ids(bed, "h-outage")  # in the order received
    assert len(rows) == 31 and len({r[0] for r in rows}) == 31  # each exactly once
    assert [r[0] for r in rows[:30]] == ids_in_order  # stored in order of collection
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)


def test_sigkill_mid_burst_loses_no_acknowledged_report_and_retries_add_no_duplicates(
        bed, collector):
    collector.start()
    now = time.time()
    reports = [make_report("tyt-xa-a" if i % 2 else "bv-tinh", f"h{i % 100:03d}",
                           collected_at=now - 1000 + i) for i in range(1000)]
    token = {"tyt-xa-a": bed.tokens["tyt-xa-a"], "bv-tinh": bed.tokens["bv-tinh"]}
    acked: set[str] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + 60

    def send(rep) -> int | None:
        req = urllib.request.Request(  # noqa: S310 - loopback
            bed.url + "/api/v1/reports", data=json.dumps(rep).encode(), method="POST",
            headers={"Authorization": f"Bearer {token[rep['site']]}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return None

    def sender(part):
        for rep in part:
            if time.monotonic() > deadline:
                return
            if send(rep) in (200, 201):
                with lock:
                    acked.add(rep["report_id"])

    threads = [threading.Thread(target=sender, args=(reports[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    while len(acked) < 250 and time.monotonic() < deadline:
        time.sleep(0.01)
    collector.kill()  # mid-burst
    for t in threads:
        t.join(timeout=60)
    assert 250 <= len(acked) < 1000, len(acked)

    stored = {r[0] for r in stored_ids(bed)}
    assert db_rows(bed, "PRAGMA integrity_check") == [("ok",)]
    assert acked <= stored  # every acknowledged report survived SIGKILL

    collector.start()  # the senders retry everything they sent, acknowledged or not
    for rep in reports:
        assert send(rep) in (200, 201)
    rows = stored_ids(bed)
    assert len(rows) == 1000 and len({r[0] for r in rows}) == 1000
