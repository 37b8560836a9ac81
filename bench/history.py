"""History on a province server: bytes per report, the year-end as-of and start-up, with
the store as it is (facts, not copies) beside the first layout (every body kept), in one
run on this machine.

The simulated province: PCS PCs in sites of 10, each reporting every 30 minutes; every
day a few per cent of them change a fact (a firewall toggled, signatures updated, RAM
added). Each change goes through the store's own ingest (Store.ingest_batch); the
reports that repeat the previous one are written as the log rows ingest writes for them
(same table, same values: a 16-byte id, the host's number, the two times, the body's
hash, the state), in bulk, so that tens of millions of reports take minutes.

The big store (a province-year: `--big 90000000 --big-only`) gives its repeating
reports time-ordered ids (see build_now), so that it builds in minutes; its bytes per
report are therefore a little below what random ids give (the month's figure is the one
with random ids), and its as-of is measured warm and cold (the store's pages dropped
from the operating system's cache first).

    .venv/bin/python bench/history.py [--pcs 5000] [--days 30] [--big 10000000]
    .venv/bin/python bench/history.py --big 90000000 --big-only [--folder /var/tmp]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import save, write_province  # noqa: E402

START = 1_767_225_600.0  # 2026-01-01 UTC
STEP = 1800.0
V1_SCHEMA = """CREATE TABLE reports (report_id TEXT PRIMARY KEY, site TEXT NOT NULL,
    host_id TEXT NOT NULL, collected_at REAL NOT NULL, received_at REAL NOT NULL,
    body_sha256 TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX reports_by_host ON reports (host_id, collected_at);
CREATE INDEX reports_by_site ON reports (site, collected_at);"""


def report(site: str, host: str, t: float, facts: dict) -> dict:
    from tests.fleet import make_report

    rep = make_report(site, host, collected_at=t, ram=facts["ram"], firewall=facts["firewall"])
    rep["probes"]["patches"]["facts"]["last_update_at"] = facts["patched"]
    rep["probes"]["antivirus"]["facts"]["signatures_updated_at"] = facts["signatures"]
    return rep


def fleet(pcs: int) -> dict[str, tuple[str, dict]]:
    return {f"h{i:05d}": (f"s{i // 10:04d}", {"ram": 8 << 30, "firewall": True,
                                              "patched": START - 86400, "signatures": START})
            for i in range(pcs)}


def changes(rnd: random.Random, hosts: dict, day: int, share: float) -> list[str]:
    """Today's PCs whose facts changed, and the change."""
    out = []
    for host in rnd.sample(sorted(hosts), int(len(hosts) * share)):
        facts = hosts[host][1]
        what = rnd.random()
        if what < 0.6:
            facts["signatures"] = START + day * 86400
        elif what < 0.8:
            facts["patched"] = START + day * 86400
        elif what < 0.95:
            facts["firewall"] = not facts["firewall"]
        else:
            facts["ram"] = 16 << 30
        out.append(host)
    return out


def ingest(store, hosts: dict, names: list[str], t: float) -> None:
    import hashlib

    from yte_compliance.collector.derive import host_row
    from yte_compliance.collector.store import Incoming
    from yte_compliance.core.report import parse_report

    items = []
    for host in names:
        site, facts = hosts[host]
        body = json.dumps(report(site, host, t, facts))
        r = parse_report(json.loads(body))
        items.append(Incoming(host_row(r, site, t + 1, ()), body,
                              hashlib.sha256(body.encode()).hexdigest()))
    results = store.ingest_batch(items)
    assert all(x == "stored" for x in results), results[:3]


def current_states(db: sqlite3.Connection) -> dict[int, int]:
    """host number → the id of its newest state."""
    return dict(db.execute("SELECT host, max(id) FROM states GROUP BY host").fetchall())


def time_ordered_id(t: float) -> bytes:
    """A UUIDv7-like id: the time in milliseconds first, then random bytes."""
    return int(t * 1000).to_bytes(6, "big") + os.urandom(10)


def build_now(path: Path, pcs: int, days: int, share: float, seed: int = 1,
              ordered_ids: bool = False) -> int:
    """The store as it is; the number of reports. ``ordered_ids``: the repeating reports'
    ids begin with their time (UUIDv7-like) instead of being random (UUIDv4, what the
    agents send): each day's ids then land at the end of the key b-tree instead of all
    over it; and the by-host index is built once at the end (sorted), not row by row.
    Together they let a year of a province be built in minutes."""
    from yte_compliance.collector.store import Store

    rnd = random.Random(seed)
    hosts = fleet(pcs)
    store = Store(path)
    ingest(store, hosts, sorted(hosts), START)  # every PC's first report
    store.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-4000000")  # 4 GB of pages: the key b-tree in memory
    db.execute("CREATE TEMP TABLE cur (host INTEGER PRIMARY KEY, state INTEGER)")
    db.create_function("report_id", 1, time_ordered_id if ordered_ids
                       else lambda _t: os.urandom(16))
    if ordered_ids:  # the store's own index under the same name, on a stand-in meanwhile
        db.executescript("DROP INDEX log_by_host; CREATE TABLE later (x);"
                         "CREATE INDEX log_by_host ON later (x);")
    per_day = int(86400 / STEP)
    t0 = time.perf_counter()
    for day in range(days):
        if day and day % 30 == 0:
            print(f"  {path.name}: day {day} of {days}, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)
        changed = changes(rnd, hosts, day, share) if day else []
        if changed:
            store = Store(path)
            ingest(store, hosts, changed, START + day * 86400 + 60)
            store.close()
        db.execute("BEGIN")
        db.execute("DELETE FROM cur")
        db.execute("INSERT INTO cur SELECT host, max(id) FROM states GROUP BY host")
        # the day's repeating reports, one per PC every 30 minutes, written in SQLite
        # itself: 16-byte ids and random body hashes, as UUIDs and SHA-256 are
        db.execute(
            """WITH RECURSIVE slot(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM slot
                                         WHERE i + 1 < ?)
               INSERT INTO log SELECT report_id(? + i * ?), c.host, ? + i * ?,
                                      ? + i * ? + 1.5, randomblob(16), c.state
               FROM slot, cur c""",
            (1 if day == 0 else 0, per_day, START + day * 86400, STEP, START + day * 86400,
             STEP, START + day * 86400, STEP))
        db.execute("COMMIT")
    if ordered_ids:
        from yte_compliance.collector.store import _SCHEMA

        index = next(line for line in _SCHEMA.splitlines() if "INDEX IF NOT EXISTS log_by_host"
                     in line)  # the store's own definition, as the store creates it
        db.execute("PRAGMA threads=2")
        db.executescript(f"DROP INDEX log_by_host; DROP TABLE later; {index}")
    count = db.execute("SELECT count(*) FROM log").fetchone()[0]
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return count


def build_v1(path: Path, pcs: int, days: int, share: float, seed: int = 1) -> int:
    """The first layout: every body kept, as the collector stored them before."""
    import hashlib
    import uuid

    rnd = random.Random(seed)
    hosts = fleet(pcs)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(V1_SCHEMA)
    count = 0
    for day in range(days):
        if day:
            changes(rnd, hosts, day, share)
        db.execute("BEGIN")
        rows = []
        for slot in range(int(86400 / STEP)):
            t = START + day * 86400 + slot * STEP
            for host, (site, facts) in hosts.items():
                rep = report(site, host, t, facts)
                rep["report_id"] = str(uuid.UUID(bytes=os.urandom(16), version=4))
                body = json.dumps(rep)
                rows.append((rep["report_id"], site, host, t, t + 1.5,
                             hashlib.sha256(body.encode()).hexdigest(), body))
        db.executemany("INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        count += len(rows)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return count


def as_of_seconds(path: Path, as_of: float, layout: str) -> tuple[float, int]:
    """The year-end read: each host's report as of then, parsed back into its state."""
    from yte_compliance.collector.history import row_of
    from yte_compliance.collector.store import Store

    t0 = time.perf_counter()
    if layout == "now":
        store = Store(path)
        rows = [row_of(r, ()) for r in store.states_as_of(as_of)]
        store.close()
    else:
        from yte_compliance.collector.derive import host_row
        from yte_compliance.core.report import parse_report

        db = sqlite3.connect(path)
        found = db.execute(
            """SELECT r.site, r.received_at, r.body FROM reports r
               JOIN (SELECT host_id, MAX(collected_at) AS latest FROM reports
                     WHERE collected_at <= ? GROUP BY host_id) x
                 ON r.host_id = x.host_id AND r.collected_at = x.latest""", (as_of,)).fetchall()
        rows = [host_row(parse_report(json.loads(b)), s, rec, ()) for s, rec, b in found]
        db.close()
    return time.perf_counter() - t0, len(rows)


def startup_seconds(path: Path) -> float:
    """Opening the store and loading the fleet's latest state, as the collector starts."""
    from yte_compliance.collector.store import Store

    t0 = time.perf_counter()
    store = Store(path)
    hosts = list(store.hosts())
    store.close()
    assert hosts
    return time.perf_counter() - t0


def evict(path: Path) -> None:
    """Drop the store's pages from the operating system's cache, as after a reboot."""
    for f in (path, path.with_name(path.name + "-wal")):
        if f.exists():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def report_seconds(path: Path, pcs: int, as_of: float) -> dict:
    """`yte report` itself (a new process, as an operator runs it) for the year of
    ``as_of`` as of that day, on the store at ``path``: JSON cold, then warm; then the
    XLSX the department files (the default format)."""
    import datetime as dt
    import subprocess

    config = write_province(path.parent, [(f"s{s:04d}", "commune_station")
                                          for s in range(-(-pcs // 10))], database=path.name)
    day = dt.datetime.fromtimestamp(as_of, dt.timezone.utc).date()
    out = {}
    for run, fmt in (("cold", "json"), ("warm", "json"), ("xlsx_warm", "xlsx")):
        if run == "cold":
            evict(path)
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "yte_compliance", "report", "-c",
                               str(config), "--year", str(day.year),
                               "--as-of", day.isoformat(), "--format", fmt,
                               "--out", str(path.parent / f"report.{fmt}")],
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise SystemExit(f"yte report failed: {done.stderr}")
        out[f"report_{run}_seconds"] = round(time.perf_counter() - t0, 2)
    report = json.loads((path.parent / "report.json").read_text(encoding="utf-8"))
    out["report_sites"] = len(report["sites"])  # what the report covers: every site
    return out


def measure(path: Path, reports: int, layout: str, days: int) -> dict:
    size = path.stat().st_size
    as_of = START + days * 86400 - 1
    evict(path)
    cold, hosts = as_of_seconds(path, as_of, layout)
    seconds, hosts = as_of_seconds(path, as_of, layout)
    out = {"reports": reports, "bytes": size, "bytes_per_report": round(size / reports, 1),
           "as_of_seconds": round(seconds, 3), "as_of_cold_seconds": round(cold, 3),
           "as_of_hosts": hosts}
    if layout == "now":
        out["startup_seconds"] = round(startup_seconds(path), 3)
        db = sqlite3.connect(path)
        states, bodies = db.execute("SELECT count(*), sum(length(body)) FROM states").fetchone()
        db.close()
        # what a retention of raw bodies could give back: each distinct state keeps one
        out.update(states=states, bodies_bytes=bodies, bodies_share=round(bodies / size, 4))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcs", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--share", type=float, default=0.03, help="PCs changing a fact a day")
    ap.add_argument("--v1-pcs", type=int, default=500, help="the first layout's fleet (its "
                    "bytes grow linearly: a month of 500 PCs is 720,000 bodies)")
    ap.add_argument("--big", type=int, default=10_000_000,
                    help="also a store of at least this many reports (0: skip), its "
                         "repeating reports with time-ordered ids (see build_now)")
    ap.add_argument("--big-only", action="store_true", help="only the big store")
    ap.add_argument("--folder", help="where to build the stores (default: a temporary one)")
    ap.add_argument("--measure", metavar="DB", help="only measure an existing store (a "
                    "province's own collector.db, or one this script built): bytes per "
                    "report, the as-of at its newest report, start-up")
    args = ap.parse_args()
    if args.measure:
        path = Path(args.measure)
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        reports, newest = db.execute("SELECT count(*), max(collected_at) FROM log").fetchone()
        db.close()
        out = measure(path, reports, "now", (newest - START) / 86400 + 1 / 86400)
        print(json.dumps(out))
        print(f"saved {save('history_measured', {'database': str(path), **out})}")
        return
    results: dict = {"pcs": args.pcs, "days": args.days, "share_changing_per_day": args.share}
    name = "history_big" if args.big_only else "history"
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp)
        if not args.big_only:
            month(folder, args, results)
        if args.big:
            days = -(-args.big // (args.pcs * 48))
            t0 = time.perf_counter()
            n = build_now(folder / "big.db", args.pcs, days, args.share, ordered_ids=True)
            results["big_now"] = {"days": days,
                                  "build_seconds": round(time.perf_counter() - t0, 1),
                                  **measure(folder / "big.db", n, "now", days),
                                  **report_seconds(folder / "big.db", args.pcs,
                                                   START + 364 * 86400 + 86399)}
    show(args, results)
    print(f"saved {save(name, results)}")


def month(folder: Path, args: argparse.Namespace, results: dict) -> None:
    """A month of the province, the first layout on a smaller fleet, and the store as it
    is on that same smaller fleet."""
    t0 = time.perf_counter()
    n = build_now(folder / "now.db", args.pcs, args.days, args.share)
    results["month_now"] = {**measure(folder / "now.db", n, "now", args.days),
                            "build_seconds": round(time.perf_counter() - t0, 1)}
    (folder / "now.db").unlink()
    t0 = time.perf_counter()
    n = build_v1(folder / "v1.db", args.v1_pcs, args.days, args.share)
    results["month_v1"] = {**measure(folder / "v1.db", n, "v1", args.days),
                           "pcs": args.v1_pcs, "build_seconds": round(time.perf_counter() - t0, 1)}
    (folder / "v1.db").unlink()
    save("history", results)  # each phase kept as it ends: a long run cut short says what it did
    n = build_now(folder / "same.db", args.v1_pcs, args.days, args.share)
    results["month_now_same_fleet"] = {**measure(folder / "same.db", n, "now", args.days),
                                       "pcs": args.v1_pcs}
    (folder / "same.db").unlink()
    save("history", results)


def show(args: argparse.Namespace, results: dict) -> None:
    def line(r: dict) -> str:
        out = (f"{r['reports']:>11,} reports {r['bytes_per_report']:>7} B/report  as-of "
               f"{r['as_of_seconds']} s (cold {r['as_of_cold_seconds']} s)")
        if "startup_seconds" in r:
            out += f"  start-up {r['startup_seconds']} s"
        return out + (f"  (built in {r['build_seconds']} s)" if "build_seconds" in r else "")

    if "month_now" in results:
        m, v, same = results["month_now"], results["month_v1"], results["month_now_same_fleet"]
        print(f"a month, {args.pcs:,} PCs every 30 min, {args.share:.0%} changing a day:")
        print(f"  now:          {line(m)}")
        print(f"  first layout: {line(v)}  ({args.v1_pcs} PCs)")
        print(f"  now, same {args.v1_pcs} PCs: {line(same)}; bytes now/first layout "
              f"{same['bytes_per_report'] / v['bytes_per_report']:.3f}")
    if "big_now" in results:
        b = results["big_now"]
        print(f"  now, {b['days']} days, time-ordered ids: {line(b)}")
        print(f"  `yte report` for the year ({b['report_sites']} sites): JSON "
              f"{b['report_cold_seconds']} s cold, {b['report_warm_seconds']} s warm; "
              f"XLSX {b['report_xlsx_warm_seconds']} s warm")


if __name__ == "__main__":
    main()
