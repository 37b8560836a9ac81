"""The on-disk queue: a report is written before it is sent and removed once acknowledged."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class SendError(Exception):
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


class Spool:
    def __init__(self, folder: Path):
        self.folder = folder
        self.rejected_dir = folder / "rejected"

    def put(self, collected_at: float, report_id: str, body: bytes) -> Path:
        """Atomically: a reader sees the whole entry or none of it, even after power loss."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.folder / f"{int(collected_at * 1000):014d}-{report_id}.json"
        tmp = final.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return final

    def pending(self) -> list[Path]:
        """Oldest first (names start with the collection time)."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.json"))

    def flush(self, send: Callable[[bytes], None]) -> FlushResult:
        """Send oldest first; stop at the first failure that a retry may cure."""
        result = FlushResult()
        entries = self.pending()
        for i, entry in enumerate(entries):
            try:
                send(entry.read_bytes())
            except SendError as e:
                if e.retry:
                    result.error, result.pending = str(e), len(entries) - i
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
