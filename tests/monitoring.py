"""Real Prometheus and Alertmanager processes for tests, and a webhook receiver."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import need_binary
from tests.fleet import free_port, http
from tests.procs import stop_process


def wait_ready(url: str, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", url)[0] == 200:
                return
        except OSError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{what} not ready in {timeout} s")


class Prometheus:
    def __init__(self, folder: Path, config: str, rule_files: dict[str, str] | None = None):
        binary = need_binary("prometheus")
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in (rule_files or {}).items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / "prometheus.yml").write_text(config, encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_ready(self.url + "/-/ready", self.proc, "prometheus")

    def query(self, promql: str) -> list[dict]:
        url = self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        status, _, body = http("GET", url)
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            raise AssertionError(f"{promql!r}: {answer.get('error', answer)}")
        return answer["data"]["result"]

    def wait_for(self, promql: str, predicate, timeout: float = 30):
        deadline = time.monotonic() + timeout
        result = None
        while time.monotonic() < deadline:
            result = self.query(promql)
            if predicate(result):
                return result
            time.sleep(0.5)
        raise AssertionError(f"{promql!r} never satisfied the condition; last: {result}")

    def stop(self) -> None:
        stop_process(self.proc)


class Alertmanager:
    def __init__(self, folder: Path, config: str):
        binary = need_binary("prometheus-alertmanager")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "alertmanager.yml").write_text(config, encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={folder / 'alertmanager.yml'}",
             f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address=", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_ready(self.url + "/-/ready", self.proc, "alertmanager")

    def stop(self) -> None:
        stop_process(self.proc)


class Webhook:
    """Collects Alertmanager's webhook notifications on loopback."""

    def __init__(self):
        self.notifications: list[dict] = []
        received = self.notifications

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class VictoriaMetrics:
    """Debian's victoria-metrics, the national long-term store: Prometheus remote_write in,
    the Prometheus query API out. Five years kept, as docs/monitoring.md advises; queries
    see samples at once (no 30 s latency offset) so that a test need not wait."""

    def __init__(self, folder: Path):
        binary = need_binary("victoria-metrics")
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [binary, f"-storageDataPath={folder / 'data'}", f"-httpListenAddr=127.0.0.1:{self.port}",
             "-retentionPeriod=5y", "-search.latencyOffset=0s", "-loggerLevel=ERROR"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_ready(self.url + "/health", self.proc, "victoria-metrics")

    query = Prometheus.query
    wait_for = Prometheus.wait_for

    def stop(self) -> None:
        stop_process(self.proc, grace=20)
