"""`yte demo`: the embedded default — a collector with SQLite on localhost, this machine's
agent reporting into it once, the compliance table printed, /metrics served until Ctrl-C."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from pathlib import Path

import click


def write_demo_files(workdir: Path, port: int) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "sites.yaml").write_text(
        "version: 1\nsites:\n"
        "  - id: demo\n    name: Cơ sở thử nghiệm / demo site\n    type: commune_station\n"
        "    province: Lâm Đồng\n    district: Đà Lạt\n", encoding="utf-8")
    (workdir / "collector.yaml").write_text(
        f"listen: 127.0.0.1:{port}\ndatabase: collector.db\nsites_file: sites.yaml\n"
        "allow_plain_http: true  # loopback only: the demo never leaves this machine\n",
        encoding="utf-8")
    return workdir / "collector.yaml"


@click.command()
@click.option("--port", default=8746, show_default=True)
@click.option("--workdir", type=click.Path(file_okay=False),
              help="keep the demo's files here (default: a temporary folder)")
@click.option("--no-wait", is_flag=True, help="exit after printing the table")
def demo(port: int, workdir: str | None, no_wait: bool) -> None:
    """Chạy thử trên máy này / run collector + local agent once, print the table."""
    from yte_compliance.agent.cli import build_report
    from yte_compliance.agent.send import post_report
    from yte_compliance.collector.app import build_app
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.server import make_server, start_in_thread
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token
    from yte_compliance.exporters.table import format_site

    folder = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="yte-demo-"))
    cfg = load_collector_config(write_demo_files(folder, port))
    plain, stored = new_token()
    viewer, viewer_stored = new_token()  # reading needs a viewer token, as in production
    store = Store(cfg.database)
    store.add_token("demo", stored)
    store.add_viewer("demo", "province", viewer_stored)
    store.close()
    viewer_file = folder / "viewer.token"
    viewer_file.touch(mode=0o600)
    viewer_file.write_text(viewer + "\n", encoding="utf-8")

    server = make_server(build_app(cfg), cfg)
    thread = start_in_thread(server)
    base = f"http://127.0.0.1:{port}"
    try:
        report = build_report(None, Path("/"), site="demo")
        body = json.dumps(report.to_json_obj(), ensure_ascii=False).encode()
        post_report(base, plain, body)
        request = urllib.request.Request(f"{base}/api/v1/sites/demo",  # noqa: S310
                                         headers={"Authorization": f"Bearer {viewer}"})
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            detail = json.loads(r.read())
        click.echo(format_site(detail))
        click.echo(f'\n/metrics: curl -H "Authorization: Bearer $(cat {viewer_file})" '
                   f"{base}/metrics    (thư mục / files: {folder})")
        if no_wait:
            return
        click.echo("Ctrl-C để dừng / to stop")
        while thread.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        thread.join(timeout=5)
