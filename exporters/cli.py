"""`yte exporters …`: write the Prometheus rules and Grafana dashboards the project ships."""

from __future__ import annotations

from pathlib import Path

import click

from yte.yamlconf import ConfigError

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@click.group()
def exporters() -> None:
    """Quy tắc cảnh báo, bảng điều khiển / alert rules and dashboards."""


@exporters.command()
@click.option("--targets", "targets_files", multiple=True, type=click.Path(dir_okay=False),
              default=[str(CONFIGS / "targets.yaml")], show_default=True,
              help="defaults first, then a province's overrides (repeat)")
@click.option("--out", type=click.Path(file_okay=False), default=str(CONFIGS / "prometheus/rules"),
              show_default=True)
@click.option("--runbook-base", default="docs/runbooks", show_default=True,
              help="where docs/runbooks/<alert>.md is published (a URL on your wiki)")
@click.option("--check", "check_only", is_flag=True,
              help="exit non-zero if the files in --out differ from what would be written")
def rules(targets_files: tuple[str, ...], out: str, runbook_base: str, check_only: bool) -> None:
    """Viết quy tắc Prometheus từ chỉ tiêu / write Prometheus rules from the targets."""
    from checks.targets import load_targets
    from exporters.rules import render_rules, write_rules

    try:
        targets = load_targets(targets_files)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    files = render_rules(targets.values(), runbook_base)
    if check_only:
        stale = [n for n, c in files.items()
                 if not (Path(out) / n).exists() or (Path(out) / n).read_text("utf-8") != c]
        if stale:
            raise click.ClickException(f"out of date: {', '.join(stale)} (run yte exporters rules)")
        click.echo("up to date")
        return
    for path in write_rules(Path(out), files):
        click.echo(f"wrote {path}")


@exporters.command()
@click.option("--out", type=click.Path(file_okay=False),
              default=str(CONFIGS / "grafana/dashboards"), show_default=True)
@click.option("--check", "check_only", is_flag=True,
              help="exit non-zero if the files in --out differ from what would be written")
def dashboards(out: str, check_only: bool) -> None:
    """Viết bảng điều khiển Grafana / write the Grafana dashboards (JSON)."""
    from exporters.grafana import render_dashboards, write_dashboards

    if check_only:
        stale = [n for n, c in render_dashboards().items()
                 if not (Path(out) / n).exists() or (Path(out) / n).read_text("utf-8") != c]
        if stale:
            raise click.ClickException(f"out of date: {', '.join(stale)}")
        click.echo("up to date")
        return
    for path in write_dashboards(Path(out)):
        click.echo(f"wrote {path}")
