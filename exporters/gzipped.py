"""A gzip body put together from pieces compressed one at a time.

A piece compressed on its own and ended with a sync flush is whole bytes of raw deflate;
such pieces concatenate into one valid deflate stream. The gzip trailer wants the CRC-32
and length of the whole plain text: each piece's CRC is kept, and CRCs are combined
(the CRC of A+B from those of A and B and the length of B) in a tree, so changing one
piece costs its own compression and a few combinations, not a pass over the rest.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from functools import cache

_POLY = 0xEDB88320  # CRC-32 (gzip), reflected
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, OS unknown
_END = b"\x03\x00"  # an empty final block


def deflate(data: bytes) -> bytes:
    """``data`` as raw deflate blocks ending on a byte boundary (a sync flush)."""
    if not data:
        return b""
    # a window no larger than the piece: a small one is five times quicker to set up
    window = min(15, max(9, len(data).bit_length()))
    z = zlib.compressobj(1, zlib.DEFLATED, -window, 8 if window > 12 else 4)
    return z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)


def _multiply(a: int, b: int) -> int:
    """a·b modulo the CRC polynomial (bit-reflected, as zlib's multmodp)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^k) modulo the polynomial
for _ in range(63):
    _X2N.append(_multiply(_X2N[-1], _X2N[-1]))


@cache
def _table(k: int) -> tuple[tuple[int, ...], ...]:
    """Multiplication by x^(2^k) as four byte tables: it is linear, so one multiply per
    bit of a byte's place builds the table by xor."""
    out = []
    for shift in (0, 8, 16, 24):
        bits = [_multiply(_X2N[k], 1 << (shift + j)) for j in range(8)]
        row = [0] * 256
        for v in range(1, 256):
            low = v & -v
            row[v] = row[v ^ low] ^ bits[low.bit_length() - 1]
        out.append(tuple(row))
    return tuple(out)


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A+B, from crc32(A), crc32(B) and len(B) (zlib's crc32_combine)."""
    k = 3  # len2 bytes are 8·len2 bits: x^(8·len2) = the product of x^(2^k) over its bits
    while len2:
        if len2 & 1:
            t0, t1, t2, t3 = _table(k)
            crc1 = (t0[crc1 & 0xFF] ^ t1[(crc1 >> 8) & 0xFF] ^ t2[(crc1 >> 16) & 0xFF]
                    ^ t3[crc1 >> 24])
        len2 >>= 1
        k += 1
    return crc1 ^ crc2


class Piece:
    """Plain text with its CRC, compressed when first asked."""

    def __init__(self, plain: bytes, packed: bytes | None = None) -> None:
        self.plain, self._packed = plain, packed
        self.crc, self.length = zlib.crc32(plain), len(plain)

    def packed(self) -> bytes:
        if self._packed is None:
            self._packed = deflate(self.plain)
        return self._packed


_CHANGED = -1  # a node whose pieces changed since its CRC was known


class Column:
    """Pieces in a fixed order, compressed when first asked, replaced one at a time. The
    CRC of them all is the root of a tree: a node is read from its pieces the first time
    it is needed, and after a change combined from its children, so a change costs a
    combination per level, not a pass over the other pieces."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        n = len(pieces)
        self.size = 1 << max(0, n - 1).bit_length()
        self._plain = list(pieces)
        self._packed = [b""] * n
        self._stale = set(range(n))  # pieces whose compressed form is out of date
        self._crc: list[int | None] = [None] * (2 * self.size)  # None: not yet read
        self._len = [0] * (2 * self.size)
        for i, plain in enumerate(self._plain):
            self._len[self.size + i] = len(plain)
        for node in range(self.size - 1, 0, -1):
            self._len[node] = self._len[2 * node] + self._len[2 * node + 1]
        self._joined: dict[str, bytes] = {}

    def set(self, i: int, plain: bytes) -> None:
        if self._plain[i] == plain:
            return
        self._plain[i] = plain
        self._stale.add(i)
        self._joined.clear()
        node, delta = self.size + i, len(plain) - self._len[self.size + i]
        self._crc[node] = zlib.crc32(plain)
        self._len[node] = len(plain)
        while node > 1:
            node >>= 1
            self._crc[node] = _CHANGED
            self._len[node] += delta

    @property
    def crc(self) -> int:
        return self._node(1)

    def _node(self, node: int) -> int:
        crc = self._crc[node]
        if crc is None:  # read from the pieces, once
            span = self.size >> (node.bit_length() - 1)
            first = node * span - self.size
            crc = 0
            for plain in self._plain[first:first + span]:
                crc = zlib.crc32(plain, crc)
        elif crc == _CHANGED:
            right = 2 * node + 1
            crc = crc32_combine(self._node(2 * node), self._node(right), self._len[right])
        self._crc[node] = crc
        return crc

    @property
    def length(self) -> int:
        return self._len[1]

    @property
    def plain(self) -> bytes:
        """Every piece's text, joined (kept until a piece changes)."""
        if "plain" not in self._joined:
            self._joined["plain"] = b"".join(self._plain)
        return self._joined["plain"]

    def packed(self) -> bytes:
        if "packed" not in self._joined:
            self._compress()
            self._joined["packed"] = b"".join(self._packed)
        return self._joined["packed"]

    def _compress(self) -> None:
        for i in self._stale:
            self._packed[i] = deflate(self._plain[i])
        self._stale.clear()

    def subset(self, keep: Sequence[int]) -> Piece:
        """The pieces at ``keep`` only, as one piece (compressed from theirs)."""
        self._compress()
        return Piece(b"".join([self._plain[i] for i in keep]),
                     b"".join([self._packed[i] for i in keep]))


Part = Piece | Column


def member(parts: Sequence[Part]) -> bytes:
    """One gzip member of the parts' texts in order."""
    crc = size = 0
    for p in parts:
        crc, size = crc32_combine(crc, p.crc, p.length), size + p.length
    return b"".join([HEADER, *(p.packed() for p in parts), _END,
                     struct.pack("<II", crc, size & 0xFFFFFFFF)])
