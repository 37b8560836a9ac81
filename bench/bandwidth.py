"""The agent's bandwidth measurement vs iperf3 on the same link, in one run: a veth link
between two network namespaces (198.18.0.0/15) shaped to 20, 80 and 200 Mbit/s, and a
3G station's line (8 Mbit/s, 150 ms each way, 1 % and 5 % of TCP segments lost, through
the user-space relay of tests/relay.py: this kernel has no netem). Needs root, iproute2,
iperf3.

Prints and saves per link: the agent's download/upload and iperf3's, the error in %, the
probe's seconds (lease to release) and bytes moved (against what iperf3 moves in the
same time) and the agent's CPU time. Goals: error ≤ 5 % on clean links and ≤ 10 % on
the 3G line, ≤ 12 s, bytes ≤ 1.5× iperf3's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import save  # noqa: E402

RATES = (20, 80, 200)
LINKS_3G = (("3G 1 %", 100), ("3G 5 %", 20))  # label, every Nth TCP segment lost


def _iperf3(pair, extra: list[str]) -> float:
    from yte_compliance.agent.probes.bandwidth import parse_iperf3

    for attempt in range(5):  # the server may still be closing the last test ("busy")
        out = subprocess.run(pair.argv(pair.b, "iperf3", "-c", pair.A4, "-J", "-P", "4", "-t",
                                       "4", "-O", "1", *extra), capture_output=True, text=True,
                             timeout=60).stdout
        try:
            return parse_iperf3(out)[0]
        except ValueError:
            if attempt == 4:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


def measure(pair, label: str, shape: float | None, folder: Path) -> dict:
    """The collector and iperf3 in namespace a, the agent in b: one row."""
    from tests.measuring import measuring

    with measuring(pair, folder) as (_, config):
        if shape is not None:
            pair.shape(shape)
        ref = {"download": _iperf3(pair, ["-R"]), "upload": _iperf3(pair, [])}
        proc = subprocess.Popen(pair.argv(pair.b, sys.executable, "-m", "yte_compliance", "agent",
                                          "bandwidth", "--config", str(config)),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = proc.stdout.read()
        _, _, usage = os.wait4(proc.pid, 0)
        answer = json.loads(out)
    facts = answer.get("facts") or {}
    row = {"link": label, "status": answer.get("status"), "reason": answer.get("reason"),
           "iperf3_download_bps": ref["download"], "iperf3_upload_bps": ref["upload"],
           "seconds": answer.get("duration_seconds"),
           "agent_cpu_seconds": usage.ru_utime + usage.ru_stime}
    if facts:
        moved = facts["bytes_down"] + facts["bytes_up"]
        same_time = (ref["download"] + ref["upload"]) / 8 * facts["duration_seconds"] / 2
        row.update(agent_download_bps=facts["download_bps"], agent_upload_bps=facts["upload_bps"],
                   error_download_pct=100 * abs(facts["download_bps"] - ref["download"])
                   / ref["download"],
                   error_upload_pct=100 * abs(facts["upload_bps"] - ref["upload"]) / ref["upload"],
                   bytes_moved=moved, bytes_vs_iperf3_same_time=moved / same_time,
                   server=facts.get("server"))
    return row


def main() -> None:
    from tests.netns import Pair, SlowLink

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for mbit in RATES:  # measuring() closes each link
            rows.append(measure(Pair(), f"{mbit} Mbit/s", mbit, Path(tmp) / f"r{mbit}"))
        for label, every in LINKS_3G:
            rows.append(measure(SlowLink(8, 0.150, every), label, None, Path(tmp) / f"g{every}"))
    print(f"{'link':>12} {'agent↓':>7} {'iperf3↓':>8} {'err↓':>6} {'agent↑':>7} {'iperf3↑':>8} "
          f"{'err↑':>6} {'secs':>5} {'MB':>6} {'×iperf3':>7} {'CPU s':>6}")
    for r in rows:
        if "agent_download_bps" not in r:
            print(f"{r['link']:>12} {r['status']}: {r['reason']}")
            continue
        print(" ".join([
            f"{r['link']:>12}", f"{r['agent_download_bps'] / 1e6:>7.2f}",
            f"{r['iperf3_download_bps'] / 1e6:>8.2f}", f"{r['error_download_pct']:>5.1f}%",
            f"{r['agent_upload_bps'] / 1e6:>7.2f}", f"{r['iperf3_upload_bps'] / 1e6:>8.2f}",
            f"{r['error_upload_pct']:>5.1f}%", f"{r['seconds']:>5.1f}",
            f"{r['bytes_moved'] / 1e6:>6.1f}", f"{r['bytes_vs_iperf3_same_time']:>7.2f}",
            f"{r['agent_cpu_seconds']:>6.2f}"]))
    print("goals: error ≤ 5 % (clean) / ≤ 10 % (3G 1 %), ≤ 12 s, bytes ≤ 1.5× iperf3's "
          "(Mbit/s; MB = 10^6 bytes; seconds: the probe, lease to release)")
    print(f"saved {save('bandwidth', {'links': rows})}")


if __name__ == "__main__":
    main()
