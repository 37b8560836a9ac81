"""`yte report`: the year-end report (yte_compliance.apps.yearend) to a file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from yte_compliance.apps.yearend import FORMATS, generate, write


@click.command()
@click.option("--config", "-c", "config_path", required=True, type=click.Path(dir_okay=False),
              help="the collector's YAML (its database, sites, targets, declarations)")
@click.option("--year", required=True, type=int)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]),
              help="the figures of that day (default: the year's end, or today)")
@click.option("--province")
@click.option("--site")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="default: bao-cao-YEAR.FORMAT")
@click.option("--number", help="the document's number (Số: NUMBER/BC-SYT); default: dots "
                               "to fill in by hand")
@click.option("--date", "issued", type=click.DateTime(["%Y-%m-%d"]),
              help="the date the report is issued (default: today)")
@click.option("--monthly", is_flag=True,
              help="print each target month by month (tháng 1 … tháng 12) instead")
def report(config_path: str, year: int, as_of: dt.datetime | None, province: str | None,
           site: str | None, fmt: str, out: str | None, number: str | None,
           issued: dt.datetime | None, monthly: bool) -> None:
    """Báo cáo năm ĐẠT / CHƯA ĐẠT / the year-end report (xlsx, html, pdf, json).
    The heading and signature come from the collector config's `report:` section."""
    if monthly:
        from yte_compliance.apps.yearend import monthly as month_by_month

        click.echo(month_by_month(config_path, year, province=province, site=site))
        return
    result = generate(config_path, year, as_of=as_of.date() if as_of else None,
                      province=province, site=site, number=number,
                      issued=issued.date() if issued else None)
    path = Path(out or f"bao-cao-{year}.{fmt}")
    write(result, fmt, path)
    passing = sum(r.status == "pass" for r in result.summary)
    click.echo(f"{path}: {len(result.summary)} chỉ tiêu, {passing} ĐẠT; "
               f"{len(result.sites)} cơ sở; số liệu đến / as of {result.as_of}")
