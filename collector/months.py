"""Month by month: each site's results at the end of every month, kept.

A past month's results are judged once from the history, as the year-end report would
judge them at the month's last second (collector.history.views_as_of, one index seek per
host), then stored (`monthly` in the store) and read back from then on, so a restart loses
nothing and a year costs twelve lookups. The current month is the live view. The web
pages' trend, `GET /api/v1/sites/{id}/history` and `yte report --monthly` read these."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import Any

from yte_compliance.collector.history import views_as_of
from yte_compliance.collector.state import Fleet
from yte_compliance.collector.store import Store
from yte_compliance.collector.world import World

Results = dict[str, dict[str, dict[str, Any]]]  # site → check → {status, value}


def month_end(year: int, month: int) -> float:
    """The last second of the month, local time (as the year-end report's as-of)."""
    first_next = dt.datetime(year + month // 12, month % 12 + 1, 1)
    return first_next.timestamp() - 1


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

    def month(self, year: int, month: int) -> Results:
        """Every site's results at the end of a past month (judged once, then kept). A
        site no agent had reported from by then is left out: "—", not CHƯA RÕ."""
        key = f"{year:04d}-{month:02d}"
        with self._lock:
            kept = self.store.monthly(key)
            if kept is not None:
                return kept
            views = views_as_of(self.store, self.world.sites, self.world.targets,
                                self.world.policy, month_end(year, month),
                                stale_after=self.stale_after, forget_after=self.forget_after,
                                bandwidth_window=self.bandwidth_window)
            out: Results = {sid: {r.check: {"status": r.status, "value": r.value}
                                  for r in v.results}
                            for sid, v in views.items() if v.hosts or v.bandwidth}
            self.store.keep_monthly(key, out)
            return out

    def year(self, sites: Iterable[str], year: int | None = None) -> list[tuple[int, Results]]:
        """(month, results of ``sites``) from January to the current month (the live view,
        which needs the fleet) or, for a past year, to December."""
        today = dt.date.fromtimestamp(self.clock())
        year = year or today.year
        last = today.month if year == today.year else 12
        wanted = set(sites)
        out = []
        for m in range(1, last + 1):
            if year == today.year and m == today.month:
                if self.fleet is None:
                    raise ValueError("the current month needs the live fleet")
                views = self.fleet.current_views()
                results = {s: {r.check: {"status": r.status, "value": r.value}
                               for r in views[s].results}
                           for s in wanted if s in views and (views[s].hosts or views[s].bandwidth)}
            elif (year, m) > (today.year, today.month):
                results = {}
            else:
                results = {s: r for s, r in self.month(year, m).items() if s in wanted}
            out.append((m, results))
        return out
