"""The probe contract: a probe reads facts; failures are contained, timed and reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yte_compliance.agent import runner as runner_mod
from yte_compliance.core.report import ProbeResult


class Unknown(Exception):
    """The probe cannot tell (no permission, no source on this machine): not a 'no'."""


@dataclass
class Context:
    """What a probe may touch, injected so that tests replay recorded machines."""

    root: Path = Path("/")
    run: runner_mod.Runner = None  # type: ignore[assignment]  # set in __post_init__
    now: Callable[[], float] = time.time
    options: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # sources shared by probes, per collection

    def __post_init__(self) -> None:
        # No runner given: this machine's commands under /, and none under an injected
        # root (this machine's lsblk or nft would describe it, not the recorded one).
        if self.run is None:
            self.run = (runner_mod.run if self.root == Path("/")
                        else runner_mod.none_under(str(self.root)))

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def read_text(self, absolute: str) -> str:
        return self.path(absolute).read_text(encoding="utf-8", errors="replace")


@dataclass
class Observed:
    """What a probe returns: its facts dataclass and, per unknown fact, the reason."""

    facts: Any
    unknown: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # per false fact, the reason


ProbeFn = Callable[[Context], Observed]


def run_probe(fn: ProbeFn, ctx: Context, clock: Callable[[], float] = time.perf_counter
              ) -> ProbeResult:
    start = clock()
    try:
        observed = fn(ctx)
    except Unknown as e:
        return ProbeResult("unknown", None, str(e) or "cannot tell", clock() - start)
    except Exception as e:  # noqa: BLE001 - one probe never aborts a report
        return ProbeResult("error", None, f"{type(e).__name__}: {e}", clock() - start)
    return ProbeResult("ok", observed.facts, None, clock() - start, dict(observed.unknown),
                       dict(observed.notes))
