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


def monthly(config: str | Path, year: int, *, province: str | None = None,
            site: str | None = None, now: float | None = None) -> str:
    """Each target month by month ("tháng 1 … tháng 9") for a site (its verdict) or a
    province (sites meeting / sites): `yte report --monthly`. Past months are judged once
    from the history and kept in the store, as the web pages' trend reads them."""
    from yte_compliance.apps.pages import trend_table
    from yte_compliance.collector.config import existing_database, load_collector_config
    from yte_compliance.collector.history import migrate_v1
    from yte_compliance.collector.months import Months
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.world import load_world

    cfg = load_collector_config(config)
    world = load_world(cfg)
    chosen = {k for k, v in world.sites.items()
              if (province is None or v.province == province) and (site is None or k == site)}
    if not chosen:
        raise UsageError("không có cơ sở nào / no site matches --province/--site")
    now = now or time.time()
    store = Store(existing_database(cfg))
    try:
        migrate_v1(store)
        months = Months(world, store, None, lambda: now, stale_after=cfg.stale_after_seconds,
                        forget_after=cfg.forget_after_seconds,
                        bandwidth_window=cfg.bandwidth.window_days * 86400).year(chosen, year)
    finally:
        store.close()
    titles = {t.id: (t.title_vi, t.title_en) for t in world.targets.values()
              if any(t.id in r for _, res in months for r in res.values())}
    table = trend_table(months, titles, "vi")
    widths = [max(len(str(row[i])) for row in [table.header, *table.rows]) for i in
              range(len(table.header))]
    widths[0] = min(widths[0], 60)
    lines = ["  ".join(str(c)[:widths[i]].ljust(widths[i]) for i, c in enumerate(row)).rstrip()
             for row in [table.header, *table.rows]]
    where = site or province or ", ".join(sorted({world.sites[s].province for s in chosen}))
    return f"{where}, năm {year} (cơ sở đạt / số cơ sở theo tháng)\n" + "\n".join(lines)
