"""The gzip body put together from pieces: its checksum arithmetic against zlib's, and a
column edited piece by piece against the same text compressed whole."""

import gzip
import random
import zlib

from yte_compliance.exporters import gzipped


def test_crc32_combine_is_zlibs():
    rnd = random.Random(7)
    for _ in range(200):
        a = rnd.randbytes(rnd.randrange(0, 3000))
        b = rnd.randbytes(rnd.choice([0, 1, 5, rnd.randrange(0, 200_000)]))
        assert gzipped.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_column_edited_piece_by_piece_inflates_to_its_text():
    rnd = random.Random(11)
    for n in (0, 1, 2, 3, 7, 8, 9, 100):
        texts = [rnd.randbytes(rnd.randrange(0, 60)) * rnd.randrange(1, 30) for _ in range(n)]
        column = gzipped.Column(texts)
        for _ in range(40):
            if n:
                i = rnd.randrange(n)
                texts[i] = rnd.choice([b"", texts[(i + 1) % n], rnd.randbytes(rnd.randrange(90))])
                column.set(i, texts[i])
            whole = b"".join(texts)
            assert (column.crc, column.length, column.plain) == (zlib.crc32(whole), len(whole),
                                                                 whole)
            keep = sorted(rnd.sample(range(n), n // 2))
            body = gzipped.member([gzipped.Piece(b"# head\n"), column, column.subset(keep)])
            assert gzip.decompress(body) == b"# head\n" + whole + b"".join(texts[i] for i in keep)


def test_a_large_piece_compresses_as_well_as_whole_text():
    text = b"".join(b'yte_host_stale{site="s%03d",host="h%05d"} 0.0\n' % (i % 50, i)
                    for i in range(20_000))
    body = gzipped.member([gzipped.Piece(text)])
    assert gzip.decompress(body) == text
    assert len(body) < 1.2 * len(gzip.compress(text, compresslevel=1))
