"""The on-disk queue: a report is written before it is sent and removed once acknowledged.

Bounded, by age, count and size. What is dropped first is the **oldest** report: the
newest facts decide a site's current compliance; only history is lost, and the count of
dropped reports is kept on disk and sent with every report (`spool_dropped_total`), so
the collector shows the gap instead of hiding it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yte_compliance.core.errors import YteError


class SendError(YteError):
    """Sending failed; ``retry`` says whether the same report may succeed later."""

    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


@dataclass
class FlushResult:
    sent: int = 0
    rejected: int = 0
    pending: int = 0
    error: str | None = None
    retry: bool = False  # the error may pass: try again later


@dataclass(frozen=True)
class SpoolLimits:
    max_reports: int = 2000  # ≈ 20 days of reports every 15 minutes
    max_bytes: int = 50 << 20
    max_age_seconds: float = 30 * 86400


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _atomic_write(path: Path, data: bytes) -> None:
    """A reader sees the whole file or none of it, even after power loss. A write that
    fails (a full disk) leaves nothing behind: the temporary file is removed."""
    tmp = path.with_suffix(".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


_STATE_BYTES = 64  # the counter is rewritten in place: no new block, so a full disk takes it


def _state(count: int) -> bytes:
    return json.dumps({"dropped_total": count}).encode().ljust(_STATE_BYTES - 1) + b"\n"


class Spool:
    def __init__(self, folder: Path, limits: SpoolLimits = SpoolLimits()):
        self.folder, self.limits = folder, limits
        self.rejected_dir = folder / "rejected"
        self.state_file = folder / "dropped-total"  # not *.json: only reports match that

    def put(self, collected_at: float, report_id: str, body: bytes) -> Path:
        """Write one report; an OSError (a full disk) leaves no partial file behind."""
        self._ready()
        final = self.folder / f"{int(collected_at * 1000):014d}-{report_id}.json"
        _atomic_write(final, body)
        return final

    def _ready(self) -> None:
        """The folder, and the counter's file made while there is room for it (carrying
        the count of an older agent's state.json over, so an upgrade loses no gap)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.state_file.exists():
            legacy = self.folder / "state.json"
            try:
                count = int(json.loads(legacy.read_text())["dropped_total"])
            except (OSError, ValueError, KeyError, TypeError):
                count = 0
            _atomic_write(self.state_file, _state(count))
            legacy.unlink(missing_ok=True)

    def pending(self) -> list[Path]:
        """Oldest first (names start with the collection time in milliseconds)."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*-*.json"))

    def dropped_total(self) -> int:
        try:
            return int(json.loads(self.state_file.read_text())["dropped_total"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def count_dropped(self, n: int) -> None:
        """Add ``n`` to the counter sent with every report. Rewritten in place in its
        fixed-size file, so it is kept even when the disk is full."""
        count = self.dropped_total() + n
        try:
            fd = os.open(self.state_file, os.O_WRONLY)
        except FileNotFoundError:
            _atomic_write(self.state_file, _state(count))
            return
        try:
            _write_all(fd, _state(count))
            os.fsync(fd)
        finally:
            os.close(fd)

    def enforce(self, now: float) -> int:
        """Drop what is past the limits, oldest first; returns how many were dropped."""
        entries = self.pending()
        sizes = {e: e.stat().st_size for e in entries}
        drop = [e for e in entries
                if now - int(e.name.split("-", 1)[0]) / 1000 > self.limits.max_age_seconds]
        keep = [e for e in entries if e not in drop]
        total = sum(sizes[e] for e in keep)
        while keep and (len(keep) > self.limits.max_reports or total > self.limits.max_bytes):
            oldest = keep.pop(0)
            total -= sizes[oldest]
            drop.append(oldest)
        if drop:
            self._ready()
            self.count_dropped(len(drop))
            for e in drop:
                e.unlink(missing_ok=True)
        return len(drop)

    def flush(self, send: Callable[[bytes], None]) -> FlushResult:
        """Send oldest first; stop at the first failure that a retry may cure."""
        result = FlushResult()
        entries = self.pending()
        for i, entry in enumerate(entries):
            try:
                send(entry.read_bytes())
            except SendError as e:
                if e.retry:
                    result.error, result.retry, result.pending = str(e), True, len(entries) - i
                    return result
                self.rejected_dir.mkdir(exist_ok=True, mode=0o700)
                os.replace(entry, self.rejected_dir / entry.name)
                (self.rejected_dir / (entry.name + ".reason")).write_text(str(e) + "\n")
                result.rejected += 1
                result.error = str(e)
                continue
            entry.unlink()
            result.sent += 1
        return result
