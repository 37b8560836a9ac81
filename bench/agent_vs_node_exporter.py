"""One agent collect vs prometheus-node-exporter on this machine, side by side.

Prints and saves: the agent's peak RSS and wall time for `yte agent collect --json`
(median of N runs, each a fresh process, as the agent runs on a PC) against
node_exporter's RSS after N scrapes and its scrape time. Loopback only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import free_port, rss_kib, save, summary, time_get, wait_http  # noqa: E402

RUNS = 7
YTE = [sys.executable, "-m", "yte_compliance", "agent", "collect", "--json"]


def agent_runs() -> tuple[list[float], list[int]]:
    walls, peaks = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        proc = subprocess.Popen(YTE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("yte agent collect failed")
        peaks.append(usage.ru_maxrss)  # KiB on Linux
    return walls, peaks


def node_exporter() -> dict:
    binary = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    if binary is None:
        raise SystemExit("prometheus-node-exporter is not installed (apt-get install it)")
    port = free_port()
    proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        wait_http(url, proc)
        scrapes = time_get(url, RUNS)
        rss, peak = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"scrape_seconds": summary(scrapes), "rss_kib": rss, "peak_rss_kib": peak}


def main() -> None:
    walls, peaks = agent_runs()
    ne = node_exporter()
    agent = {"wall_seconds": summary(walls), "peak_rss_kib": summary([float(p) for p in peaks])}
    ratio_rss = agent["peak_rss_kib"]["median"] / ne["peak_rss_kib"]
    ratio_time = agent["wall_seconds"]["median"] / ne["scrape_seconds"]["median"]
    print(f"{'':28}{'yte agent collect':>20}{'node_exporter':>16}{'ratio':>8}")
    print(f"{'peak RSS (MiB)':28}{agent['peak_rss_kib']['median'] / 1024:>20.1f}"
          f"{ne['peak_rss_kib'] / 1024:>16.1f}{ratio_rss:>8.2f}")
    print(f"{'time (s): collect / scrape':28}{agent['wall_seconds']['median']:>20.3f}"
          f"{ne['scrape_seconds']['median']:>16.3f}{ratio_time:>8.1f}")
    print("goals: agent RSS ≤ 1.5× node_exporter's; one collect ≤ 0.5 s "
          "(collect includes interpreter start-up; node_exporter's scrape does not)")
    path = save("agent_vs_node_exporter", {"runs": RUNS, "agent": agent, "node_exporter": ne,
                                           "ratio_peak_rss": ratio_rss,
                                           "ratio_time": ratio_time})
    print(f"saved {path}")


if __name__ == "__main__":
    main()
