"""Connection hygiene against a real collector process whose open-file limit is small
(as under systemd's default): idle and slowloris connections cannot keep a real agent's
report out, and the collector never runs out of descriptors."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.fleet import http, make_bed, make_report
from tests.monitoring import wait_ready

pytestmark = pytest.mark.integration

NOFILE = 256  # the collector's own limit in this test
IDLE, SLOW = 400, 40  # more idle connections than it has descriptors
HEADER_TIMEOUT = 2.0


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def _connect(port: int) -> socket.socket | None:
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        return s
    except OSError:
        s.close()
        return None


def _closed_by_server(s: socket.socket) -> bool:
    s.settimeout(0.05)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except (TimeoutError, BlockingIOError, OSError):
        return False


def test_idle_and_slowloris_connections_cannot_starve_real_reports(tmp_path):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < IDLE + SLOW + 64:  # this test's own sockets
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    bed = make_bed(tmp_path / "c", extra=(
        f"limits:\n  header_timeout_seconds: {HEADER_TIMEOUT}\n  keep_alive_seconds: 2\n"
        "  body_timeout_seconds: 5\n"))
    proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "collector", "serve",
                             "-c", str(bed.config)], preexec_fn=_limit_files,  # noqa: S603,PLW1509
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        wait_ready(f"{bed.url}/healthz", proc, "collector")
        sockets = [s for s in (_connect(bed.port) for _ in range(IDLE)) if s is not None]

        def slowloris() -> None:  # a header byte every half second, bounded in time
            conns = [s for s in (_connect(bed.port) for _ in range(SLOW)) if s is not None]
            sockets.extend(conns)
            line = b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
            for i in range(len(line)):
                if stop.is_set():
                    return
                for c in conns:
                    try:
                        c.send(line[i:i + 1])
                    except OSError:
                        pass
                time.sleep(0.5)

        attacker = threading.Thread(target=slowloris, daemon=True)
        attacker.start()

        start = time.monotonic()  # the flood is in place
        accepted_after = None
        rep = make_report("tyt-xa-a", "real-pc", collected_at=time.time())
        while time.monotonic() - start < 20:  # bounded: the agent's retry, compressed
            try:
                if http("POST", bed.url + "/api/v1/reports", rep,
                        token=bed.tokens["tyt-xa-a"])[0] == 201:
                    accepted_after = time.monotonic() - start
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert accepted_after is not None, "a real report never got in"
        assert accepted_after < HEADER_TIMEOUT, accepted_after  # not even a deadline's wait

        time.sleep(HEADER_TIMEOUT + 1)
        still_open = [s for s in sockets if not _closed_by_server(s)]
        assert still_open == [], f"{len(still_open)} of {len(sockets)} left open"
        assert proc.poll() is None
        print(f"\nreal report accepted {accepted_after:.2f} s into {len(sockets)} hostile "
              f"connections; all closed within {HEADER_TIMEOUT + 1:.0f} s")
    finally:
        stop.set()
        for s in sockets:
            s.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    err = proc.stderr.read().decode()
    assert "Too many open files" not in err, err[-2000:]


def test_connection_bound_stays_below_the_file_limit():
    from yte_compliance.collector.server import FD_RESERVE, connection_bound

    assert connection_bound(4000, nofile=1024) == 1024 - FD_RESERVE
    assert connection_bound(100, nofile=65536) == 100
