"""`yte demo`: the embedded default (yte_compliance.apps.demo), printed."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--port", default=8746, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False),
              help="keep the demo's files here (default: a temporary folder)")
@click.option("--no-wait", is_flag=True, help="exit after printing the table")
def demo(port: int, workdir: str | None, no_wait: bool) -> None:
    """Chạy thử trên máy này / run collector + local agent once, print the table."""
    from yte_compliance.apps.demo import running_demo, wait

    try:
        with running_demo(port, Path(workdir) if workdir else None) as d:
            click.echo(d.table)
            click.echo(f'\n/metrics: curl -H "Authorization: Bearer $(cat {d.viewer_file})" '
                       f"{d.base}/metrics    (thư mục / files: {d.folder})")
            if no_wait:
                return
            click.echo("Ctrl-C để dừng / to stop")
            wait(d)
    except KeyboardInterrupt:
        pass
