"""The README's first command's job: `yte demo` prints the table for this machine within
60 s and serves /metrics until Ctrl-C."""

import signal
import subprocess
import sys
import time

import pytest

from tests.fleet import free_port, http

pytestmark = pytest.mark.integration


def test_demo_prints_the_table_and_serves_metrics(tmp_path):
    port = free_port()
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "yte_compliance", "demo", "--port", str(port),
                             "--workdir", str(tmp_path / "demo")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith("/metrics:"):
                break
            assert time.monotonic() - start < 60, "".join(out)
        elapsed = time.monotonic() - start
        text = "".join(out)
        assert elapsed < 60
        assert "Cơ sở / Site:" in text and "Đánh giá" in text
        for check in ("RAM", "tường lửa", "IPv6", "Kinh phí"):
            assert check in text
        assert "ĐẠT" in text or "CHƯA RÕ" in text
        viewer = (tmp_path / "demo" / "viewer.token").read_text().strip()
        assert f"cat {tmp_path / 'demo' / 'viewer.token'}" in text
        assert http("GET", f"http://127.0.0.1:{port}/metrics")[0] == 401
        status, _, body = http("GET", f"http://127.0.0.1:{port}/metrics", token=viewer)
        assert status == 200
        assert b'yte_site_check_unknown{site="demo"' in body
        assert b"yte_site_check_pass{site=\"demo\"" in body
        assert b'yte_host_info{site="demo"' in body
        # the web pages are there too: the sign-in page, then the demo site's page
        status, _, body = http("GET", f"http://127.0.0.1:{port}/ui/login")
        assert status == 200 and "Mã xem" in body.decode()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    # stderr shares the terminal with the table: no info log lines in the middle of it
    assert '"event": "collector_loaded"' not in err, err
