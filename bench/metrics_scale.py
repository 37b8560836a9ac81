"""/metrics as the province grows: 1,000, 10,000 and 50,000 hosts (20 per site), each
with `yte collector serve` started on a store holding them. Prints and saves, per size:
start-up (process start to the first /metrics answered), the first render, a scrape
right after a report (median of 10), a scrape after an idle minute (time alone: the
collector used to judge every site again), the series and the RSS.

Run it with the release to compare (its own venv: `…/bin/python bench/metrics_scale.py`)
to get the before and after of docs/benchmarks.md on one machine.

    .venv/bin/python bench/metrics_scale.py [--sizes 1000,10000,50000] [--idle 65]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import metrics_vs_pushgateway as fleet  # noqa: E402
from bench.common import free_port, rss_kib, save, time_get, wait_http  # noqa: E402


def one_size(hosts: int, idle: float) -> dict:
    fleet.HOSTS, fleet.SITES = hosts, max(1, hosts // 20)
    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp), free_port()
        config, token, viewer = fleet.build_store(folder, port)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                                 "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/healthz", proc, timeout=600)
            ready = time.perf_counter() - t0
            t1 = time.perf_counter()
            req = urllib.request.Request(base + "/metrics",  # noqa: S310 - loopback
                                         headers={"Authorization": f"Bearer {viewer}"})
            with urllib.request.urlopen(req, timeout=600) as r:  # noqa: S310
                body = r.read()
            first = time.perf_counter() - t1
            series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            after = fleet.time_after_report(base, token, viewer, 10, gzip=True)
            time.sleep(idle)  # nothing happens for a minute
            idle_scrape = time_get(base + "/metrics", 1, gzip=True, token=viewer)[0]
            rss = rss_kib(proc.pid)[0]
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return {"hosts": hosts, "sites": fleet.SITES, "series": series,
            "startup_seconds": round(ready + first, 2), "first_render_seconds": round(first, 3),
            "after_report_ms": round(statistics.median(after) * 1000, 1),
            "after_idle_minute_ms": round(idle_scrape * 1000, 1), "rss_mib": round(rss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--idle", type=float, default=65.0)
    ap.add_argument("--name", default="metrics_scale", help="the results file's name")
    ap.add_argument("--before", help="the Python of the release to compare (its venv): run "
                                     "first, the same sizes, side by side")
    args = ap.parse_args()
    before = None
    if args.before:
        import json

        subprocess.run([args.before, __file__, "--sizes", args.sizes, "--idle", str(args.idle),
                        "--name", "metrics_scale_before"], check=True, timeout=7200)
        path = Path(__file__).resolve().parent / "results/metrics_scale_before.json"
        before = json.loads(path.read_text())["sizes"]
    rows = [one_size(int(n), args.idle) for n in args.sizes.split(",")]
    print(f"{'hosts':>7} {'series':>9} {'start-up s':>11} {'after report ms':>16} "
          f"{'after idle min ms':>18} {'RSS MiB':>8}")
    for r in rows:
        print(f"{r['hosts']:>7,} {r['series']:>9,} {r['startup_seconds']:>11} "
              f"{r['after_report_ms']:>16} {r['after_idle_minute_ms']:>18} {r['rss_mib']:>8}")
    if len(rows) >= 2:
        ratio = rows[-1]["after_report_ms"] / rows[-2]["after_report_ms"]
        print(f"after a report, {rows[-1]['hosts']:,} / {rows[-2]['hosts']:,} hosts: {ratio:.1f}×")
    out: dict = {"sizes": rows}
    if before:
        out["before"] = before
        print("before → after (ratio after/before):")
        for b, a in zip(before, rows, strict=True):
            print(f"  {a['hosts']:>7,} hosts: start-up {b['startup_seconds']} → "
                  f"{a['startup_seconds']} s; after a report {b['after_report_ms']} → "
                  f"{a['after_report_ms']} ms ({a['after_report_ms'] / b['after_report_ms']:.2f}×); "
                  f"after an idle minute {b['after_idle_minute_ms']} → "
                  f"{a['after_idle_minute_ms']} ms; RSS {b['rss_mib']} → {a['rss_mib']} MiB")
    print(f"saved {save(args.name, out)}")


if __name__ == "__main__":
    main()
