"""Ingest throughput: a simulated fleet (10,000 hosts in 500 sites, bounded to 60 s) posts
reports to `yte collector serve` on loopback through wrk; every answer counted is a
durable acknowledgement (group commit, synchronous=FULL).

Prints and saves sustained reports/s, p50/p99 latency, the collector's RSS, and checks
that the store holds every acknowledged report. In the same run, this machine's floors
for the same bodies: the same HTTP server answering 201 without storing
(bench/ingest_floor.py), and the same reception and group commit without HTTP; ingest is
reported as a fraction of the lower. National need: about 200,000 PCs reporting every
15 minutes ≈ 220 reports/s.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import free_port, rss_kib, save, wait_http, write_province  # noqa: E402

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


def load(wrk: str, cmd: list[str], folder: Path, port: int, args) -> tuple[str, tuple]:
    """wrk's report of the fleet posting to the server ``cmd`` starts, and its RSS."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc) if "serve" in cmd else \
            wait_port(port, proc)
        out = subprocess.run(
            [wrk, "-t2", f"-c{args.connections}", f"-d{args.seconds}s", "--timeout", "10s",
             "--latency", "-s", str(folder / "fleet.lua"), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=args.seconds + 60, check=True).stdout
        rss = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out, rss


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open within {timeout} s")


def parse_wrk(out: str) -> tuple[int, int, dict, str | None]:
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = re.search(r"Socket errors: (.*)", out)
    latency = {p: re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1) for p in ("50", "90", "99")}
    return requests, non2xx, latency, errors.group(1) if errors else None


def site_tokens(database: Path, sites: int) -> list[str]:
    """A token for each site-NNN, stored in ``database``; the plain tokens, in order."""
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    store = Store(database)
    tokens = []
    for s in range(sites):
        plain, stored = new_token()
        store.add_token(f"site-{s:03d}", stored)
        tokens.append(plain)
    store.close()
    return tokens


async def _once(data: bytes):
    yield data


def commit_only(folder: Path, template: str, args) -> float:
    """The same bodies through the collector's own reception (parse, checks, group
    commit to a fresh store) with as many in flight as wrk's connections, no HTTP:
    reports per second over the same time."""
    import asyncio
    import time

    from yte_compliance.apps.serve import open_full_collector
    from yte_compliance.collector.config import load_collector_config

    text = (folder / "collector.yaml").read_text().replace("db.sqlite", "floor.sqlite")
    (folder / "floor.yaml").write_text(text)
    cfg = load_collector_config(folder / "floor.yaml")
    tokens = site_tokens(cfg.database, args.sites)
    collector = open_full_collector(cfg)
    done = 0

    async def one(worker: int, deadline: float) -> None:
        nonlocal done
        n = 0
        while time.monotonic() < deadline:
            h = (worker * 7919 + n) % args.hosts
            s = h % args.sites
            body = (template.replace("@RID@", str(uuid.uuid4()))
                    .replace("@HOST@", f"h{h:05d}").replace("@SITE@", f"site-{s:03d}")
                    .replace("@TIME@", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))

            status, _, _ = await collector.reception.submit(
                f"Bearer {tokens[s]}", str(len(body)), _once(body.encode()), "bench")
            done += status in (200, 201)
            n += 1

    async def run() -> None:
        deadline = time.monotonic() + args.seconds
        await asyncio.gather(*(one(w, deadline) for w in range(args.connections)))

    asyncio.run(run())
    collector.close()
    return done / args.seconds


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

    with tempfile.TemporaryDirectory() as tmp:
        folder, port = Path(tmp), free_port()
        write_province(folder, [(f"site-{s:03d}", "commune_station")
                                for s in range(args.sites)], port=port, extra="log_level: warning\n")
        tokens = site_tokens(folder / "db.sqlite", args.sites)
        template = json.dumps(make_report("@SITE@", "@HOST@", collected_at=0,
                                          report_id="@RID@"))
        template = template.replace('"1970-01-01T00:00:00.000Z"', '"@TIME@"')
        (folder / "fleet.lua").write_text(LUA.format(
            hosts=args.hosts, sites=args.sites, template=lua_string(template),
            tokens="{" + ",".join(f'"{t}"' for t in tokens) + "}"))

        collector_cmd = [sys.executable, "-m", "yte_compliance", "collector", "serve",
                         "--config", str(folder / "collector.yaml")]
        floor_cmd = [sys.executable, str(Path(__file__).resolve().parent / "ingest_floor.py"),
                     str(folder / "collector.yaml")]
        out, rss = load(wrk, collector_cmd, folder, port, args)
        stored = Store(folder / "db.sqlite").report_count()
        floor_out, _ = load(wrk, floor_cmd, folder, port, args)
        commit_floor = commit_only(folder, template, args)

    requests, non2xx, latency, errors = parse_wrk(out)
    acked = requests - non2xx  # every request carries a new report id: 2xx means stored
    http_floor = parse_wrk(floor_out)[0] / args.seconds
    res = {"hosts": args.hosts, "sites": args.sites, "seconds": args.seconds,
           "connections": args.connections, "requests": requests, "non_2xx": non2xx,
           "socket_errors": errors, "acknowledged": acked,
           "stored": stored, "reports_per_second": acked / args.seconds,
           "latency": latency, "collector_rss_kib": rss[0], "collector_peak_rss_kib": rss[1],
           "floor_http_201_reports_per_second": http_floor,
           "floor_group_commit_reports_per_second": commit_floor,
           "national_need_reports_per_second": 200_000 / 900}
    lower = min(http_floor, commit_floor)
    res["fraction_of_lower_floor"] = res["reports_per_second"] / lower
    print(out)
    print(f"sustained {res['reports_per_second']:.0f} reports/s acknowledged and durable "
          f"({acked} in {args.seconds} s, {non2xx} refused); store holds {stored}")
    print(f"latency p50 {latency['50']}, p90 {latency['90']}, p99 {latency['99']}; "
          f"collector RSS {rss[0] / 1024:.0f} MiB (peak {rss[1] / 1024:.0f} MiB)")
    print(f"floors on this machine, same bodies: HTTP answering 201 without storing "
          f"{http_floor:.0f}/s; the same group commit without HTTP {commit_floor:.0f}/s; "
          f"ingest is {res['fraction_of_lower_floor']:.2f} of the lower")
    print(f"national need ≈ {res['national_need_reports_per_second']:.0f} reports/s")
    if stored < acked:
        raise SystemExit(f"LOST: {acked - stored} acknowledged reports are not in the store")
    print(f"saved {save('ingest', res)}")


if __name__ == "__main__":
    main()
