"""The agent keeps what it measured: bounded spool, drop counter, backoff, private token."""

import json

from yte_compliance.agent.loop import AgentLoop, Schedule
from yte_compliance.agent.send import read_token
from yte_compliance.agent.spool import FlushResult, SendError, Spool, SpoolLimits


def test_spool_drops_oldest_first_past_count_and_age_and_remembers(tmp_path):
    spool = Spool(tmp_path / "s", SpoolLimits(max_reports=3, max_bytes=10_000,
                                              max_age_seconds=100 * 86400))
    now = 1_790_000_000.0
    for i in range(5):
        spool.put(now - 3600 * (5 - i), f"id-{i}", json.dumps({"n": i}).encode())
    spool.put(now - 200 * 86400, "ancient", b"{}")  # past max age
    assert spool.enforce(now) == 3  # the ancient one, then the two oldest of five
    assert [p.name.split("-", 1)[1] for p in spool.pending()] == ["id-2.json", "id-3.json",
                                                                   "id-4.json"]
    assert spool.dropped_total() == 3
    spool.put(now, "id-5", b"{}")
    spool.enforce(now)
    assert spool.dropped_total() == 4  # cumulative, kept on disk across restarts
    assert Spool(tmp_path / "s").dropped_total() == 4


def test_spool_bound_in_bytes(tmp_path):
    spool = Spool(tmp_path / "s", SpoolLimits(max_reports=100, max_bytes=250))
    for i in range(4):
        spool.put(1000.0 + i, f"r{i}", b"x" * 100)
    spool.enforce(1000.0)
    assert len(spool.pending()) == 2 and spool.dropped_total() == 2


def test_no_half_written_entry_is_ever_visible(tmp_path):
    spool = Spool(tmp_path / "s")
    spool.put(1.0, "a", b"{}")
    (tmp_path / "s" / "00000000002000-b.tmp").write_bytes(b"{half")  # a crash mid-write
    assert [p.name for p in spool.pending()] == ["00000000001000-a.json"]


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, s):
        self.sleeps.append(s)
        self.now += s


def test_backoff_grows_with_full_jitter_and_collection_keeps_its_pace():
    t = FakeTime()
    collected, attempts = [], []

    def flush():
        attempts.append(t.now)
        return FlushResult(error="collector unreachable", retry=True, pending=len(collected))

    loop = AgentLoop(Schedule(interval=900, jitter=0, backoff_initial=30, backoff_max=600),
                     lambda: collected.append(t.now), flush, clock=t.clock, sleep=t.sleep,
                     rand=lambda a, b: b,  # the top of each jitter range, to read the ceiling
                     say=lambda m: None)
    loop.run(cycles=40)
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[:4] == [30, 60, 120, 240]  # exponential …
    assert max(gaps) <= 600  # … capped
    assert collected[:4] == [0, 900, 1800, 2700]  # collection never waits for sending
    assert set(collected) <= set(attempts)  # and a fresh report is offered at once


def test_backoff_resets_after_success():
    t = FakeTime()
    answers = iter([FlushResult(error="down", retry=True)] * 3 + [FlushResult(sent=4)] * 50)
    loop = AgentLoop(Schedule(900, 0, 30, 600), lambda: None, lambda: next(answers),
                     clock=t.clock, sleep=t.sleep, rand=lambda a, b: b, say=lambda m: None)
    loop.run(cycles=6)
    assert loop.failures == 0


def test_token_file_must_be_private(tmp_path):
    token = tmp_path / "token"
    token.write_text("yte_x\n")
    token.chmod(0o644)
    try:
        read_token(token)
        raise AssertionError("a world-readable token was accepted")
    except SendError as e:
        assert "chmod 600" in str(e)
    token.chmod(0o600)
    assert read_token(token) == "yte_x"
