"""Helpers for benchmarks: start a process, wait for its port, read its memory, time HTTP."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def rss_kib(pid: int) -> tuple[int, int]:
    """(current RSS, peak RSS) in KiB from /proc/PID/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def time_get(url: str, runs: int, gzip: bool = False, token: str | None = None) -> list[float]:
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    out = []
    for _ in range(runs):
        req = urllib.request.Request(url, headers=headers)  # noqa: S310
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310
            r.read()
        out.append(time.perf_counter() - t0)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"median": statistics.median(s), "p90": s[min(len(s) - 1, int(0.9 * len(s)))],
            "min": s[0], "runs": len(s)}


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    data = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "kernel": platform.release()},
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def write_province(folder: Path, sites: list[tuple[str, str]], *, database: str = "db.sqlite",
                   port: int | None = None, extra: str = "") -> Path:
    """A simulated province's collector configuration in ``folder``: sites.yaml (each
    (id, type), in Lâm Đồng, districts in turn), the shipped targets and collector.yaml
    (plain HTTP on loopback: benchmarks only); its path."""
    import shutil

    lines = ["version: 1", "sites:"]
    for i, (sid, kind) in enumerate(sites):
        lines += [f"  - id: {sid}", f"    name: Cơ sở {i}", f"    type: {kind}",
                  "    province: Lâm Đồng", f"    district: Huyện {i % 12}"]
    (folder / "sites.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy(Path(__file__).resolve().parent.parent / "configs/targets.yaml",
                folder / "targets.yaml")
    listen = f"listen: 127.0.0.1:{port}\n" if port is not None else ""
    config = folder / "collector.yaml"
    config.write_text(f"{listen}database: {database}\nsites_file: sites.yaml\n"
                      f"targets_files: [targets.yaml]\nallow_plain_http: true\n{extra}")
    return config
