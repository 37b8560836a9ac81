"""Group commit: one writer thread takes every report waiting, commits them in one
transaction, then answers each. Durable acknowledgements without one fsync per report,
and one wake-up of the event loop per batch, not per report."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable

from yte_compliance.collector.store import STORED, HostRow, Incoming, Store


class Busy(Exception):
    """More reports are waiting than the configured bound: the client should retry."""


def _resolve(answers: list[tuple[asyncio.Future, str | BaseException]]) -> None:
    for future, answer in answers:
        if future.done():  # the client went away
            continue
        if isinstance(answer, BaseException):
            future.set_exception(answer)
        else:
            future.set_result(answer)


class Ingestor:
    def __init__(self, store: Store, on_stored: Callable[[HostRow], None], *,
                 max_batch: int = 512, max_pending: int = 20_000):
        self.store, self.on_stored = store, on_stored
        self.max_batch, self.max_pending = max_batch, max_pending
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="yte-writer", daemon=True)
        self._thread.start()

    def submit(self, item: Incoming) -> asyncio.Future:
        """From the event loop: a future of 'stored' | 'duplicate' | 'conflict', set once
        the batch holding it is on disk."""
        if self._queue.qsize() >= self.max_pending:
            raise Busy(f"{self.max_pending} reports are waiting to be written")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((item, future, loop))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                results: list = self.store.ingest_batch([item for item, _, _ in batch])
            except Exception as e:  # noqa: BLE001 - every waiting client gets the error
                results = [e] * len(batch)
            else:
                for (item, _, _), result in zip(batch, results, strict=True):
                    if result == STORED:
                        self.on_stored(item.row)
            by_loop: dict[asyncio.AbstractEventLoop, list] = {}
            for (_, future, loop), result in zip(batch, results, strict=True):
                by_loop.setdefault(loop, []).append((future, result))
            for loop, answers in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_resolve, answers)
                except RuntimeError:  # that loop is closed: nobody waits any more
                    pass
