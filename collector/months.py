"""Month by month: each site's results at the end of every month, kept.

A past month's results are judged once from the history, as the year-end report would
judge them at the month's last second (collector.history.views_as_of, one index seek per
host), then stored (`monthly` in the store) and read back from then on, so a restart loses
nothing and a year costs twelve lookups. The current month is the live view. The web
pages' trend, `GET /api/v1/sites/{id}/history` and `yte report --monthly` read these."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from yte_compliance.collector.history import views_as_of
from yte_compliance.collector.state import Fleet, SiteView
from yte_compliance.collector.store import Store
from yte_compliance.collector.world import World

Results = dict[str, dict[str, dict[str, Any]]]  # site → check → {status, value}


def month_end(year: int, month: int) -> float:
    """The last second of the month, local time (as the year-end report's as-of)."""
    first_next = dt.datetime(year + month // 12, month % 12 + 1, 1)
    return first_next.timestamp() - 1


def results_of(views: Mapping[str, SiteView]) -> Results:
    """Each site's results; a site no agent had reported from is left out ("—", not a row
    of CHƯA RÕ)."""
    return {sid: {r.check: {"status": r.status, "value": r.value} for r in v.results}
            for sid, v in views.items() if v.hosts or v.bandwidth}


class Months:
    def __init__(self, world: World, store: Store, fleet: Fleet | None,
                 clock: Callable[[], float],
                 *, stale_after: float, forget_after: float, bandwidth_window: float):
        self.world, self.store, self.fleet, self.clock = world, store, fleet, clock
        self.stale_after, self.forget_after = stale_after, forget_after
        self.bandwidth_window = bandwidth_window
        self._lock = threading.Lock()

    def note(self, collected_at: float) -> None:
        """A report stored late (a PC back after weeks offline): the months it belongs to,
        and those after, are judged again when next read."""
        day = dt.date.fromtimestamp(collected_at)
        today = dt.date.fromtimestamp(self.clock())
        if (day.year, day.month) < (today.year, today.month):
            with self._lock:
                self.store.forget_monthly(f"{day.year:04d}-{day.month:02d}")

    def at(self, moment: float) -> Results:
        """Every site's results as the history stood at ``moment`` (not kept)."""
        return results_of(views_as_of(
            self.store, self.world.sites, self.world.targets, self.world.policy, moment,
            stale_after=self.stale_after, forget_after=self.forget_after,
            bandwidth_window=self.bandwidth_window))

    def month(self, year: int, month: int) -> Results:
        """Every site's results at the end of a past month (judged once, then kept)."""
        key = f"{year:04d}-{month:02d}"
        with self._lock:
            kept = self.store.monthly(key)
            if kept is None:
                kept = self.at(month_end(year, month))
                self.store.keep_monthly(key, kept)
            return kept

    def year(self, sites: Iterable[str], year: int | None = None) -> list[tuple[int, Results]]:
        """(month, results of ``sites``) from January to the current month (the live view;
        without a fleet, the history as of now) or, for a past year, to December."""
        today = dt.date.fromtimestamp(self.clock())
        year = year or today.year
        last = today.month if year == today.year else 12
        wanted = set(sites)
        out = []
        for m in range(1, last + 1):
            if year == today.year and m == today.month:
                results = (results_of(self.fleet.current_views()) if self.fleet is not None
                           else self.at(self.clock()))
            elif (year, m) > (today.year, today.month):
                results = {}  # a month not yet begun
            else:
                results = self.month(year, m)
            out.append((m, {s: r for s, r in results.items() if s in wanted}))
        return out
