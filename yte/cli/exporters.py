"""`yte exporters …`: write the Prometheus rules and Grafana dashboards the project ships."""

from __future__ import annotations

from pathlib import Path

import click

from yte_compliance.core.assets import config_text

RULES = "prometheus/rules"  # where the shipped copies live inside configs/
DASHBOARDS = "grafana/dashboards"

out_option = click.option(
    "--out", type=click.Path(file_okay=False),
    help="the folder to write (or, with --check, to compare); with --check and no --out, "
         "the copies shipped in the package")
check_option = click.option(
    "--check", "check_only", is_flag=True,
    help="exit non-zero if the files differ from what would be written")


@click.group()
def exporters() -> None:
    """Quy tắc cảnh báo, bảng điều khiển / alert rules and dashboards."""


def _check(files: dict[str, str], out: str | None, shipped: str, regenerate: str) -> None:
    """Compare what would be written with ``out`` (or the shipped copies)."""
    if out is None:
        def current(name: str) -> str | None:
            try:
                return config_text(f"{shipped}/{name}")
            except FileNotFoundError:
                return None
        where = f"the package's configs/{shipped}"
    else:
        folder = Path(out)
        if not folder.is_dir():
            raise click.ClickException(f"không có thư mục / no folder {folder}")

        def current(name: str) -> str | None:
            path = folder / name
            return path.read_text("utf-8") if path.is_file() else None
        where = str(folder)
    stale = [n for n, c in files.items() if current(n) != c]
    if stale:
        raise click.ClickException(f"khác / out of date in {where}: {', '.join(stale)} "
                                   f"(run {regenerate})")
    click.echo(f"khớp / up to date: {where}")


def _need_out(out: str | None) -> Path:
    if out is None:
        raise click.UsageError("--out FOLDER: where to write (or use --check)")
    return Path(out)


@exporters.command()
@click.option("--targets", "targets_files", multiple=True, type=click.Path(dir_okay=False),
              help="a province's overrides over the shipped targets (repeat, in order)")
@out_option
@click.option("--runbook-base", default="docs/runbooks", show_default=True,
              help="where docs/runbooks/<alert>.md is published (a URL on your wiki)")
@check_option
def rules(targets_files: tuple[str, ...], out: str | None, runbook_base: str,
          check_only: bool) -> None:
    """Viết quy tắc Prometheus từ chỉ tiêu / write Prometheus rules from the targets."""
    from yte_compliance.checks.targets import load_targets
    from yte_compliance.exporters.rules import render_rules, write_rules

    files = render_rules(load_targets(targets_files).values(), runbook_base)
    if check_only:
        _check(files, out, RULES, "yte exporters rules --out …")
        return
    for path in write_rules(_need_out(out), files):
        click.echo(f"wrote {path}")


@exporters.command()
@out_option
@check_option
def dashboards(out: str | None, check_only: bool) -> None:
    """Viết bảng điều khiển Grafana / write the Grafana dashboards (JSON)."""
    from yte_compliance.exporters.grafana import render_dashboards, write_dashboards

    if check_only:
        _check(render_dashboards(), out, DASHBOARDS, "yte exporters dashboards --out …")
        return
    for path in write_dashboards(_need_out(out)):
        click.echo(f"wrote {path}")
