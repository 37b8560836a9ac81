"""The agent's bandwidth measurement vs iperf3, per shaped rate, on the same veth link
between two network namespaces (198.18.0.0/15), in one run. Needs root, iproute2, iperf3.

Prints and saves per rate: the agent's download/upload and iperf3's, the error in %,
the agent's seconds and bytes moved (against what iperf3 moves in the same time) and
the agent's CPU time. Goals: error ≤ 5 %, ≤ 10 s, bytes ≤ 1.5× iperf3's.
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


def main() -> None:
    from tests.fleet import make_bed
    from tests.netns import Pair
    from yte_compliance.agent.probes.bandwidth import parse_iperf3

    pair = Pair()
    procs = []
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            bed = make_bed(folder / "c", extra="bandwidth:\n  period_hours: 0\n")
            bed.config.write_text(
                bed.config.read_text().replace("listen: 127.0.0.1:", f"listen: {pair.A4}:")
            )
            procs.append(
                subprocess.Popen(
                    pair.argv(
                        pair.a,
                        sys.executable,
                        "-m",
                        "yte_compliance",
                        "collector",
                        "serve",
                        "--config",
                        str(bed.config),
                    ),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            procs.append(
                subprocess.Popen(
                    pair.argv(pair.a, "iperf3", "-s", "-B", pair.A4),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            time.sleep(3)
            (folder / "token").write_text(bed.tokens["tyt-xa-a"])
            (folder / "token").chmod(0o600)
            (folder / "agent.yaml").write_text(
                f"site: tyt-xa-a\ncollector_url: http://{pair.A4}:{bed.port}\ntoken_file: token\n"
                "host_id: h-bench\nbandwidth:\n  enabled: true\n  streams: 4\n"
            )
            for mbit in RATES:
                pair.shape(mbit)
                ref = {}
                for direction, extra in (("download", ["-R"]), ("upload", [])):
                    out = subprocess.run(
                        pair.argv(
                            pair.b,
                            "iperf3",
                            "-c",
                            pair.A4,
                            "-J",
                            "-P",
                            "4",
                            "-t",
                            "3.5",
                            "-O",
                            "1",
                            *extra,
                        ),
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    ref[direction] = parse_iperf3(out)[0]
                t0 = time.perf_counter()
                proc = subprocess.Popen(
                    pair.argv(
                        pair.b,
                        sys.executable,
                        "-m",
                        "yte_compliance",
                        "agent",
                        "bandwidth",
                        "--config",
                        str(folder / "agent.yaml"),
                    ),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                out = proc.stdout.read()
                _, status, usage = os.wait4(proc.pid, 0)
                seconds = time.perf_counter() - t0
                facts = json.loads(out)["facts"]
                moved = facts["bytes_down"] + facts["bytes_up"]
                iperf_same_time = (ref["download"] + ref["upload"]) / 8 * facts["duration_seconds"] / 2
                row = {
                    "mbit": mbit,
                    "agent_download_bps": facts["download_bps"],
                    "iperf3_download_bps": ref["download"],
                    "agent_upload_bps": facts["upload_bps"],
                    "iperf3_upload_bps": ref["upload"],
                    "error_download_pct": 100
                    * abs(facts["download_bps"] - ref["download"])
                    / ref["download"],
                    "error_upload_pct": 100 * abs(facts["upload_bps"] - ref["upload"]) / ref["upload"],
                    "seconds": seconds,
                    "bytes_moved": moved,
                    "bytes_vs_iperf3_same_time": moved / iperf_same_time,
                    "agent_cpu_seconds": usage.ru_utime + usage.ru_stime,
                }
                rows.append(row)
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        pair.close()
    print(
        f"{'rate':>6} {'agent↓':>8} {'iperf3↓':>8} {'err↓':>6} {'agent↑':>8} {'iperf3↑':>8} "
        f"{'err↑':>6} {'secs':>5} {'MB moved':>9} {'×iperf3':>8} {'CPU s':>6}"
    )
    for r in rows:
        cells = [
            f"{r['mbit']:>4}Mb",
            f"{r['agent_download_bps'] / 1e6:>8.1f}",
            f"{r['iperf3_download_bps'] / 1e6:>8.1f}",
            f"{r['error_download_pct']:>5.1f}%",
            f"{r['agent_upload_bps'] / 1e6:>8.1f}",
            f"{r['iperf3_upload_bps'] / 1e6:>8.1f}",
            f"{r['error_upload_pct']:>5.1f}%",
            f"{r['seconds']:>5.1f}",
            f"{r['bytes_moved'] / 1e6:>9.1f}",
            f"{r['bytes_vs_iperf3_same_time']:>8.2f}",
            f"{r['agent_cpu_seconds']:>6.2f}",
        ]
        print(" ".join(cells))
    print(
        "goals: error ≤ 5 %, ≤ 10 s, bytes ≤ 1.5× iperf3's in the same time (Mbit/s; MB = 10^6 bytes)"
    )
    print(f"saved {save('bandwidth', {'rates': rows})}")


if __name__ == "__main__":
    main()
