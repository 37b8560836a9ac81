"""The agent's schedule: collect every interval (plus jitter); send, and after a failure
retry with exponential backoff and full jitter. Sending never delays collection, and a
fresh report is always offered at once, so a site back online is seen within one
interval even deep into a backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from yte_compliance.agent.spool import FlushResult


@dataclass
class Schedule:
    interval: float
    jitter: float
    backoff_initial: float = 30.0
    backoff_max: float = 3600.0


class AgentLoop:
    def __init__(self, schedule: Schedule, collect: Callable[[], None],
                 flush: Callable[[], FlushResult], *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[float, float], float] = random.uniform,
                 say: Callable[[str], None] = print):
        self.s, self.collect, self.flush = schedule, collect, flush
        self.clock, self.sleep, self.rand, self.say = clock, sleep, rand, say
        self.failures = 0

    def backoff(self) -> float:
        """Full jitter: uniform in [0, min(max, initial·2^(failures−1))]."""
        ceiling = min(self.s.backoff_max, self.s.backoff_initial * 2 ** (self.failures - 1))
        return self.rand(0, ceiling)

    def _send(self, now: float, next_collect: float) -> float:
        """Flush the spool; when to send next."""
        result = self.flush()
        if result.error and result.retry:
            self.failures += 1
            next_send = now + self.backoff()
            self.say(f"chưa gửi được / not sent ({result.pending} waiting): "
                     f"{result.error}; retry in {next_send - now:.0f} s")
            return next_send
        if result.sent:
            self.say(f"đã gửi / sent {result.sent} report(s)")
        self.failures = 0
        return next_collect

    def run(self, cycles: int | None = None) -> None:
        """Forever, or for ``cycles`` wake-ups (tests)."""
        now = self.clock()
        next_collect = next_send = now
        woken = 0
        while cycles is None or woken < cycles:
            now = self.clock()
            if now >= next_collect:
                sent_first = now >= next_send
                if sent_first:  # what is spooled goes first: sending frees a full disk
                    next_send = self._send(now, next_collect)
                self.collect()
                next_collect = now + self.s.interval + self.rand(0, self.s.jitter)
                if not (sent_first and self.failures):  # the fresh report, at once
                    next_send = min(next_send, now)
            if now >= next_send:
                next_send = self._send(now, next_collect)
            woken += 1
            self.sleep(max(0.0, min(next_collect, next_send) - self.clock()))
