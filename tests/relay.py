"""A link with delay and loss, in user space: this kernel has no netem. Two TAP devices,
one per side; every Ethernet frame one side sends is handed to the other after a fixed
delay, and every Nth TCP segment that carries data, in each direction, is dropped (loss
without chance: the same run measures the same link). The rate comes from `tc tbf` on each TAP.

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


def is_tcp_data(frame: bytes) -> bool:
    """An IPv4 or IPv6 TCP segment that carries data. ARP, neighbour discovery, ICMP and
    the handshake's and acknowledgements' empty segments always pass: a lost SYN costs
    a one-second retransmission that would decide a short measurement by chance."""
    ethertype = int.from_bytes(frame[12:14], "big") if len(frame) >= 14 else 0
    if ethertype == 0x0800 and len(frame) >= 34 and frame[23] == 6:
        ihl = (frame[14] & 0x0F) * 4
        total = int.from_bytes(frame[16:18], "big")
        offset = 14 + ihl
        return len(frame) > offset + 12 and total - ihl - (frame[offset + 12] >> 4) * 4 > 0
    if ethertype == 0x86DD and len(frame) >= 54 and frame[20] == 6:
        payload = int.from_bytes(frame[18:20], "big")
        return len(frame) > 66 and payload - (frame[66] >> 4) * 4 > 0
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
                if drop_every and is_tcp_data(frame):
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
