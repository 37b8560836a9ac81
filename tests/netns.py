"""Test hosts in network namespaces: two namespaces joined by a veth pair, addresses from
198.18.0.0/15 and fd00::/8 only, the link shaped with tc. Always torn down."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from tests.conftest import IN_CI, need_binary
from tests.procs import stop_process


def need_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("CI runs as root: network namespace tests must run")
        pytest.skip("network namespaces need root")


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=30)


class Pair:
    """Namespace `a` (server side) and `b` (client side), a: 198.18.0.1 / fd00:1::1,
    b: 198.18.0.2 / fd00:1::2, on one veth link."""

    A4, B4, A6, B6 = "198.18.0.1", "198.18.0.2", "fd00:1::1", "fd00:1::2"

    def __init__(self):
        need_root()
        need_binary("ip")
        need_binary("tc")
        self._namespaces("yv")
        sh("ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb)
        self._addresses()

    def _namespaces(self, prefix: str) -> None:
        tag = uuid.uuid4().hex[:6]
        self.a, self.b = f"yte-a-{tag}", f"yte-b-{tag}"
        self.va, self.vb = f"{prefix}a{tag}", f"{prefix}b{tag}"
        sh("ip", "netns", "add", self.a)
        sh("ip", "netns", "add", self.b)

    def _addresses(self) -> None:
        """Each end of the link into its namespace, with its addresses, up."""
        for ns, dev, v4, v6 in ((self.a, self.va, self.A4, self.A6),
                                (self.b, self.vb, self.B4, self.B6)):
            sh("ip", "link", "set", dev, "netns", ns)
            self.ns(ns, "ip", "link", "set", "lo", "up")
            self.ns(ns, "ip", "addr", "add", f"{v4}/30", "dev", dev)
            self.ns(ns, "ip", "-6", "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            self.ns(ns, "ip", "link", "set", dev, "up")

    def ns(self, ns: str, *argv: str) -> None:
        sh("ip", "netns", "exec", ns, *argv)

    def argv(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def shape(self, mbit: float) -> None:
        """Both directions limited to ``mbit`` by a token bucket on each end."""
        burst = max(32 * 1024, int(mbit * 1e6 / 8 / 100))
        for ns, dev in ((self.a, self.va), (self.b, self.vb)):
            self.ns(ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate",
                    f"{mbit}mbit", "burst", str(burst), "latency", "50ms")

    def close(self) -> None:
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


class SlowLink(Pair):
    """A Pair whose link is a user-space relay (tests/relay.py) with a one-way ``delay``
    and every ``drop_every``th TCP data segment lost each way, at ``mbit`` (tc tbf on
    both TAPs): a 3G station's line, built without netem."""

    def __init__(self, mbit: float, delay: float, drop_every: int):
        import sys
        from pathlib import Path

        need_root()
        need_binary("ip")
        need_binary("tc")
        self._namespaces("yt")
        self.relay = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("relay.py")), self.va, self.vb,
             str(delay), str(drop_every)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.relay.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"relay did not start: {self.relay.stderr.read()[-500:]}")
        self._addresses()
        self.shape(mbit)

    def close(self) -> None:
        relay = getattr(self, "relay", None)
        if relay is not None and relay.poll() is None:
            relay.stdin.close()
            relay.terminate()
            relay.wait(timeout=10)
        super().close()


class Chain:
    """Namespaces a (server) – r (router) – b (client) over IPv6 (fd00::/8): a is
    fd00:1::1, b fd00:2::2. The router's link to b has an MTU of 1280 while both ends keep
    1500, so a large answer from a needs path-MTU discovery: the router's packet-too-big.
    ``drop_packet_too_big()`` makes the path a black hole, as a filtering firewall does."""

    A6, B6, RA6, RB6 = "fd00:1::1", "fd00:2::2", "fd00:1::2", "fd00:2::1"

    def __init__(self):
        need_root()
        need_binary("ip")
        self.nft = need_binary("nft")
        tag = uuid.uuid4().hex[:6]
        self.a, self.r, self.b = f"yte-a-{tag}", f"yte-r-{tag}", f"yte-b-{tag}"
        for ns in (self.a, self.r, self.b):
            sh("ip", "netns", "add", ns)
            self.ns(ns, "ip", "link", "set", "lo", "up")
        links = ((self.a, f"yca{tag}", self.A6, self.r, f"ycr{tag}", self.RA6, 1500),
                 (self.b, f"ycb{tag}", self.B6, self.r, f"ycs{tag}", self.RB6, 1280))
        for end, dev, address, router, rdev, raddress, mtu in links:
            sh("ip", "link", "add", dev, "type", "veth", "peer", "name", rdev)
            sh("ip", "link", "set", dev, "netns", end)
            sh("ip", "link", "set", rdev, "netns", router)
            self.ns(end, "ip", "-6", "addr", "add", f"{address}/64", "dev", dev, "nodad")
            self.ns(router, "ip", "-6", "addr", "add", f"{raddress}/64", "dev", rdev, "nodad")
            self.ns(router, "ip", "link", "set", rdev, "mtu", str(mtu), "up")
            self.ns(end, "ip", "link", "set", dev, "up")
            self.ns(end, "ip", "-6", "route", "add", "default", "via", raddress)
        self.ns(self.r, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")

    def ns(self, ns: str, *argv: str) -> None:
        sh("ip", "netns", "exec", ns, *argv)

    def argv(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    def drop_packet_too_big(self) -> None:
        self.ns(self.r, self.nft, "add table ip6 yte; add chain ip6 yte out { type filter "
                                  "hook output priority 0; }; add rule ip6 yte out icmpv6 "
                                  "type packet-too-big drop")

    def allow_packet_too_big(self) -> None:
        self.ns(self.r, self.nft, "delete table ip6 yte")

    def close(self) -> None:
        for ns in (self.a, self.r, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def serve_collector(server_argv, client_argv, config, url: str, timeout: float = 30.0
                    ) -> subprocess.Popen:
    """`yte collector serve` in one namespace (``server_argv`` wraps a command for it),
    answered at ``url`` from another (``client_argv``): the process, once it answers."""
    import sys
    import time

    proc = subprocess.Popen(server_argv(sys.executable, "-m", "yte_compliance", "collector",
                                        "serve", "--config", str(config)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check = f"import urllib.request; urllib.request.urlopen('{url}/healthz')"
    deadline = time.monotonic() + timeout
    while subprocess.run(client_argv("python3", "-c", check), capture_output=True).returncode:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.terminate()
            raise RuntimeError(f"the collector did not answer at {url}: "
                               f"{proc.stderr.read().decode(errors='replace')[-500:]}")
        time.sleep(0.3)
    return proc


def stop(procs) -> None:
    for p in procs:
        stop_process(p, grace=10)
