"""SQLite store (WAL): every report acknowledged, the latest state per host, tokens.

The only module that speaks SQL. Reports are written in batches by one writer (group
commit, `synchronous=FULL`): a report is acknowledged only after the transaction that
holds it is on disk. History keeps facts, not copies: each report is one compact log row
(its id, host, times, the body's hash, the state it carried) and each distinct state of a
host is stored once, compressed, with the body of the first report that carried it. Its
id is the log's key, so a retried report is never stored twice; the body's hash tells a
retry from a reused id with other content. A store of the first layout (every body kept)
is converted when it is opened (migrate_v1).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.collector.tokens import StoredToken

_SCHEMA = """
CREATE TABLE IF NOT EXISTS host_ids (
    id      INTEGER PRIMARY KEY,
    host_id TEXT NOT NULL UNIQUE
);
-- each distinct state a host reported (site, names, facts, probe outcomes), once: most
-- reports repeat the previous one; with the first report's body as received (zlib)
CREATE TABLE IF NOT EXISTS states (
    id     INTEGER PRIMARY KEY,
    host   INTEGER NOT NULL,
    digest BLOB NOT NULL,
    site   TEXT NOT NULL,
    state  BLOB NOT NULL,
    body   BLOB NOT NULL,
    UNIQUE (host, digest)
);
-- every acknowledged report, compactly: its id (16 bytes for a UUID), host, times, the
-- body's hash (a retry, or a reused id with other content) and the state it carried
CREATE TABLE IF NOT EXISTS log (
    report_id    PRIMARY KEY,
    host         INTEGER NOT NULL,
    collected_at REAL NOT NULL,
    received_at  REAL NOT NULL,
    sha          BLOB NOT NULL,
    state        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_by_host ON log (host, collected_at);
-- every site's results at the end of each past month (collector/months.py), kept
CREATE TABLE IF NOT EXISTS monthly (
    month   TEXT PRIMARY KEY,            -- YYYY-MM
    results TEXT NOT NULL                -- {site: {check: {status, value}}}
);
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
CREATE TABLE IF NOT EXISTS measurements (
    report_id    TEXT PRIMARY KEY,
    site         TEXT NOT NULL,
    host_id      TEXT NOT NULL,
    measured_at  REAL NOT NULL,
    download_bps REAL,
    upload_bps   REAL,
    latency_ms   REAL,
    server       TEXT
);
CREATE INDEX IF NOT EXISTS measurements_by_site ON measurements (site, measured_at);
CREATE TABLE IF NOT EXISTS devices (
    site       TEXT NOT NULL,
    mac        TEXT NOT NULL,
    ip         TEXT NOT NULL,
    vendor     TEXT,
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL,
    PRIMARY KEY (site, mac)
);
CREATE TABLE IF NOT EXISTS viewers (
    token_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    salt       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id   TEXT PRIMARY KEY,
    site       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS enrollments (
    token_id   TEXT PRIMARY KEY,
    site       TEXT NOT NULL,
    name       TEXT NOT NULL,
    salt       TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS host_keys (
    host_id     TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    token_id    TEXT UNIQUE,          -- NULL: no key yet, enrollment allowed by an operator
    salt        TEXT,
    digest      TEXT,
    enrolled_at REAL,
    enrollment  TEXT,                 -- the enrollment secret's id that made this key
    revoked_at  REAL,
    may_enroll  INTEGER NOT NULL DEFAULT 0
);
"""

STORED, DUPLICATE, CONFLICT, FOREIGN = "stored", "duplicate", "conflict", "foreign"


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


@dataclass(frozen=True)
class Measurement:
    """One bandwidth measurement of a site's uplink (bits per second)."""

    site: str
    host_id: str
    measured_at: float
    download_bps: float | None
    upload_bps: float | None
    latency_ms: float | None
    server: str | None

    @classmethod
    def from_row(cls, row: HostRow) -> Measurement | None:
        f = row.facts
        down, up = f.get("bandwidth.download_bps"), f.get("bandwidth.upload_bps")
        if down is None and up is None:
            return None
        return cls(row.site, row.host_id, row.collected_at, down, up,
                   f.get("bandwidth.latency_ms"), f.get("bandwidth.server"))


@dataclass(frozen=True)
class SeenDevice:
    site: str
    mac: str
    ip: str
    vendor: str | None
    first_seen: float
    last_seen: float


@dataclass(frozen=True)
class StoredReport:
    """A report as history keeps it: its log entry and the state it carried."""

    host_id: str
    report_id: str
    collected_at: float
    received_at: float
    site: str
    state: dict[str, Any]  # state_of(): what the report said, derived facts aside


# facts the collector derives from the others (collector/derive.py): not stored, derived
# again when history is read (with the site's prefixes of that day)
DERIVED_FACTS = frozenset({"ipv6.site_prefix_address", "ipv6.ready", "ipv6.failing_step"})


def state_of(row: HostRow) -> dict[str, Any]:
    """What a report said that history needs, without what changes every time (its id,
    its times, how long each probe took)."""
    return {"site": row.site, "hostname": row.hostname, "platform": row.platform,
            "agent_version": row.agent_version, "source": row.source,
            "facts": {k: v for k, v in row.facts.items() if k not in DERIVED_FACTS},
            "probes": row.probes}


def report_key(report_id: str) -> bytes | str:
    """A UUID as its 16 bytes (a BLOB), any other id as its text (never equal to a BLOB)."""
    try:
        if str(uuid.UUID(report_id)) == report_id:
            return uuid.UUID(report_id).bytes
    except ValueError:
        pass
    return report_id


def report_text(key: bytes | str) -> str:
    return str(uuid.UUID(bytes=key)) if isinstance(key, bytes) else key


def _sha(hex_digest: str) -> bytes:
    """The body's SHA-256 (hex), its first 16 bytes kept: enough to tell a retry from
    other content under the same id. Any other text (tools and tests) is hashed."""
    try:
        return bytes.fromhex(hex_digest)[:16]
    except ValueError:
        return hashlib.sha256(hex_digest.encode()).digest()[:16]


def _host_number(db: sqlite3.Connection, host_id: str) -> int:
    found = db.execute("SELECT id FROM host_ids WHERE host_id = ?", (host_id,)).fetchone()
    if found is not None:
        return found[0]
    cur = db.execute("INSERT INTO host_ids (host_id) VALUES (?)", (host_id,))
    return cur.lastrowid or 0


@dataclass(frozen=True)
class Incoming:
    row: HostRow
    body: str
    body_sha256: str


@dataclass(frozen=True)
class TokenInfo:
    token: StoredToken
    site: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None

    def valid(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class EnrollmentInfo:
    token: StoredToken
    site: str
    name: str
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True)
class HostKeyInfo:
    """One PC's own key (from enrollment), or an operator's leave for it to enroll."""

    host_id: str
    site: str
    token: StoredToken | None  # None: no key (yet)
    enrolled_at: float | None
    enrollment: str | None
    revoked_at: float | None
    may_enroll: bool

    @property
    def active(self) -> bool:
        return self.token is not None and self.revoked_at is None


@dataclass(frozen=True)
class ViewerInfo:
    token: StoredToken
    name: str
    scope: str  # as Scope.text() writes it
    created_at: float
    revoked_at: float | None


def _private(path: str) -> None:
    """The database holds every report and the token hashes: readable by its owner only.
    Created 0600 (SQLite gives its -wal and -shm files the same mode); an older, wider
    file is narrowed."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, 0o600)
        except FileNotFoundError:
            pass


def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # an acknowledged report survives power loss
    db.execute("PRAGMA busy_timeout=10000")
    return db


class Store:
    def __init__(self, path: Path | str):
        self.path = str(path)
        _private(self.path)
        self._w_lock, self._r_lock = threading.Lock(), threading.Lock()
        self._w = _connect(self.path)
        self._w.executescript(_SCHEMA)
        self._r = _connect(self.path)  # reads never wait behind the writer's fsync

    def close(self) -> None:
        with self._w_lock, self._r_lock:
            self._w.close()
            self._r.close()

    # ---- reports -----------------------------------------------------------------

    def ingest_batch(self, items: Sequence[Incoming], *, history_only: bool = False
                     ) -> list[str | Exception]:
        """One transaction for the whole batch; per item: stored, duplicate, conflict,
        foreign (the host belongs to another site), or the error that item alone met.
        ``history_only``: the log and states alone (a migration of old reports)."""
        results: list[str | Exception] = []
        with self._w_lock:
            db = self._w
            db.execute("BEGIN IMMEDIATE")
            try:
                for item in items:
                    # each report in its own savepoint: one that fails (a constraint, a
                    # value SQLite cannot store) is undone alone; the others commit
                    db.execute("SAVEPOINT one")
                    try:
                        results.append(self._ingest_one(db, item, history_only))
                    except (sqlite3.Error, ValueError) as e:  # UnicodeError is a ValueError
                        db.execute("ROLLBACK TO one")
                        results.append(e)
                    db.execute("RELEASE one")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return results

    def ingest(self, row: HostRow, body: str, body_sha256: str = "") -> bool:
        """One report (tools and tests); True when it was stored."""
        return self.ingest_batch([Incoming(row, body, body_sha256)])[0] == STORED

    @staticmethod
    def _ingest_one(db: sqlite3.Connection, item: Incoming, history_only: bool = False) -> str:
        row = item.row
        owner = db.execute("SELECT site FROM hosts WHERE host_id = ?", (row.host_id,)).fetchone()
        if owner is not None and owner[0] != row.site and not history_only:
            return FOREIGN  # a host stays in the site that enrolled it (see move_host)
        key, sha = report_key(row.report_id), _sha(item.body_sha256)
        known = db.execute("SELECT sha FROM log WHERE report_id = ?", (key,)).fetchone()
        if known is not None:
            return DUPLICATE if known[0] == sha else CONFLICT
        host = _host_number(db, row.host_id)
        state = state_of(row)
        text = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(text).digest()[:16]
        found = db.execute("SELECT id FROM states WHERE host = ? AND digest = ?",
                           (host, digest)).fetchone()
        if found is None:
            cur = db.execute("INSERT INTO states (host, digest, site, state, body) "
                             "VALUES (?, ?, ?, ?, ?)",
                             (host, digest, row.site, zlib.compress(text, 6),
                              zlib.compress(item.body.encode("utf-8"), 6)))
            state_id = cur.lastrowid
        else:
            state_id = found[0]
        db.execute("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?)",
                   (key, host, row.collected_at, row.received_at, sha, state_id))
        if history_only:
            return STORED
        db.execute(
            """INSERT INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (host_id) DO UPDATE SET
                 hostname=excluded.hostname,
                 platform=excluded.platform, agent_version=excluded.agent_version,
                 source=excluded.source, report_id=excluded.report_id,
                 collected_at=excluded.collected_at, received_at=excluded.received_at,
                 facts=excluded.facts, probes=excluded.probes
               WHERE excluded.collected_at >= hosts.collected_at
                 AND excluded.site = hosts.site""",
            (row.host_id, row.site, row.hostname, row.platform, row.agent_version,
             row.source, row.report_id, row.collected_at, row.received_at,
             json.dumps(row.facts, separators=(",", ":")),
             json.dumps(row.probes, separators=(",", ":"))))
        m = Measurement.from_row(row)
        if m is not None:
            db.execute("INSERT OR IGNORE INTO measurements VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (row.report_id, m.site, m.host_id, m.measured_at, m.download_bps,
                        m.upload_bps, m.latency_ms, m.server))
        return STORED

    def move_host(self, host_id: str, site: str) -> str | None:
        """The operator's move of a PC to another site; its former site, or None."""
        with self._w_lock:
            row = self._w.execute("SELECT site FROM hosts WHERE host_id = ?",
                                  (host_id,)).fetchone()
            if row is None:
                return None
            self._w.execute("UPDATE hosts SET site = ? WHERE host_id = ?", (site, host_id))
            return row[0]

    def hosts(self) -> Iterator[HostRow]:
        with self._r_lock:
            rows = self._r.execute(
                "SELECT host_id, site, hostname, platform, agent_version, source, report_id, "
                "collected_at, received_at, facts, probes FROM hosts").fetchall()
        for (host_id, site, hostname, platform, agent_version, source, report_id, collected_at,
             received_at, facts, probes) in rows:
            yield HostRow(host_id, site, hostname, platform, agent_version, source, report_id,
                          collected_at, received_at, json.loads(facts), json.loads(probes))

    def record_devices(self, site: str, devices: list[tuple[str, str, str | None]],
                       seen_at: float) -> None:
        """(mac, ip, vendor) seen at ``seen_at``: first seen kept, last seen and IP updated."""
        with self._w_lock:
            db = self._w
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    """INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (site, mac) DO UPDATE SET ip=excluded.ip,
                         vendor=excluded.vendor, last_seen=max(devices.last_seen, excluded.last_seen),
                         first_seen=min(devices.first_seen, excluded.first_seen)""",
                    [(site, mac, ip, vendor, seen_at, seen_at) for mac, ip, vendor in devices])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def devices(self) -> list[SeenDevice]:
        with self._r_lock:
            rows = self._r.execute("SELECT site, mac, ip, vendor, first_seen, last_seen "
                                   "FROM devices").fetchall()
        return [SeenDevice(*r) for r in rows]

    def measurements(self, since: float) -> list[Measurement]:
        with self._r_lock:
            rows = self._r.execute(
                "SELECT site, host_id, measured_at, download_bps, upload_bps, latency_ms, server "
                "FROM measurements WHERE measured_at >= ? ORDER BY measured_at", (since,)).fetchall()
        return [Measurement(*r) for r in rows]

    # ---- month by month ------------------------------------------------------------

    def monthly(self, month: str) -> dict[str, Any] | None:
        with self._r_lock:
            r = self._r.execute("SELECT results FROM monthly WHERE month = ?",
                                (month,)).fetchone()
        return None if r is None else json.loads(r[0])

    def keep_monthly(self, month: str, results: dict[str, Any]) -> None:
        with self._w_lock:
            self._w.execute("INSERT OR REPLACE INTO monthly VALUES (?, ?)",
                            (month, json.dumps(results, separators=(",", ":"))))

    def forget_monthly(self, since: str) -> None:
        """Months from ``since`` on are judged again (reports arrived for them late)."""
        with self._w_lock:
            self._w.execute("DELETE FROM monthly WHERE month >= ?", (since,))

    # ---- the first layout: every body kept in `reports` ----------------------------

    def legacy_reports(self, batch: int = 2000) -> Iterator[list[tuple]]:
        """The first layout's reports, in batches (site, received_at, sha256 hex, body),
        oldest first; nothing when there are none."""
        with self._r_lock:
            exists = self._r.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                     "AND name = 'reports'").fetchone()
        if not exists:
            return
        last = ""
        while True:
            with self._r_lock:
                rows = self._r.execute(
                    "SELECT report_id, site, received_at, body_sha256, body FROM reports "
                    "WHERE report_id > ? ORDER BY report_id LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [r[1:] for r in rows]

    def drop_legacy_reports(self) -> None:
        with self._w_lock:
            self._w.execute("DROP TABLE IF EXISTS reports")
            self._w.execute("VACUUM")

    def states_as_of(self, as_of: float) -> list[StoredReport]:
        """Each host's latest report collected at or before ``as_of``, with the state it
        carried: the fleet as it stood then. One index seek per host, whatever the length
        of the history."""
        with self._r_lock:
            rows = self._r.execute(
                """SELECT h.host_id, l.report_id, l.collected_at, l.received_at, s.site,
                          s.state
                   FROM host_ids h
                   JOIN log l ON l.report_id = (
                       SELECT report_id FROM log WHERE host = h.id AND collected_at <= ?
                       ORDER BY collected_at DESC LIMIT 1)
                   JOIN states s ON s.id = l.state""", (as_of,)).fetchall()
        return [StoredReport(host_id, report_text(key), collected_at, received_at, site,
                             json.loads(zlib.decompress(state)))
                for host_id, key, collected_at, received_at, site, state in rows]

    def report_ids(self, host_id: str | None = None) -> list[tuple[str, float]]:
        """(report id, collected_at) of every report (of a host), in the order received."""
        with self._r_lock:
            rows = self._r.execute(
                "SELECT l.report_id, l.collected_at FROM log l JOIN host_ids h ON h.id = l.host "
                "WHERE ? IS NULL OR h.host_id = ? ORDER BY l.received_at, l.collected_at",
                (host_id, host_id)).fetchall()
        return [(report_text(k), t) for k, t in rows]

    def bodies(self, host_id: str) -> list[str]:
        """The body of the first report of each state a host reported, oldest first."""
        with self._r_lock:
            rows = self._r.execute(
                "SELECT s.body FROM states s JOIN host_ids h ON h.id = s.host "
                "WHERE h.host_id = ? ORDER BY s.id", (host_id,)).fetchall()
        return [zlib.decompress(b).decode("utf-8") for (b,) in rows]

    def measurements_between(self, start: float, end: float) -> list[Measurement]:
        with self._r_lock:
            rows = self._r.execute(
                "SELECT site, host_id, measured_at, download_bps, upload_bps, latency_ms, server "
                "FROM measurements WHERE measured_at BETWEEN ? AND ? ORDER BY measured_at",
                (start, end)).fetchall()
        return [Measurement(*r) for r in rows]

    def report_count(self, site: str | None = None) -> int:
        with self._r_lock:
            if site is None:
                return self._r.execute("SELECT count(*) FROM log").fetchone()[0]
            return self._r.execute("SELECT count(*) FROM log l JOIN states s ON s.id = l.state "
                                   "WHERE s.site = ?", (site,)).fetchone()[0]

    # ---- tokens ------------------------------------------------------------------

    def add_token(self, site: str, token: StoredToken, now: float | None = None) -> None:
        with self._w_lock:
            self._w.execute("INSERT INTO tokens VALUES (?, ?, ?, ?, ?, NULL, NULL)",
                            (token.token_id, site, token.salt, token.digest, now or time.time()))

    def token(self, token_id: str) -> TokenInfo | None:
        with self._r_lock:
            r = self._r.execute("SELECT token_id, salt, digest, site, created_at, expires_at, "
                                "revoked_at FROM tokens WHERE token_id = ?",
                                (token_id,)).fetchone()
        if r is None:
            return None
        return TokenInfo(StoredToken(*r[:3]), *r[3:])

    def tokens(self, site: str | None = None) -> list[TokenInfo]:
        with self._r_lock:
            rows = self._r.execute("SELECT token_id, salt, digest, site, created_at, expires_at, "
                                   "revoked_at FROM tokens ORDER BY created_at").fetchall()
        out = [TokenInfo(StoredToken(*r[:3]), *r[3:]) for r in rows]
        return [t for t in out if site is None or t.site == site]

    def revoke_token(self, token_id: str, now: float | None = None) -> bool:
        with self._w_lock:
            cur = self._w.execute("UPDATE tokens SET revoked_at = ? WHERE token_id = ? "
                                  "AND revoked_at IS NULL", (now or time.time(), token_id))
            return cur.rowcount == 1

    def expire_site_tokens(self, site: str, at: float, keep: str) -> int:
        """Every valid token of ``site`` but ``keep`` stops working at ``at`` (rotation)."""
        with self._w_lock:
            cur = self._w.execute(
                "UPDATE tokens SET expires_at = ? WHERE site = ? AND token_id != ? "
                "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                (at, site, keep, at))
            return cur.rowcount

    # ---- enrollment: secrets per site, and each enrolled PC's own key -----------

    def add_enrollment(self, site: str, name: str, token: StoredToken,
                       now: float | None = None) -> None:
        with self._w_lock:
            self._w.execute("INSERT INTO enrollments VALUES (?, ?, ?, ?, ?, ?, NULL)",
                            (token.token_id, site, name, token.salt, token.digest,
                             now or time.time()))

    _ENROLLMENT_COLUMNS = ("SELECT token_id, salt, digest, site, name, created_at, revoked_at "
                           "FROM enrollments ")

    def enrollment(self, token_id: str) -> EnrollmentInfo | None:
        with self._r_lock:
            r = self._r.execute(self._ENROLLMENT_COLUMNS + "WHERE token_id = ?",
                                (token_id,)).fetchone()
        return None if r is None else EnrollmentInfo(StoredToken(*r[:3]), *r[3:])

    def enrollments(self) -> list[EnrollmentInfo]:
        with self._r_lock:
            rows = self._r.execute(self._ENROLLMENT_COLUMNS + "ORDER BY created_at").fetchall()
        return [EnrollmentInfo(StoredToken(*r[:3]), *r[3:]) for r in rows]

    def revoke_enrollment(self, token_id: str, now: float | None = None) -> bool:
        with self._w_lock:
            cur = self._w.execute("UPDATE enrollments SET revoked_at = ? WHERE token_id = ? "
                                  "AND revoked_at IS NULL", (now or time.time(), token_id))
            return cur.rowcount == 1

    _KEY_COLUMNS = ("SELECT host_id, site, token_id, salt, digest, enrolled_at, enrollment, "
                    "revoked_at, may_enroll FROM host_keys ")

    @staticmethod
    def _key(r: tuple) -> HostKeyInfo:
        token = StoredToken(r[2], r[3], r[4]) if r[2] else None
        return HostKeyInfo(r[0], r[1], token, r[5], r[6], r[7], bool(r[8]))

    def host_key(self, token_id: str) -> HostKeyInfo | None:
        with self._r_lock:
            r = self._r.execute(self._KEY_COLUMNS + "WHERE token_id = ?", (token_id,)).fetchone()
        return None if r is None else self._key(r)

    def host_key_of(self, host_id: str) -> HostKeyInfo | None:
        with self._r_lock:
            r = self._r.execute(self._KEY_COLUMNS + "WHERE host_id = ?", (host_id,)).fetchone()
        return None if r is None else self._key(r)

    def host_keys(self, site: str | None = None) -> list[HostKeyInfo]:
        with self._r_lock:
            rows = self._r.execute(self._KEY_COLUMNS + "ORDER BY site, enrolled_at").fetchall()
        return [k for k in map(self._key, rows) if site is None or k.site == site]

    def enroll_host(self, site: str, host_id: str, token: StoredToken, enrollment: str,
                    now: float | None = None) -> bool:
        """The PC's key, unless it has one or had one (then only an operator's leave,
        ``allow_enroll``, lets it enroll again). False when refused."""
        with self._w_lock:
            cur = self._w.execute(
                "INSERT INTO host_keys VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0) "
                "ON CONFLICT (host_id) DO UPDATE SET site = excluded.site, "
                "token_id = excluded.token_id, salt = excluded.salt, "
                "digest = excluded.digest, enrolled_at = excluded.enrolled_at, "
                "enrollment = excluded.enrollment, revoked_at = NULL, may_enroll = 0 "
                "WHERE host_keys.may_enroll = 1 AND host_keys.site = excluded.site",
                (host_id, site, token.token_id, token.salt, token.digest, now or time.time(),
                 enrollment))
            return cur.rowcount == 1

    def allow_enroll(self, site: str, host_id: str) -> None:
        """An operator's leave for one PC to enroll (again): a PC that reported before
        enrollment existed, or whose key was revoked. Its old key, if any, stops."""
        with self._w_lock:
            self._w.execute(
                "INSERT INTO host_keys (host_id, site, may_enroll) VALUES (?, ?, 1) "
                "ON CONFLICT (host_id) DO UPDATE SET may_enroll = 1, site = excluded.site, "
                "revoked_at = coalesce(host_keys.revoked_at, ?)", (host_id, site, time.time()))

    def revoke_host_key(self, host_id: str, now: float | None = None) -> bool:
        with self._w_lock:
            cur = self._w.execute("UPDATE host_keys SET revoked_at = ? WHERE host_id = ? "
                                  "AND token_id IS NOT NULL AND revoked_at IS NULL",
                                  (now or time.time(), host_id))
            return cur.rowcount == 1

    def active_keys(self, site: str) -> int:
        with self._r_lock:
            return self._r.execute("SELECT count(*) FROM host_keys WHERE site = ? AND "
                                   "token_id IS NOT NULL AND revoked_at IS NULL",
                                   (site,)).fetchone()[0]

    # ---- viewers -----------------------------------------------------------------

    def add_viewer(self, name: str, scope: str, token: StoredToken,
                   now: float | None = None) -> None:
        with self._w_lock:
            self._w.execute("INSERT INTO viewers VALUES (?, ?, ?, ?, ?, ?, NULL)",
                            (token.token_id, name, scope, token.salt, token.digest,
                             now or time.time()))

    def viewer(self, token_id: str) -> ViewerInfo | None:
        with self._r_lock:
            r = self._r.execute("SELECT token_id, salt, digest, name, scope, created_at, "
                                "revoked_at FROM viewers WHERE token_id = ?",
                                (token_id,)).fetchone()
        return None if r is None else ViewerInfo(StoredToken(*r[:3]), *r[3:])

    def viewers(self) -> list[ViewerInfo]:
        with self._r_lock:
            rows = self._r.execute("SELECT token_id, salt, digest, name, scope, created_at, "
                                   "revoked_at FROM viewers ORDER BY created_at").fetchall()
        return [ViewerInfo(StoredToken(*r[:3]), *r[3:]) for r in rows]

    def revoke_viewer(self, token_id: str, now: float | None = None) -> bool:
        with self._w_lock:
            cur = self._w.execute("UPDATE viewers SET revoked_at = ? WHERE token_id = ? "
                                  "AND revoked_at IS NULL", (now or time.time(), token_id))
            return cur.rowcount == 1
