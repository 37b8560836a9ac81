"""The collector's /metrics for 10,000 hosts in 500 sites vs prometheus-pushgateway
serving the same series, side by side in one run. Loopback only.

The store is filled directly (ingest is benchmarked apart); the collector then runs as
`yte collector serve`, the first scrape renders, and N timed scrapes follow: unchanged
(served from cache) and, the case of a busy province, each right after a new report
(the changed site is re-rendered). The same exposition is pushed to a pushgateway and
scraped N times. Plain and gzip, as Prometheus asks for gzip.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (  # noqa: E402
    free_port,
    rss_kib,
    save,
    summary,
    time_get,
    wait_http,
    write_province,
)

HOSTS, SITES, RUNS = 10_000, 500, 20


def build_store(folder: Path, port: int) -> tuple[Path, str]:
    from tests.fleet import make_report
    from yte_compliance.collector.derive import derive
    from yte_compliance.collector.store import HostRow, Store
    from yte_compliance.collector.tokens import new_token
    from yte_compliance.core.report import parse_report

    types = ["hospital", "health_centre", "commune_station"]
    config = write_province(folder, [(f"site-{s:03d}", types[s % 3]) for s in range(SITES)],
                            port=port)
    store = Store(folder / "db.sqlite")
    now = time.time()
    for h in range(HOSTS):
        obj = make_report(f"site-{h % SITES:03d}", f"h{h:05d}", collected_at=now - h,
                          media=("ssd", "hdd", None)[h % 3], firewall=h % 7 != 0)
        r = parse_report(obj)
        store.ingest(HostRow(r.host_id, r.site, r.hostname, r.platform, r.agent_version,
                             r.source, r.report_id, r.collected_at, now, derive(r.flat_facts(), ()),
                             {n: {"status": p.status, "reason": p.reason, "unknown": p.unknown}
                              for n, p in r.probes.items()}), "{}")
    token, stored = new_token()
    store.add_token("site-000", stored)
    viewer, stored = new_token()
    store.add_viewer("bench", "province", stored)  # what Prometheus scrapes with
    store.close()
    return config, token, viewer


def time_after_report(base: str, token: str, viewer: str, runs: int, gzip: bool) -> list[float]:
    """Scrape latency when a report arrived since the last scrape."""
    import json

    from tests.fleet import make_report

    out = []
    for i in range(runs):
        rep = make_report("site-000", f"h{i % 20 * SITES:05d}", collected_at=time.time(),
                          firewall=bool(i % 2))
        req = urllib.request.Request(base + "/api/v1/reports",  # noqa: S310
                                     data=json.dumps(rep).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            r.read()
        out += time_get(base + "/metrics", 1, gzip=gzip, token=viewer)
    return out


def main() -> None:
    pushgateway = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if pushgateway is None:
        raise SystemExit("prometheus-pushgateway is not installed (apt-get install it)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cport, gport = free_port(), free_port()
        t0 = time.perf_counter()
        config, token, viewer = build_store(folder, cport)
        fill = time.perf_counter() - t0
        coll = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                                 "--config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        gw = subprocess.Popen([pushgateway, f"--web.listen-address=127.0.0.1:{gport}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            curl = f"http://127.0.0.1:{cport}/metrics"
            wait_http(f"http://127.0.0.1:{cport}/healthz", coll)
            t0 = time.perf_counter()
            first_get = urllib.request.Request(  # noqa: S310
                curl, headers={"Authorization": f"Bearer {viewer}"})
            with urllib.request.urlopen(first_get, timeout=120) as r:  # noqa: S310
                body = r.read()
            first = time.perf_counter() - t0
            series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            coll_plain = time_get(curl, RUNS, token=viewer)
            coll_gz = time_get(curl, RUNS, gzip=True, token=viewer)
            base = f"http://127.0.0.1:{cport}"
            changed_plain = time_after_report(base, token, viewer, RUNS, gzip=False)
            changed_gz = time_after_report(base, token, viewer, RUNS, gzip=True)
            coll_rss = rss_kib(coll.pid)

            gurl = f"http://127.0.0.1:{gport}"
            wait_http(gurl + "/-/ready", gw)
            push = urllib.request.Request(gurl + "/metrics/job/yte", data=body,  # noqa: S310
                                          method="PUT")
            with urllib.request.urlopen(push, timeout=300) as r:  # noqa: S310
                r.read()
            gw_plain = time_get(gurl + "/metrics", RUNS)
            gw_gz = time_get(gurl + "/metrics", RUNS, gzip=True)
            gw_rss = rss_kib(gw.pid)
        finally:
            for p in (coll, gw):
                p.terminate()
                p.wait(timeout=30)
    res = {
        "hosts": HOSTS, "sites": SITES, "series": series, "runs": RUNS,
        "fill_store_seconds": fill, "collector_first_render_seconds": first,
        "collector": {"plain": summary(coll_plain), "gzip": summary(coll_gz),
                      "changed_plain": summary(changed_plain),
                      "changed_gzip": summary(changed_gz), "rss_kib": coll_rss[0]},
        "pushgateway": {"plain": summary(gw_plain), "gzip": summary(gw_gz),
                        "rss_kib": gw_rss[0]},
    }
    for kind in ("plain", "gzip", "changed_plain", "changed_gzip"):
        enc = kind.removeprefix("changed_")
        res[f"ratio_{kind}"] = (res["collector"][kind]["median"]
                                / res["pushgateway"][enc]["median"])
    print(f"{HOSTS} hosts in {SITES} sites, {series} series; first render "
          f"{first:.2f} s (store filled in {fill:.1f} s)")
    print(f"{'GET /metrics, median (ms)':28}{'yte collector':>15}{'pushgateway':>13}{'ratio':>8}")
    for kind in ("plain", "gzip", "changed_plain", "changed_gzip"):
        enc = kind.removeprefix("changed_")
        c, g = res["collector"][kind]["median"], res["pushgateway"][enc]["median"]
        label = f"{enc}, after a report" if kind.startswith("changed") else f"{enc}, unchanged"
        print(f"{label:28}{c * 1000:>15.1f}{g * 1000:>13.1f}{c / g:>8.2f}")
    print(f"{'RSS (MiB)':28}{coll_rss[0] / 1024:>15.1f}{gw_rss[0] / 1024:>13.1f}")
    print("goal: collector /metrics ≤ 2× pushgateway's latency")
    print(f"saved {save('metrics_vs_pushgateway', res)}")


if __name__ == "__main__":
    main()
