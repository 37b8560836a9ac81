"""A link with delay and loss, in user space: this kernel has no netem. Two TAP devices,
one per side; every Ethernet frame one side sends is handed to the other after a fixed
delay, and every Nth TCP segment in each direction is dropped (loss without chance: the
same run measures the same link). The rate comes from `tc tbf` on each TAP.

    python tests/relay.py TAP_A TAP_B DELAY_SECONDS DROP_EVERY   (prints "ready")

Run as root; the TAPs may be moved into namespaces after "ready" (the open descriptors
follow them). Stops on SIGTERM or when stdin closes."""

from __future__ import annotations

import collections
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def is_tcp(frame: bytes) -> bool:
    """An IPv4 or IPv6 TCP segment (ARP, neighbour discovery and ICMP always pass)."""
    if len(frame) < 34:
        return False
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype == 0x0800:
        return frame[23] == 6
    if ethertype == 0x86DD:
        return len(frame) >= 54 and frame[20] == 6
    return False


def relay(a: str, b: str, delay: float, drop_every: int) -> None:
    fds = [open_tap(a), open_tap(b)]
    print("ready", flush=True)
    queues: list[collections.deque] = [collections.deque(), collections.deque()]
    tcp_seen = [0, 0]
    watch = fds + [sys.stdin.fileno()]
    while True:
        now = time.monotonic()
        due = [q[0][0] for q in queues if q]
        timeout = max(0.0, min(due) - now) if due else 1.0
        ready, _, _ = select.select(watch, [], [], timeout)
        if sys.stdin.fileno() in ready and not os.read(sys.stdin.fileno(), 1):
            return
        for side, fd in enumerate(fds):
            if fd not in ready:
                continue
            while True:
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if drop_every and is_tcp(frame):
                    tcp_seen[side] += 1
                    if tcp_seen[side] % drop_every == 0:
                        continue
                queues[1 - side].append((time.monotonic() + delay, frame))
        now = time.monotonic()
        for side, queue in enumerate(queues):
            while queue and queue[0][0] <= now:
                _, frame = queue.popleft()
                try:
                    os.write(fds[side], frame)
                except OSError:
                    pass  # the interface went down: the frame is lost, as on a real link


if __name__ == "__main__":
    relay(sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
