"""SQLite store (WAL): every report as received, the latest state per host, site tokens.

The only module that speaks SQL. A report is committed before it is acknowledged; its
id is the primary key, so a retried report is never stored twice.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.tokens import StoredToken

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    report_id    TEXT PRIMARY KEY,
    site         TEXT NOT NULL,
    host_id      TEXT NOT NULL,
    collected_at REAL NOT NULL,
    received_at  REAL NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_host ON reports (host_id, collected_at);
CREATE INDEX IF NOT EXISTS reports_by_site ON reports (site, collected_at);
CREATE TABLE IF NOT EXISTS hosts (
    host_id      TEXT PRIMARY KEY,
    site         TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    platform     TEXT NOT NULL,
    agent_version TEXT NOT NULL,
    source       TEXT NOT NULL,
    report_id    TEXT NOT NULL,
    collected_at REAL NOT NULL,
    received_at  REAL NOT NULL,
    facts        TEXT NOT NULL,
    probes       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id   TEXT PRIMARY KEY,
    site       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
"""


@dataclass(frozen=True)
class HostRow:
    host_id: str
    site: str
    hostname: str
    platform: str
    agent_version: str
    source: str
    report_id: str
    collected_at: float
    received_at: float
    facts: dict[str, Any]
    probes: dict[str, dict[str, Any]]  # probe → {status, reason, unknown: {fact: why}}


class Store:
    def __init__(self, path: Path | str):
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an acknowledged report survives power loss
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- reports -----------------------------------------------------------------

    def ingest(self, row: HostRow, body: str) -> bool:
        """Store a report; update the host's latest state if it is the newest.
        False when the report id was stored before (a retry): nothing changes."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                cur = db.execute(
                    "INSERT OR IGNORE INTO reports VALUES (?, ?, ?, ?, ?, ?)",
                    (row.report_id, row.site, row.host_id, row.collected_at, row.received_at, body))
                if cur.rowcount == 0:
                    db.execute("ROLLBACK")
                    return False
                db.execute(
                    """INSERT INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (host_id) DO UPDATE SET
                         site=excluded.site, hostname=excluded.hostname,
                         platform=excluded.platform, agent_version=excluded.agent_version,
                         source=excluded.source, report_id=excluded.report_id,
                         collected_at=excluded.collected_at, received_at=excluded.received_at,
                         facts=excluded.facts, probes=excluded.probes
                       WHERE excluded.collected_at >= hosts.collected_at""",
                    (row.host_id, row.site, row.hostname, row.platform, row.agent_version,
                     row.source, row.report_id, row.collected_at, row.received_at,
                     json.dumps(row.facts, separators=(",", ":")),
                     json.dumps(row.probes, separators=(",", ":"))))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return True

    def hosts(self) -> Iterator[HostRow]:
        with self._lock:
            rows = self._db.execute(
                "SELECT host_id, site, hostname, platform, agent_version, source, report_id, "
                "collected_at, received_at, facts, probes FROM hosts").fetchall()
        for r in rows:
            yield HostRow(*r[:9], json.loads(r[9]), json.loads(r[10]))

    def host(self, host_id: str) -> HostRow | None:
        return next((h for h in self.hosts() if h.host_id == host_id), None)

    def report_count(self, site: str | None = None) -> int:
        with self._lock:
            if site is None:
                return self._db.execute("SELECT count(*) FROM reports").fetchone()[0]
            return self._db.execute("SELECT count(*) FROM reports WHERE site = ?",
                                    (site,)).fetchone()[0]

    # ---- tokens ------------------------------------------------------------------

    def add_token(self, site: str, token: StoredToken, now: float | None = None) -> None:
        with self._lock:
            self._db.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL)",
                             (token.token_id, site, token.salt, token.digest, now or time.time()))

    def tokens(self) -> list[tuple[str, StoredToken]]:
        """(site, token) of every token not revoked."""
        with self._lock:
            rows = self._db.execute("SELECT site, token_id, salt, digest FROM tokens "
                                    "WHERE revoked_at IS NULL").fetchall()
        return [(site, StoredToken(tid, salt, digest)) for site, tid, salt, digest in rows]
