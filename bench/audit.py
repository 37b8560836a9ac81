"""Audit wall time: 20 hosts (20 real sshd on loopback, each its own host key) audited by
`yte audit ssh` with 1, 4 and 16 workers, beside what an IT person would script instead:
OpenSSH's `ssh` running the same shell collection on every host through `xargs -P`.

Needs root (sshd) and Debian's openssh-server. Prints and saves bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import save  # noqa: E402
from tests.sshd import Sshd, keygen  # noqa: E402
from yte_compliance.agent.remote.snapshot import script  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--workers", default="1,4,16")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="yte-bench-audit-") as tmp:
        tmp = Path(tmp)
        key = keygen(tmp / "client_key")
        servers = []
        try:
            for i in range(args.hosts):
                servers.append(Sshd(tmp / f"sshd{i}", client_key=key).start())
            known = tmp / "known_hosts"
            known.write_text("".join(s.known_hosts_line() for s in servers))
            lines = [f"known_hosts: {known}", "hosts:"]
            for i, s in enumerate(servers):
                lines += [f"  pc{i:02d}: {{address: 127.0.0.1, port: {s.port}, site: bv-tinh, "
                          f"key_file: {key}, ssh_agent: false}}"]
            inv = tmp / "inventory.yaml"
            inv.write_text("\n".join(lines) + "\n")
            (tmp / "collect.sh").write_text(script())
            rows = []
            for w in workers:
                t0 = time.perf_counter()
                out = subprocess.run(
                    [sys.executable, "-m", "yte_compliance", "audit", "ssh", "-i", str(inv),
                     "--no-send", "-o", str(tmp / f"out{w}"), "--workers", str(w)],
                    capture_output=True, text=True, cwd=ROOT, timeout=900, check=False)
                ours = time.perf_counter() - t0
                if out.returncode != 0:
                    raise SystemExit(f"audit failed:\n{out.stdout}\n{out.stderr}")
                t0 = time.perf_counter()
                ports = "\n".join(str(s.port) for s in servers)
                ref = subprocess.run(
                    ["xargs", "-P", str(w), "-I{}", "sh", "-c",
                     f"ssh -q -i {key} -o BatchMode=yes -o UserKnownHostsFile={known} "
                     f"-o StrictHostKeyChecking=yes -p {{}} root@127.0.0.1 sh -s "
                     f"< {tmp / 'collect.sh'} > /dev/null"],
                    input=ports, capture_output=True, text=True, timeout=900, check=False)
                theirs = time.perf_counter() - t0
                if ref.returncode != 0:
                    raise SystemExit(f"ssh reference failed: {ref.stderr}")
                rows.append({"workers": w, "yte_audit_seconds": round(ours, 2),
                             "openssh_shell_seconds": round(theirs, 2),
                             "ratio": round(ours / theirs, 2),
                             "reports": len(list((tmp / f"out{w}").glob("*.json")))})
                print(f"{w:>2} workers: yte audit ssh {ours:6.2f} s  |  ssh + shell script "
                      f"{theirs:6.2f} s  |  ratio {ours / theirs:.2f}×  "
                      f"({rows[-1]['reports']} reports)")
        finally:
            for s in servers:
                s.stop()
    save("audit", {"hosts": args.hosts, "cpus": os.cpu_count(), "runs": rows,
                   "note": "yte: facts parsed into reports (python3 bundle on each host); "
                           "ssh: the shell collection's raw output only, nothing parsed"})
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
