"""`yte demo`: the embedded default (yte_compliance.apps.demo), printed."""

from __future__ import annotations

from pathlib import Path

import click

NEXT_STEPS = """
Tiếp theo / next steps:
  1. Khai báo các cơ sở của tỉnh / declare the province's sites: copy
     configs/sites.example.yaml and configs/collector.example.yaml, then
     yte collector check -c collector.yaml
  2. Cấp mã cho từng cơ sở và người xem / a token per site and a viewer per reader:
     yte collector token add SITE -c collector.yaml; yte collector viewer add NAME -c …
  3. Cài tác tử lên máy trạm / put the agent on the PCs: pip install the wheel, then
     yte agent install (Windows: docs/deploy-windows.md; many PCs: yte deploy ssh)"""


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
            click.echo(f"Trang web / web pages: {d.base}/ui/ (đăng nhập bằng mã xem / sign in "
                       f"with the viewer token in {d.viewer_file})")
            click.echo(NEXT_STEPS)
            if no_wait:
                return
            click.echo("Ctrl-C để dừng / to stop")
            wait(d)
    except KeyboardInterrupt:
        pass
