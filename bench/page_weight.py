"""Page weight on a 3G link: the web pages a commune station or a hospital's IT person
opens (/ui/site/…, /ui/site/…/pc/…), as the browser receives them (gzip) and raw, with the
one stylesheet (fetched once, then cached for a day). Side by side: the API's JSON for the
same site, the smallest form the same facts can travel in. A station's 3G link is taken at
384 kbit/s (the UMTS rate a rural cell gives under load).

    .venv/bin/python bench/page_weight.py [--pcs 60]
"""

from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import save  # noqa: E402

LINK_BPS = 384_000


def fleet(bed, pcs: int) -> None:
    """A hospital with ``pcs`` PCs (a third on 4 GB and HDD, one in ten without a firewall)
    and a station with three."""
    from tests.fleet import GiB, http, make_report

    now = time.time()
    for i in range(pcs):
        weak = i % 3 == 0
        rep = make_report("bv-tinh", f"h{i:03d}", collected_at=now - i,
                          ram=4 * GiB if weak else 8 * GiB, media="hdd" if weak else "ssd",
                          firewall=i % 10 != 0)
        rep["hostname"] = f"BV-KHOA-{i // 10:02d}-PC{i % 10:02d}"
        assert http("POST", bed.url + "/api/v1/reports", rep, bed.tokens["bv-tinh"])[0] == 201
    for i in range(3):
        rep = make_report("tyt-xa-a", f"t{i}", collected_at=now - i)
        assert http("POST", bed.url + "/api/v1/reports", rep, bed.tokens["tyt-xa-a"])[0] == 201


class LoopbackSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers send Secure cookies to http://127.0.0.1 (a secure context); so do we."""

    def return_ok_secure(self, cookie, request):
        return True


def signed_in(base: str, token: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar(LoopbackSecure())
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "/ui/login") as r:  # noqa: S310 - loopback only
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)
    form = urllib.parse.urlencode({"token": token, "csrf": csrf}).encode()
    opener.open(urllib.request.Request(base + "/ui/login", data=form)).read()  # noqa: S310
    return opener


def weigh(opener, url: str, headers: dict[str, str] | None = None) -> dict[str, int]:
    """Bytes on the wire with gzip, and the page itself."""
    req = urllib.request.Request(  # noqa: S310 - loopback only
        url, headers={"Accept-Encoding": "gzip", **(headers or {})})
    with opener.open(req) as r:  # noqa: S310 - loopback only
        wire = r.read()
        zipped = r.headers.get("Content-Encoding") == "gzip"
    raw = gzip.decompress(wire) if zipped else wire
    # the API does not compress: what gzip would give it, for a fair side by side
    return {"wire": len(wire), "raw": len(raw), "gzip": len(gzip.compress(raw, 6))}


def seconds(n: int) -> float:
    return round(n * 8 / LINK_BPS, 2)


def main() -> None:
    from tests.fleet import make_bed, serving

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcs", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bed = make_bed(Path(tmp) / "c", extra="log_level: warning\n")
        with serving(bed.config):
            fleet(bed, args.pcs)
            opener = signed_in(bed.url, bed.viewer)
            css = weigh(opener, bed.url + "/ui/static/app.css")
            rows = {
                "site page (hospital)": weigh(opener, bed.url + "/ui/site/bv-tinh"),
                "site page (station)": weigh(opener, bed.url + "/ui/site/tyt-xa-a"),
                "PC page": weigh(opener, bed.url + "/ui/site/bv-tinh/pc/h000"),
                "district page": weigh(opener, bed.url + "/ui/district/"
                                       + urllib.parse.quote("Đà Lạt")),
                "API JSON (hospital)": weigh(opener, bed.url + "/api/v1/sites/bv-tinh",
                                             {"Authorization": f"Bearer {bed.viewer}"}),
            }
    out = {"pcs": args.pcs, "link_bps": LINK_BPS, "stylesheet": css, "pages": {}}
    print(f"PCs at the hospital: {args.pcs}; link {LINK_BPS // 1000} kbit/s; stylesheet "
          f"{css['raw']:,} B raw, {css['wire']:,} B on the wire (cached after the first page)")
    print(f"{'page':24} {'raw B':>8} {'wire B':>8} {'first view s':>13} {'next views s':>13}")
    for name, w in rows.items():
        wire = w["wire"] if w["wire"] < w["raw"] else w["gzip"]
        first = wire + (css["wire"] if "API" not in name else 0)
        out["pages"][name] = {**w, "first_view_bytes": first,
                              "first_view_seconds_3g": seconds(first),
                              "next_view_seconds_3g": seconds(wire)}
        print(f"{name:24} {w['raw']:>8,} {wire:>8,} {seconds(first):>13} {seconds(wire):>13}")
    site, api = out["pages"]["site page (hospital)"], out["pages"]["API JSON (hospital)"]
    out["site_page_vs_json_gzip"] = round(site["wire"] / api["gzip"], 2)
    print(f"hospital site page / its JSON (both gzip): {out['site_page_vs_json_gzip']}×")
    print(f"saved {save('page_weight', out)}")


if __name__ == "__main__":
    main()
