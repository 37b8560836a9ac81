"""Run the app under uvicorn (uvloop + httptools), in the foreground or a thread."""

from __future__ import annotations

import threading
import time

import uvicorn

from yte_compliance.collector.config import CollectorConfig


def make_server(app, cfg: CollectorConfig, log_level: str = "warning") -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=cfg.host, port=cfg.port, log_level=log_level, access_log=False,
        loop="uvloop", http="httptools", lifespan="off",
        ssl_certfile=str(cfg.tls_cert_file) if cfg.tls_cert_file else None,
        ssl_keyfile=str(cfg.tls_key_file) if cfg.tls_key_file else None,
        server_header=False,
    )
    return uvicorn.Server(config)


def start_in_thread(server: uvicorn.Server, timeout: float = 10.0) -> threading.Thread:
    thread = threading.Thread(target=server.run, name="yte-collector", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the collector did not start (port in use?)")
        time.sleep(0.02)
    return thread
