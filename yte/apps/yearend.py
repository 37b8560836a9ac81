"""The year-end report of a province (or a site), as it stood at a date, from the
collector's report history, in the department's ĐẠT / CHƯA ĐẠT form (`yte report`)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from yte_compliance.core.errors import UsageError

FORMATS = ("xlsx", "html", "pdf", "json")


def as_of_moment(year: int, as_of: dt.date | None, now: float | None = None) -> dt.datetime:
    """The end of --as-of's day; else the end of a past year, or now for the current one."""
    if as_of is not None:
        return dt.datetime.combine(as_of, dt.time(23, 59, 59))
    current = dt.datetime.fromtimestamp(now or time.time())
    end = dt.datetime(year, 12, 31, 23, 59, 59)
    return min(end, current)


def generate(config: str | Path, year: int, *, as_of: dt.date | None = None,
             province: str | None = None, site: str | None = None,
             number: str | None = None, issued: dt.date | None = None):
    """The YearReport (exporters.yearly) for the collector configured in ``config``:
    issued by the config's ``report:`` agency under ``number`` on ``issued`` (today)."""
    from yte_compliance.collector.config import existing_database, load_collector_config
    from yte_compliance.collector.history import migrate_v1, views_as_of
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.views import site_json
    from yte_compliance.collector.world import load_world
    from yte_compliance.exporters.yearly import build, make_heading

    cfg = load_collector_config(config)
    world = load_world(cfg)
    sites, targets = world.sites, world.targets
    chosen = {k: v for k, v in sites.items()
              if (province is None or v.province == province) and (site is None or k == site)}
    if not chosen:
        raise UsageError("không có cơ sở nào / no site matches --province/--site")
    moment = as_of_moment(year, as_of)
    if moment.year != year:
        raise UsageError(f"--as-of {as_of} is not in {year}")
    store = Store(existing_database(cfg))
    try:
        migrate_v1(store)  # a store of the first layout, converted once
        views = views_as_of(store, chosen, targets, world.policy, moment.timestamp(),
                            stale_after=cfg.stale_after_seconds,
                            forget_after=cfg.forget_after_seconds,
                            bandwidth_window=cfg.bandwidth.window_days * 86400)
    finally:
        store.close()
    details = [site_json(views[s], targets, True) for s in sorted(views)]
    where = province or ", ".join(sorted({s.province for s in chosen.values()}))
    heading = make_heading(cfg.issuer, where, number, issued or dt.date.today())
    return build(details, year=year, as_of=moment, province=province, heading=heading)


def write(report, fmt: str, out: Path) -> None:
    from yte_compliance.exporters import render

    if fmt == "json":
        out.write_text(render.to_json(report), encoding="utf-8")
    elif fmt == "html":
        out.write_text(render.to_html(report), encoding="utf-8")
    elif fmt == "pdf":
        render.write_pdf(report, out)
    else:
        render.write_xlsx(report, out)
