"""The embedded default (`yte demo`): a collector with SQLite on localhost, this machine's
agent reporting into it once, the compliance table, /metrics served until stopped."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def write_demo_files(workdir: Path, port: int) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "sites.yaml").write_text(
        "version: 1\nsites:\n"
        "  - id: demo\n    name: Cơ sở thử nghiệm / demo site\n    type: hospital\n"
        "    province: Lâm Đồng\n    district: Đà Lạt\n", encoding="utf-8")
    (workdir / "collector.yaml").write_text(
        f"listen: 127.0.0.1:{port}\ndatabase: collector.db\nsites_file: sites.yaml\n"
        "allow_plain_http: true  # loopback only: the demo never leaves this machine\n"
        "log_level: warning  # the table, not log lines, on the terminal\n",
        encoding="utf-8")
    return workdir / "collector.yaml"


@dataclass(frozen=True)
class Demo:
    folder: Path
    base: str  # the collector's URL
    table: str  # the site's ĐẠT / CHƯA ĐẠT table, as printed
    viewer_file: Path  # the viewer token that reads /metrics
    alive: Callable[[], bool]  # the collector still serving


@contextmanager
def running_demo(port: int, workdir: Path | None = None) -> Iterator[Demo]:
    """The collector serving on ``port``, this machine's report in it; stopped on exit."""
    from yte_compliance.agent.send import post_report
    from yte_compliance.agent.service import build_report
    from yte_compliance.apps.serve import collector_app
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.server import make_server, start_in_thread
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token
    from yte_compliance.exporters.table import format_site

    folder = workdir or Path(tempfile.mkdtemp(prefix="yte-demo-"))
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

    server = make_server(collector_app(cfg), cfg)
    thread = start_in_thread(server)
    base = f"http://127.0.0.1:{port}"
    try:
        report = build_report(None, Path("/"), site="demo")
        post_report(base, plain, json.dumps(report.to_json_obj(), ensure_ascii=False).encode())
        request = urllib.request.Request(f"{base}/api/v1/sites/demo",  # noqa: S310
                                         headers={"Authorization": f"Bearer {viewer}"})
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            detail = json.loads(r.read())
        yield Demo(folder, base, format_site(detail), viewer_file, thread.is_alive)
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def wait(demo: Demo) -> None:
    while demo.alive():
        time.sleep(0.5)
