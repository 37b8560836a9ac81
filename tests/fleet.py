"""Build schema-v1 reports and collector test beds for tests and benchmarks."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yte_compliance.core.report import (
    AntivirusFacts,
    BandwidthFacts,
    FirewallFacts,
    HardwareFacts,
    Ipv6Facts,
    PatchesFacts,
    ProbeResult,
    Report,
)

GiB = 1 << 30
ROOT = Path(__file__).resolve().parent.parent


def make_report(site: str, host: str, *, collected_at: float, ram: int | None = 8 * GiB,
                media: str | None = "ssd", firewall: bool | None = True,
                antivirus: bool | None = True, ipv6: bool = True,
                report_id: str | None = None, bandwidth_bps: float | None = None,
                os_version: str = "12") -> dict[str, Any]:
    unknown = {"os_disk_media": "virtual disk"} if media is None else {}
    probes = {
        "hardware": ProbeResult("ok", HardwareFacts(
            memory_installed_bytes=ram, memory_installed_source="smbios",
            memory_usable_bytes=int(ram * 0.97) if ram else None, os_family="linux",
            os_name="Debian GNU/Linux", os_version=os_version, os_disk_devices=["sda"],
            os_disk_media=media, os_disk_bus="sata"), unknown=unknown),
        "firewall": (ProbeResult("unknown", None, "nft: Operation not permitted")
                     if firewall is None else
                     ProbeResult("ok", FirewallFacts(inbound_filtering=firewall))),
        "antivirus": ProbeResult("ok", AntivirusFacts(any_running=antivirus)),
        "ipv6": ProbeResult("ok", Ipv6Facts(
            addresses=["2402:800:6314::10/global" if ipv6 else "fe80::10/link-local"],
            has_global_address=ipv6, default_route=ipv6, endpoint="https://yte.example.vn:8746",
            dns_aaaa=ipv6, tcp_reachable=ipv6, large_response=ipv6)),
        "patches": ProbeResult("ok", PatchesFacts(last_update_at=collected_at - 86400,
                                                  source="dpkg")),
    }
    if bandwidth_bps is not None:
        probes["bandwidth"] = ProbeResult("ok", BandwidthFacts(
            download_bps=bandwidth_bps, upload_bps=bandwidth_bps * 0.9, latency_ms=12.0,
            jitter_ms=1.5, server="collector test", streams=4,
            bytes_down=int(bandwidth_bps * 4.5 / 8), bytes_up=int(bandwidth_bps * 4 / 8),
            duration_seconds=9.0))
    return Report(report_id=report_id or str(uuid.uuid4()), host_id=host, hostname=f"pc-{host}",
                  site=site, agent_version="0.1.0", platform="linux",
                  collected_at=collected_at, probes=probes).to_json_obj()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Bed:
    """A collector's files in a folder: two sites with one token each."""

    folder: Path
    config: Path
    tokens: dict[str, str]
    port: int
    viewer: str = ""  # a province viewer: reads every site
    call: Any = None  # with the in-process app (conftest's `running`): Direct(app)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SITES_YAML = """version: 1
sites:
  - id: bv-tinh
    name: Bệnh viện tỉnh
    type: hospital
    province: Lâm Đồng
    district: Đà Lạt
  - id: tyt-xa-a
    name: Trạm Y tế xã A
    type: commune_station
    province: Lâm Đồng
    district: Đức Trọng
"""


def make_bed(folder: Path, *, sites_yaml: str = SITES_YAML, extra: str = "",
             declarations: str | None = None,
             site_ids: tuple[str, ...] = ("bv-tinh", "tyt-xa-a")) -> Bed:
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sites.yaml").write_text(sites_yaml, encoding="utf-8")
    (folder / "targets.yaml").write_text((ROOT / "configs/targets.yaml").read_text("utf-8"),
                                         encoding="utf-8")
    port = free_port()
    text = (f"listen: 127.0.0.1:{port}\ndatabase: collector.db\nsites_file: sites.yaml\n"
            f"targets_files: [targets.yaml]\nallow_plain_http: true\n{extra}")
    if declarations is not None:
        (folder / "declarations.yaml").write_text(declarations, encoding="utf-8")
        text += "declarations_file: declarations.yaml\n"
    (folder / "collector.yaml").write_text(text, encoding="utf-8")
    cfg = load_collector_config(folder / "collector.yaml")
    store = Store(cfg.database)
    tokens = {}
    for site in site_ids:
        plain, stored = new_token()
        store.add_token(site, stored)
        tokens[site] = plain
    viewer, stored = new_token()
    store.add_viewer("tests", "province", stored)
    store.close()
    return Bed(folder, folder / "collector.yaml", tokens, port, viewer)


def http(method: str, url: str, body: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None
         ) -> tuple[int, dict[str, str], bytes]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    h = {"Content-Type": "application/json", **(headers or {})}
    if token:
        h["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=h)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@contextmanager
def serving(config: Path, clock: Callable[[], float] | None = None) -> Iterator[Any]:
    """The collector of ``config`` serving in this process (on ``clock``, when a test
    replays history); stopped and closed after."""
    from yte_compliance.apps.serve import collector_app
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.server import make_server, start_in_thread

    cfg = load_collector_config(config)
    app = collector_app(cfg) if clock is None else collector_app(cfg, clock)
    server = make_server(app, cfg)
    thread = start_in_thread(server)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.close()


class Direct:
    """Requests through the collector's ASGI app in this process: no server, no socket.
    Called like ``http`` with a path instead of a URL: (status, headers, body)."""

    def __init__(self, app: Any):
        self.app = app

    def __call__(self, method: str, path: str, body: Any = None, token: str | None = None,
                 headers: dict[str, str] | None = None, raw: bytes | None = None
                 ) -> tuple[int, dict[str, str], bytes]:
        import asyncio

        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        h = {"content-type": "application/json", "content-length": str(len(data)),
             **{k.lower(): v for k, v in (headers or {}).items()}}
        if token:
            h["authorization"] = f"Bearer {token}"
        path, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": query.encode(), "root_path": "",
                 "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in h.items()],
                 "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 80)}
        messages = [{"type": "http.request", "body": data, "more_body": False}]
        sent: list[dict] = []

        async def receive() -> dict:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        start = next(m for m in sent if m["type"] == "http.response.start")
        out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, out


@contextmanager
def in_process(config: Path, clock: Callable[[], float] | None = None) -> Iterator[Any]:
    """The collector of ``config`` as an app in this process, without a server."""
    from yte_compliance.apps.serve import collector_app
    from yte_compliance.collector.config import load_collector_config

    cfg = load_collector_config(config)
    app = collector_app(cfg) if clock is None else collector_app(cfg, clock)
    try:
        yield app
    finally:
        app.state.close()


@contextmanager
def calling(bed: Bed, clock: Callable[[], float] | None = None) -> Iterator[Any]:
    """``bed``'s collector in this process; ``bed.call`` sends it requests."""
    with in_process(bed.config, clock) as app:
        bed.call = Direct(app)
        yield app
