"""History keeps facts, not copies: the fleet as of any moment is the same as when every
report body was kept, whether the reports arrived through ingest or were converted from
a store of the first layout."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3

from tests.fleet import GiB, make_report
from yte_compliance.collector.derive import host_row
from yte_compliance.collector.history import migrate_v1, row_of
from yte_compliance.collector.store import Incoming, Store
from yte_compliance.core.report import parse_report

PREFIXES = {"bv": ("2402:800:6314::/48",), "tyt": ()}
START = 1_780_000_000.0
V1_SCHEMA = """CREATE TABLE reports (report_id TEXT PRIMARY KEY, site TEXT NOT NULL,
    host_id TEXT NOT NULL, collected_at REAL NOT NULL, received_at REAL NOT NULL,
    body_sha256 TEXT NOT NULL, body TEXT NOT NULL)"""


def history(seed: int = 7) -> list[tuple[str, float, str]]:
    """(site, received_at, body): 12 PCs every 30 minutes for 4 days; a few change their
    facts now and then, one measures bandwidth, probe durations differ every time."""
    rnd = random.Random(seed)
    out = []
    state = {f"h{i:02d}": {"ram": 8 * GiB, "firewall": True, "ipv6": i % 3 != 0}
             for i in range(12)}
    for step in range(4 * 48):
        t = START + step * 1800
        for i, (host, facts) in enumerate(state.items()):
            if rnd.random() < 0.01:
                facts["firewall"] = not facts["firewall"]
            if rnd.random() < 0.005:
                facts["ram"] = 16 * GiB
            site = "bv" if i < 8 else "tyt"
            rep = make_report(site, host, collected_at=t + i, **facts,
                              bandwidth_bps=(60e6 + rnd.random() * 40e6) if host == "h00"
                              and step % 8 == 0 else None)
            for p in rep["probes"].values():
                p["duration_seconds"] = round(rnd.random(), 6)
            # the last update installed: a date that changes when Windows Update runs
            rep["probes"]["patches"]["facts"]["last_update_at"] = START - 86400 * (i + 1) + (
                86400 * 2 if step >= 96 else 0)
            out.append((site, t + i + rnd.random() * 5, json.dumps(rep)))
    return out


def as_of_first_layout(db: sqlite3.Connection, as_of: float) -> list:
    """The answer as the first layout gave it: each host's latest body, parsed again."""
    rows = db.execute(
        """SELECT r.site, r.received_at, r.body FROM reports r
           JOIN (SELECT host_id, MAX(collected_at) AS latest FROM reports
                 WHERE collected_at <= ? GROUP BY host_id) x
             ON r.host_id = x.host_id AND r.collected_at = x.latest""", (as_of,)).fetchall()
    return sorted((host_row(parse_report(json.loads(body)), site, received, PREFIXES[site])
                   for site, received, body in rows), key=lambda r: r.host_id)


def as_of_now(store: Store, as_of: float) -> list:
    return sorted((row_of(r, PREFIXES[r.site]) for r in store.states_as_of(as_of)),
                  key=lambda r: r.host_id)


MOMENTS = [START - 1, START + 1, START + 3600 * 7.3, START + 86400 * 2 + 17, START + 86400 * 9]


def test_as_of_answers_are_those_of_every_body_kept(tmp_path):
    reports = history()
    v1 = sqlite3.connect(tmp_path / "v1.db")
    v1.execute(V1_SCHEMA)
    store = Store(tmp_path / "now.db")
    try:
        items = []
        for site, received, body in reports:
            r = parse_report(json.loads(body))
            sha = hashlib.sha256(body.encode()).hexdigest()
            v1.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (r.report_id, site, r.host_id, r.collected_at, received, sha, body))
            items.append(Incoming(host_row(r, site, received, PREFIXES[site]), body, sha))
        assert store.ingest_batch(items) == ["stored"] * len(items)
        for moment in MOMENTS:
            assert as_of_now(store, moment) == as_of_first_layout(v1, moment), moment
        # facts, not copies: 2,304 reports, a few dozen states
        assert store.report_count() == len(reports) == 2304
        states = store._r.execute("SELECT count(*) FROM states").fetchone()[0]
        assert states < 80, states
        # a retry is a duplicate, a reused id with other content a conflict
        again = items[5]
        assert store.ingest_batch([again]) == ["duplicate"]
        other = Incoming(again.row, again.body + " ", hashlib.sha256(b"x").hexdigest())
        assert store.ingest_batch([other]) == ["conflict"]
    finally:
        store.close()
        v1.close()


def test_a_store_of_the_first_layout_is_converted_with_the_same_answers(tmp_path):
    reports = history(seed=11)
    path = tmp_path / "collector.db"
    v1 = sqlite3.connect(path)
    v1.execute(V1_SCHEMA)
    for site, received, body in reports:
        r = parse_report(json.loads(body))
        v1.execute("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (r.report_id, site, r.host_id, r.collected_at, received,
                    hashlib.sha256(body.encode()).hexdigest(), body))
    v1.commit()
    expected = {m: as_of_first_layout(v1, m) for m in MOMENTS}
    v1.close()
    store = Store(path)
    try:
        assert migrate_v1(store) == len(reports)
        for moment in MOMENTS:
            assert as_of_now(store, moment) == expected[moment], moment
        assert migrate_v1(store) == 0  # once
        tables = {n for (n,) in store._r.execute("SELECT name FROM sqlite_master")}
        assert "reports" not in tables
        # a retry of a report acknowledged before the conversion is still a duplicate
        site, received, body = reports[-1]
        r = parse_report(json.loads(body))
        retry = Incoming(host_row(r, site, received, PREFIXES[site]), body,
                         hashlib.sha256(body.encode()).hexdigest())
        assert store.ingest_batch([retry]) == ["duplicate"]
    finally:
        store.close()
