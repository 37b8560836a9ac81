"""The site's uplink: several parallel TCP streams each way, the ramp-up (slow start)
left out before counting, bounded in time and bytes; latency and jitter from small
round trips. One agent per site measures, holding the collector's lease.

Servers: the collector's own endpoints (default), any HTTP server with the same shape
(LibreSpeed's garbage/empty URLs), or an iperf3 server (`iperf3 -J`, parsed here).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import BandwidthFacts

CHUNK = 1 << 16


@dataclass(frozen=True)
class Plan:
    kind: str = "collector"  # collector | http | iperf3
    url: str | None = None  # http: base URL; iperf3: host[:port]
    download_path: str = "/api/v1/speedtest/download?bytes={bytes}"
    upload_path: str = "/api/v1/speedtest/upload"
    ping_path: str = "/api/v1/speedtest/ping"
    streams: int = 4
    seconds: float = 3.5  # per direction, grace included: with the lease and the round
    # trips, a whole measurement takes about 10 s on a 3G line (300 ms round trip)
    download_grace: float = 1.0  # slow start, counted from each direction's first byte
    upload_grace: float = 1.25  # counted where the bytes arrive: no sender buffer to fill
    max_bytes: int = 300 << 20  # per direction, all streams together
    pings: int = 10
    ping_connections: int = 5  # pings run on this many connections at once


LIBRESPEED = {"download_path": "/backend/garbage.php?ckSize=100",
              "upload_path": "/backend/empty.php", "ping_path": "/backend/empty.php"}

Samples = list[list[tuple[float, int]]]  # per stream: (time, bytes so far)


# ---- pure computations -------------------------------------------------------------


def bytes_at(samples: list[tuple[float, int]], t: float) -> float:
    """Bytes a stream had moved at time t, interpolated between samples."""
    if not samples or t <= samples[0][0]:
        return 0.0 if not samples or t < samples[0][0] else float(samples[0][1])
    prev_t, prev_b = samples[0]
    for st, sb in samples[1:]:
        if st >= t:
            return prev_b + (sb - prev_b) * (t - prev_t) / (st - prev_t) if st > prev_t else sb
        prev_t, prev_b = st, sb
    return float(prev_b)


def goodput_bps(samples: Samples, start: float, end: float, step: float = 0.05) -> float:
    """Bits per second moved by all streams together between start and end: the
    least-squares slope of their total, sampled every ``step`` seconds. A backlog read
    in one gulp at an edge of the window (a thread that missed its turn) moves the slope
    far less than it would move a difference of the two end points."""
    if end <= start:
        raise ValueError("empty measurement window")
    n = max(2, int((end - start) / step) + 1)
    ts = [start + (end - start) * i / (n - 1) for i in range(n)]
    totals = [sum(bytes_at(s, t) for s in samples) for t in ts]
    mean_t, mean_b = statistics.fmean(ts), statistics.fmean(totals)
    num = sum((t - mean_t) * (b - mean_b) for t, b in zip(ts, totals, strict=True))
    den = sum((t - mean_t) ** 2 for t in ts)
    return num / den * 8


def latency(rtts: list[float]) -> tuple[float, float]:
    """(median, jitter) in ms; jitter = mean absolute difference of consecutive RTTs."""
    ms = [r * 1000 for r in rtts]
    steps = [abs(a - b) for a, b in zip(ms, ms[1:], strict=False)]
    jitter = statistics.fmean(steps) if steps else 0.0
    return statistics.median(ms), jitter


def parse_iperf3(text: str) -> tuple[float, int, int]:
    """(goodput bits/s as received, bytes received, streams) from `iperf3 -J` output."""
    doc = json.loads(text)
    if "error" in doc:
        raise ValueError(f"iperf3: {doc['error']}")
    end = doc["end"]
    received = end["sum_received"]
    return float(received["bits_per_second"]), int(received["bytes"]), len(end.get("streams", []))


# ---- I/O: HTTP streams ------------------------------------------------------------------


class HttpTarget:
    def __init__(self, base: str, headers: dict[str, str], ca_file: str | None = None):
        self.parts = urllib.parse.urlsplit(base)
        self.headers, self.ca_file = headers, ca_file

    def connect(self):
        import http.client

        host, port = self.parts.hostname, self.parts.port
        if self.parts.scheme == "https":
            import ssl

            context = ssl.create_default_context(cafile=self.ca_file)
            return http.client.HTTPSConnection(host, port, timeout=15, context=context)
        return http.client.HTTPConnection(host, port, timeout=15)

    def path(self, template: str, **values: object) -> str:
        return self.parts.path.rstrip("/") + template.format(**values)


def _parallel(n: int, worker: Callable[[int, list], None]) -> Samples:
    samples: Samples = [[] for _ in range(n)]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            worker(i, samples[i])
        except Exception as e:  # noqa: BLE001 - reported after the join
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors and not any(samples):
        raise errors[0]
    return samples


def _stopped_early(samples: Samples, end: float, slack: float = 0.25) -> bool:
    """Did a stream stop moving bytes before ``end`` (its byte budget, a server's cap, an
    error)? Then the window did not measure the link: the figure would be too small."""
    return any(not s or s[-1][0] < end - slack for s in samples)


def _window(samples: Samples, grace: float, end: float) -> tuple[float, float]:
    """From the first byte plus the ramp-up ``grace`` (slow start) to ``end``: on a
    long, slow link the connections take a large part of the time, so the grace counts
    from data, not from the start."""
    first = min((next((t for t, b in s if b > 0), end) for s in samples if s), default=end)
    return first + grace, end


def http_download(target: HttpTarget, plan: Plan, path: str, clock=time.perf_counter
                  ) -> tuple[Samples, float]:
    per_stream = plan.max_bytes // plan.streams
    t0 = clock()
    deadline = t0 + plan.seconds

    def worker(_: int, out: list) -> None:
        conn = target.connect()
        try:
            conn.request("GET", target.path(path, bytes=per_stream), headers=target.headers)
            resp = conn.getresponse()
            if resp.status != 200:
                raise OSError(f"download answered {resp.status}: {resp.read(300)!r}")
            total = 0
            out.append((clock(), 0))
            while clock() < deadline and total < per_stream:
                data = resp.read1(CHUNK)
                if not data:
                    break
                total += len(data)
                out.append((clock(), total))
        finally:
            conn.close()

    return _parallel(plan.streams, worker), t0


def _pace(conn) -> None:
    """Keep little unsent data in the kernel (Linux TCP_NOTSENT_LOWAT): a send returns
    when the link took the bytes, not when a buffer of megabytes did; the end of the body
    then reaches the receiver soon after the time is up."""
    import socket
    import sys

    if conn.sock is not None and sys.platform.startswith("linux"):
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, "TCP_NOTSENT_LOWAT", 25),
                                 NOTSENT_LOWAT)
        except OSError:
            pass


NOTSENT_LOWAT = 16 << 10  # per stream: 64 KiB across four, a twentieth of a second at 8 Mbit/s


def http_upload(target: HttpTarget, plan: Plan, path: str, clock=time.perf_counter
                ) -> tuple[Samples, float, Samples | None]:
    """Chunked streams for ``plan.seconds``; then the body ends and the server says what
    it received, when (the collector does): (sender samples, start, receiver samples or
    None when the server does not say)."""
    per_stream = plan.max_bytes // plan.streams
    payload = os.urandom(CHUNK)
    full = f"{CHUNK:x}\r\n".encode() + payload + b"\r\n"
    received: list[list[tuple[float, int]] | None] = [None] * plan.streams
    t0 = clock()
    deadline = t0 + plan.seconds

    def worker(i: int, out: list) -> None:
        conn = target.connect()
        try:
            conn.putrequest("POST", target.path(path))
            for k, v in {**target.headers, "Content-Type": "application/octet-stream",
                         "Transfer-Encoding": "chunked"}.items():
                conn.putheader(k, v)
            conn.endheaders()
            _pace(conn)
            total = 0
            out.append((clock(), 0))
            while clock() < deadline and total < per_stream:
                size = min(CHUNK, per_stream - total)
                conn.send(full if size == CHUNK
                          else f"{size:x}\r\n".encode() + payload[:size] + b"\r\n")
                total += size
                out.append((clock(), total))
            conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            body = resp.read(1 << 20)
            if resp.status == 200:
                try:
                    said = json.loads(body).get("samples")
                except (ValueError, AttributeError):
                    said = None
                if isinstance(said, list) and said:
                    received[i] = [(float(t), int(b)) for t, b in said]
        finally:
            conn.close()

    sent = _parallel(plan.streams, worker)
    counted = [r for r in received if r is not None]
    return sent, t0, counted if len(counted) == plan.streams else None


def http_pings(target: HttpTarget, plan: Plan, path: str, clock=time.perf_counter) -> list[float]:
    """Round trips on a few connections at once: each plain TCP set-up is one (SYN to
    SYN-ACK), then small requests; a TLS set-up takes two and is left out. On a 300 ms
    link, ten in a row would take three seconds of the probe's budget."""
    workers = max(1, min(plan.ping_connections, plan.pings))
    plain = target.parts.scheme != "https"
    per = max(1, -(-plan.pings // workers) - (1 if plain else 0))
    rtts: list[float] = []
    lock = threading.Lock()

    def worker(_: int, out: list) -> None:
        conn = target.connect()
        try:
            t = clock()
            conn.connect()
            measured = [clock() - t] if plain else []
            for _ in range(per):
                t = clock()
                conn.request("GET", target.path(path), headers=target.headers)
                conn.getresponse().read()
                measured.append(clock() - t)
            with lock:
                rtts.extend(measured)
        finally:
            conn.close()

    _parallel(workers, worker)
    return rtts


class Unmeasured(Exception):
    """The window did not measure the link: the figure would mislead."""


def measure_http(target: HttpTarget, plan: Plan, label: str,
                 clock=time.perf_counter, alongside: Callable[[], None] | None = None
                 ) -> BandwidthFacts:
    """Download, then upload, then the round trips on the idle link (``alongside`` runs
    meanwhile: the lease's release)."""
    down, t0 = http_download(target, plan, plan.download_path, clock)
    if _stopped_early(down, t0 + plan.seconds):
        raise Unmeasured(f"download: a stream stopped before the window closed (byte budget "
                         f"{plan.max_bytes >> 20} MB, the server's cap, or an error)")
    start, end = _window(down, plan.download_grace, t0 + plan.seconds)
    up, t1, counted = http_upload(target, plan, plan.upload_path, clock)
    if _stopped_early(up, t1 + plan.seconds):
        raise Unmeasured(f"upload: a stream stopped before the window closed (byte budget "
                         f"{plan.max_bytes >> 20} MB, or an error)")
    if counted is not None:  # the receiver's own clock: from its first byte to its last
        ends = [s[-1][0] for s in counted if s]
        up_end = min(ends) if ends else 0.0
        up_start, _ = _window(counted, plan.upload_grace, up_end)
        upload = _goodput(counted, up_start, up_end, "upload")
        side = "received"
    else:
        up_start, up_end = _window(up, plan.upload_grace, t1 + plan.seconds)
        upload = _goodput(up, up_start, up_end, "upload")
        side = "sent (the server does not say what it received)"
    helper = threading.Thread(target=alongside, daemon=True) if alongside else None
    if helper:
        helper.start()
    try:
        rtt_median, jitter = latency(http_pings(target, plan, plan.ping_path, clock))
    finally:
        if helper:
            helper.join(timeout=30)
    return BandwidthFacts(
        download_bps=_goodput(down, start, end, "download"), upload_bps=upload,
        latency_ms=round(rtt_median, 3), jitter_ms=round(jitter, 3),
        server=f"{label}, upload as {side}",
        streams=plan.streams, bytes_down=sum(s[-1][1] for s in down if s),
        bytes_up=sum(s[-1][1] for s in up if s), duration_seconds=round(2 * plan.seconds, 2))


MIN_WINDOW = 1.0  # seconds of steady transfer a figure needs


def _goodput(samples: Samples, start: float, end: float, what: str) -> float:
    if end - start < MIN_WINDOW:
        raise Unmeasured(f"{what}: {max(0.0, end - start):.1f} s of steady transfer, less than "
                         f"{MIN_WINDOW:g} s (the link set up too slowly for the window)")
    return goodput_bps(samples, start, end)


def measure_iperf3(ctx: Context, plan: Plan) -> BandwidthFacts:
    host, _, port = (plan.url or "").partition(":")
    base = ["iperf3", "-c", host, "-p", port or "5201", "-J", "-P", str(plan.streams),
            "-t", f"{plan.seconds - plan.download_grace:g}", "-O", f"{plan.download_grace:g}"]
    results = []
    for extra in (["-R"], []):  # -R: the server sends (download)
        try:
            done = ctx.run(base + extra, timeout=plan.seconds + 30)
        except CommandError as e:
            raise Unknown(f"iperf3: {e}") from None
        results.append(parse_iperf3(done.stdout))
    (down, bytes_down, streams), (up, bytes_up, _) = results
    return BandwidthFacts(download_bps=down, upload_bps=up, server=f"iperf3 {plan.url}",
                          streams=streams, bytes_down=bytes_down, bytes_up=bytes_up,
                          duration_seconds=round(2 * plan.seconds, 2))


# ---- the probe ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """How the agent reaches the collector (for the lease, and as the default server)."""

    collector_url: str
    token: str
    host_id: str
    ca_file: str | None = None


def _lease(access: Access, method: str, path: str, body: dict | None = None) -> dict:
    from yte_compliance.agent.send import call_collector
    from yte_compliance.agent.spool import SendError

    try:
        return call_collector(access.collector_url, access.token, method, path, body,
                              ca_file=access.ca_file)
    except SendError as e:
        raise Unknown(f"speed-test lease: {e}") from None


def http_target(plan: Plan, access: Access, lease: str) -> tuple[HttpTarget, Plan, str]:
    """The collector's endpoints (token and lease in the request), or another HTTP server."""
    if plan.kind == "collector":
        target = HttpTarget(access.collector_url, {"Authorization": f"Bearer {access.token}"},
                            access.ca_file)
        plan = replace(plan, download_path=f"{plan.download_path}&lease={lease}",
                       upload_path=f"{plan.upload_path}?lease={lease}")
        return target, plan, f"collector {access.collector_url}"
    if not plan.url:
        raise ValueError("bandwidth.url is needed for an http server")
    return HttpTarget(plan.url, {}, access.ca_file), plan, f"http {plan.url}"


def collect(ctx: Context) -> Observed:
    plan: Plan = ctx.options.get("bandwidth_plan") or Plan()
    access: Access | None = ctx.options.get("access")
    if access is None:
        raise Unknown("no collector to ask for the site's measurement lease")
    granted = _lease(access, "POST", "/api/v1/speedtest/lease", {"host_id": access.host_id})
    if not granted.get("granted"):
        raise Unknown(f"skipped: {granted.get('reason', 'no lease')}")
    lease = granted["lease_id"]
    released = threading.Event()

    def release() -> None:
        if released.is_set():
            return
        released.set()
        try:
            _lease(access, "DELETE", f"/api/v1/speedtest/lease/{lease}")
        except (OSError, Unknown):
            pass  # the lease expires by itself

    try:
        if plan.kind == "iperf3":
            facts = measure_iperf3(ctx, plan)
        else:
            facts = measure_http(*http_target(plan, access, lease), alongside=release)
    except Unmeasured as e:
        raise Unknown(f"not measured: {e}") from None
    except (OSError, ValueError) as e:
        raise Unknown(f"measurement failed: {e}") from None
    finally:
        release()
    return Observed(facts)
