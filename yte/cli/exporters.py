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


def url_options(f):
    f = click.option("--public-url", help="the collector's public URL (overrides --config)")(f)
    return click.option("--config", "-c", type=click.Path(dir_okay=False),
                        help="the collector's YAML: its public_url is where the runbooks "
                             "and web pages are")(f)


def _public_url(config: str | None, public_url: str | None) -> str:
    """One setting, the collector config's public_url; the example's URL without one."""
    from yte_compliance.core.protocol import EXAMPLE_PUBLIC_URL

    if public_url:
        return public_url.rstrip("/")
    if config:
        from yte_compliance.collector.config import load_collector_config

        url = load_collector_config(config).public_url
        if url:
            return url
        raise click.UsageError(f"{config}: không có public_url / no public_url: set it, or "
                               "pass --public-url")
    click.echo(f"cảnh báo / warning: links point at the example {EXAMPLE_PUBLIC_URL}; pass "
               "--config or --public-url", err=True)
    return EXAMPLE_PUBLIC_URL


def _need_out(out: str | None) -> Path:
    if out is None:
        raise click.UsageError("--out FOLDER: where to write (or use --check)")
    return Path(out)


@exporters.command()
@click.option("--targets", "targets_files", multiple=True, type=click.Path(dir_okay=False),
              help="a province's overrides over the shipped targets (repeat, in order)")
@out_option
@url_options
@check_option
def rules(targets_files: tuple[str, ...], out: str | None, config: str | None,
          public_url: str | None, check_only: bool) -> None:
    """Viết quy tắc Prometheus từ chỉ tiêu / write Prometheus rules from the targets.
    Each alert links its runbook under the collector's public_url (/runbooks/…)."""
    from yte_compliance.checks.targets import load_targets
    from yte_compliance.exporters.rules import render_rules, write_rules

    files = render_rules(load_targets(targets_files).values(), _public_url(config, public_url))
    if check_only:
        _check(files, out, RULES, "yte exporters rules --out …")
        return
    for path in write_rules(_need_out(out), files):
        click.echo(f"wrote {path}")


@exporters.command()
@click.option("--targets", "targets_files", multiple=True, type=click.Path(dir_okay=False),
              help="a province's overrides over the shipped targets (repeat, in order)")
@out_option
@url_options
@check_option
def dashboards(targets_files: tuple[str, ...], out: str | None, config: str | None,
               public_url: str | None, check_only: bool) -> None:
    """Viết bảng điều khiển Grafana / write the Grafana dashboards (JSON), linking each
    place to its web page under the collector's public_url."""
    from yte_compliance.checks.targets import load_targets
    from yte_compliance.exporters.grafana import render_dashboards, write_dashboards

    url, targets = _public_url(config, public_url), load_targets(targets_files)
    if check_only:
        _check(render_dashboards(url, targets), out, DASHBOARDS,
               "yte exporters dashboards --out …")
        return
    for path in write_dashboards(_need_out(out), url, targets):
        click.echo(f"wrote {path}")
