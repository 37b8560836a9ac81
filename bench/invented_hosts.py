"""One compromised station invents PCs: 5,000 made-up host ids from one site token, against
a province of 200 real hosts. Side by side in one run: the collector with no effective
host limit (as before the limit existed) and with the default limit (the station
declares 3 PCs in the sites file). Prints and saves the answers, /metrics size, scrape
time and the collector's RSS.

    .venv/bin/python bench/invented_hosts.py [--invented 5000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import rss_kib, save, summary, time_get, wait_http  # noqa: E402

SITES, REAL_PER_SITE = 10, 20


def build(folder: Path, limit: str):
    """The province: its real hosts in the store, the station's token, a viewer."""
    from tests.fleet import make_bed, make_report
    from yte_compliance.collector.derive import derive
    from yte_compliance.collector.store import HostRow, Store
    from yte_compliance.core.report import parse_report

    lines = ["version: 1", "sites:"]
    for s in range(SITES):
        lines += [f"  - id: site-{s}", f"    name: Cơ sở {s}", "    type: commune_station",
                  "    province: Lâm Đồng", f"    expected_hosts: {REAL_PER_SITE}"]
    lines += ["  - id: station-x", "    name: Trạm bị chiếm quyền", "    type: commune_station",
              "    province: Lâm Đồng", "    expected_hosts: 3"]
    bed = make_bed(folder, sites_yaml="\n".join(lines) + "\n",
                   extra=f"log_level: warning\nlimits:\n{limit}", site_ids=("station-x",))
    store = Store(folder / "collector.db")
    now = time.time()
    for s in range(SITES):
        for h in range(REAL_PER_SITE):
            r = parse_report(make_report(f"site-{s}", f"s{s}-h{h}", collected_at=now - h))
            store.ingest(HostRow(r.host_id, r.site, r.hostname, r.platform, r.agent_version,
                                 r.source, r.report_id, r.collected_at, now,
                                 derive(r.flat_facts(), ()), {}), "{}")
    store.close()
    return bed


def run(limit_name: str, limit: str, invented: int) -> dict:
    from tests.fleet import make_report

    with tempfile.TemporaryDirectory() as tmp:
        bed = build(Path(tmp) / "c", limit)
        viewer, token = bed.viewer, bed.tokens["station-x"]
        proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                                 "--config", str(bed.config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = bed.url
        try:
            wait_http(base + "/healthz", proc)
            before = len(_get(base + "/metrics", viewer))
            answers: Counter[int] = Counter()
            started = time.monotonic()
            for i in range(invented):  # bounded in count, and in time below
                rep = make_report("station-x", f"fake-{i:05d}", collected_at=time.time())
                answers[_post(base, rep, token)] += 1
                if time.monotonic() - started > 300:
                    break
            t0 = time.perf_counter()
            body = _get(base + "/metrics", viewer)  # the first scrape after the attack
            first = time.perf_counter() - t0
            scrape = summary(time_get(base + "/metrics", 5, token=viewer))
            rss, peak = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return {"limit": limit_name, "answers": dict(answers), "metrics_bytes_before": before,
            "metrics_bytes_after": len(body), "series_after": series,
            "first_scrape_seconds": first, "scrape_median_seconds": scrape["median"],
            "rss_kib": rss, "peak_rss_kib": peak}


def _get(url: str, token: str) -> bytes:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=120) as r:  # noqa: S310 - loopback
        return r.read()


def _post(base: str, rep: dict, token: str) -> int:
    req = urllib.request.Request(base + "/api/v1/reports", data=json.dumps(rep).encode(),  # noqa: S310
                                 method="POST", headers={"Authorization": f"Bearer {token}",
                                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--invented", type=int, default=5000)
    args = ap.parse_args()
    results = [
        run("none (max_hosts_per_site: 1000000, no margin)",
            "  max_hosts_per_site: 1000000\n  new_host_margin: 400000\n", args.invented),
        run("default (expected_hosts 3, margin 25 %)", "  new_host_margin: 0.25\n",
            args.invented),
    ]
    for r in results:
        print(f"{r['limit']}:\n  answers {r['answers']}; /metrics "
              f"{r['metrics_bytes_before'] / 1024:.0f} KiB → {r['metrics_bytes_after'] / 1024:.0f}"
              f" KiB ({r['series_after']} series), first scrape after "
              f"{r['first_scrape_seconds'] * 1000:.0f} ms, then {r['scrape_median_seconds'] * 1000:.0f}"
              f" ms, RSS {r['rss_kib'] / 1024:.0f} MiB")
    no_limit, limited = results
    print(f"/metrics after the attack, limited / unlimited: "
          f"{limited['metrics_bytes_after'] / no_limit['metrics_bytes_after']:.3f}×; scrape "
          f"{limited['first_scrape_seconds'] / no_limit['first_scrape_seconds']:.3f}× (first "
          "scrape after the attack)")
    print(f"wrote {save('invented_hosts', {'invented': args.invented, 'runs': results})}")


if __name__ == "__main__":
    main()
