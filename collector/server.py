"""Run the app under uvicorn (uvloop + httptools), in the foreground or a thread, with
connection hygiene uvicorn lacks: a deadline for a request's headers (from the connection,
or from the previous response), and a bound on open connections below the process's
open-file limit, so idle and slowloris clients cannot starve real agents."""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from yte_compliance.collector import log
from yte_compliance.collector.config import CollectorConfig

FD_RESERVE = 64  # files the process needs besides connections (database, logs, …)


def connection_bound(wanted: int, nofile: int | None = None) -> int:
    """``wanted`` connections, or fewer when the open-file limit would not hold them."""
    soft = nofile if nofile is not None else resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


def guarded_protocol(header_timeout: float, max_connections: int) -> type[asyncio.Protocol]:
    waiting: dict[Guarded, None] = {}  # no headers yet, oldest first

    class Guarded(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                # at the bound: the connection that has waited longest without sending
                # its headers makes room (an agent sends them at once); else this one
                victim = next(iter(waiting), None)
                if victim is None:
                    transport.close()
                    return
                victim._too_slow()
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout, self._too_slow)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                self.transport.close()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's headers, on the same deadline

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

    return Guarded


def bind_sockets(addresses: tuple[tuple[str, int], ...], backlog: int) -> list[socket.socket]:
    """A listening socket per address. "::" (or "") takes IPv4 too (IPV6_V6ONLY off):
    asyncio's own binding would turn it on, leaving IPv4 agents unanswered."""
    out = []
    try:
        for host, port in addresses:
            family = socket.AF_INET6 if ":" in host or host == "" else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            out.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                dual = host in ("::", "")
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual else 1)
            sock.bind((host or "::", port))
            sock.listen(backlog)
            sock.setblocking(False)
    except OSError:
        for sock in out:
            sock.close()
        raise
    return out


class Server(uvicorn.Server):
    """uvicorn's server on the sockets of every `listen:` address, bound here."""

    def __init__(self, config: uvicorn.Config, addresses: tuple[tuple[str, int], ...]):
        super().__init__(config)
        self.addresses = addresses

    def run(self, sockets=None) -> None:
        super().run(sockets=sockets or bind_sockets(self.addresses, self.config.backlog))


def make_server(app, cfg: CollectorConfig, log_level: str = "warning") -> uvicorn.Server:
    limits = cfg.limits
    bound = connection_bound(limits.max_connections)
    if bound < limits.max_connections:
        log.event("connections_bounded", level=30, max_connections=bound,
                  wanted=limits.max_connections,
                  detail="the open-file limit (LimitNOFILE) holds fewer connections")
    config = uvicorn.Config(
        app, host=cfg.host, port=cfg.port, log_level=log_level, access_log=False,
        loop="uvloop", http=guarded_protocol(limits.header_timeout_seconds, bound),
        lifespan="off", timeout_keep_alive=max(1, round(limits.keep_alive_seconds)),
        # the protocol holds connections at the bound itself (making room by closing the
        # longest-waiting one); uvicorn's own check would answer 503 at the bound
        limit_concurrency=bound + 1, backlog=min(2048, bound),
        ssl_certfile=str(cfg.tls_cert_file) if cfg.tls_cert_file else None,
        ssl_keyfile=str(cfg.tls_key_file) if cfg.tls_key_file else None,
        server_header=False,
    )
    return Server(config, cfg.listen or ((cfg.host, cfg.port),))


def start_in_thread(server: uvicorn.Server, timeout: float = 10.0) -> threading.Thread:
    thread = threading.Thread(target=server.run, name="yte-collector", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the collector did not start (port in use?)")
        time.sleep(0.02)
    return thread
