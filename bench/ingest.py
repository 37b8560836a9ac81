"""Ingest throughput: a simulated fleet (10,000 hosts in 500 sites, bounded to 60 s) posts
reports to `yte collector serve` on loopback through wrk; every answer counted is a
durable acknowledgement (group commit, synchronous=FULL).

Prints and saves sustained reports/s, p50/p99 latency, the collector's RSS, and checks
that the store holds every acknowledged report. National need for comparison: about
200,000 PCs reporting every 15 minutes ≈ 220 reports/s.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import free_port, rss_kib, save, wait_http  # noqa: E402

LUA = r"""
local hosts, sites = {hosts}, {sites}
local tokens = {tokens}
local template = {template}
-- thread_id is a global set per thread by setup(); a local here would shadow it
local counter = 0
local threads = {{}}
function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() + thread_id * 7919)
end
request = function()
  counter = counter + 1
  local h = math.random(0, hosts - 1)
  local s = h % sites
  local rid = string.format("%08x-%04x-4%03x-8%03x-%012x", os.time(), thread_id, h % 4096,
                            counter % 4096, counter)
  local body = template:gsub("@RID@", rid):gsub("@HOST@", string.format("h%05d", h))
                       :gsub("@SITE@", string.format("site-%03d", s))
                       :gsub("@TIME@", os.date("!%Y-%m-%dT%H:%M:%SZ"))
  return wrk.format("POST", "/api/v1/reports",
                    {{["Content-Type"] = "application/json",
                      ["Authorization"] = "Bearer " .. tokens[s + 1]}}, body)
end
"""


def lua_string(s: str) -> str:
    return "[==[" + s + "]==]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=500)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    from tests.fleet import make_report
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp), free_port()
        lines = ["version: 1", "sites:"]
        for s in range(args.sites):
            lines += [f"  - id: site-{s:03d}", f"    name: Cơ sở {s}", "    type: commune_station",
                      "    province: Lâm Đồng"]
        (folder / "sites.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        shutil.copy(Path(__file__).resolve().parent.parent / "configs/targets.yaml", folder)
        (folder / "collector.yaml").write_text(
            f"listen: 127.0.0.1:{port}\ndatabase: db.sqlite\nsites_file: sites.yaml\n"
            "targets_files: [targets.yaml]\nallow_plain_http: true\nlog_level: warning\n")
        store = Store(folder / "db.sqlite")
        tokens = []
        for s in range(args.sites):
            plain, stored = new_token()
            store.add_token(f"site-{s:03d}", stored)
            tokens.append(plain)
        store.close()
        template = json.dumps(make_report("@SITE@", "@HOST@", collected_at=0,
                                          report_id="@RID@"))
        template = template.replace('"1970-01-01T00:00:00.000Z"', '"@TIME@"')
        (folder / "fleet.lua").write_text(LUA.format(
            hosts=args.hosts, sites=args.sites, template=lua_string(template),
            tokens="{" + ",".join(f'"{t}"' for t in tokens) + "}"))

        proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                                 "--config", str(folder / "collector.yaml")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", proc)
            out = subprocess.run(
                [wrk, "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s",
                 "--latency", "-s", str(folder / "fleet.lua"), f"http://127.0.0.1:{port}"],
                capture_output=True, text=True, timeout=args.seconds + 60, check=True).stdout
            rss = rss_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        stored = Store(folder / "db.sqlite").report_count()

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = re.search(r"Socket errors: (.*)", out)
    latency = {p: re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1) for p in ("50", "90", "99")}
    acked = requests - non2xx  # every request carries a new report id: 2xx means stored
    res = {"hosts": args.hosts, "sites": args.sites, "seconds": args.seconds,
           "connections": args.connections, "requests": requests, "non_2xx": non2xx,
           "socket_errors": errors.group(1) if errors else None, "acknowledged": acked,
           "stored": stored, "reports_per_second": acked / args.seconds,
           "latency": latency, "collector_rss_kib": rss[0], "collector_peak_rss_kib": rss[1],
           "national_need_reports_per_second": 200_000 / 900}
    print(out)
    print(f"sustained {res['reports_per_second']:.0f} reports/s acknowledged and durable "
          f"({acked} in {args.seconds} s, {non2xx} refused); store holds {stored}")
    print(f"latency p50 {latency['50']}, p90 {latency['90']}, p99 {latency['99']}; "
          f"collector RSS {rss[0] / 1024:.0f} MiB (peak {rss[1] / 1024:.0f} MiB)")
    print(f"national need ≈ {res['national_need_reports_per_second']:.0f} reports/s; "
          f"goal ≥ 2,000 reports/s")
    if stored < acked:
        raise SystemExit(f"LOST: {acked - stored} acknowledged reports are not in the store")
    print(f"saved {save('ingest', res)}")


if __name__ == "__main__":
    main()
