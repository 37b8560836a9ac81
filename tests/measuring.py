"""A collector and an iperf3 server in namespace a of a link, and an agent configuration
that measures from b: what the bandwidth tests and bench/bandwidth.py both stand on."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.fleet import make_bed
from tests.netns import serve_collector, stop


@contextlib.contextmanager
def measuring(pair, folder: Path) -> Iterator[tuple[object, Path]]:
    """(the link, the agent's config); the link is closed after."""
    procs: list[subprocess.Popen] = []
    try:
        bed = make_bed(folder / "c", extra="bandwidth:\n  period_hours: 0\n")
        bed.config.write_text(bed.config.read_text().replace("listen: 127.0.0.1:",
                                                             f"listen: {pair.A4}:"))
        url = f"http://{pair.A4}:{bed.port}"
        procs.append(serve_collector(lambda *a: pair.argv(pair.a, *a),
                                     lambda *a: pair.argv(pair.b, *a), bed.config, url))
        procs.append(subprocess.Popen(pair.argv(pair.a, "iperf3", "-s", "-B", pair.A4),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        (folder / "token").write_text(bed.tokens["tyt-xa-a"])
        (folder / "token").chmod(0o600)
        (folder / "agent.yaml").write_text(
            f"site: tyt-xa-a\ncollector_url: {url}\ntoken_file: token\nhost_id: h-measure\n"
            "bandwidth:\n  enabled: true\n  streams: 4\n")
        yield pair, folder / "agent.yaml"
    finally:
        stop(procs)
        pair.close()
