"""Site tokens: printed once, stored only as a salted hash; hashes may sit in the sites file."""

import json
import sqlite3
import subprocess
import sys
import time

from tests.fleet import SITES_YAML, calling, make_report
from yte_compliance.collector.tokens import new_token, parse_stored, verify


def test_verify_and_tamper():
    token, stored = new_token()
    assert verify(token, stored)
    assert not verify(token[:-2] + "xx", stored)
    other, _ = new_token()
    assert not verify(other, stored)
    assert parse_stored(stored.encoded()) == stored


def test_token_add_prints_once_and_stores_a_hash(bed):
    proc = subprocess.run([sys.executable, "-m", "yte_compliance", "collector", "token", "add",
                           "--config", str(bed.config), "tyt-xa-a"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert token.startswith("yte_") and "shown once" in proc.stderr
    raw = (bed.folder / "collector.db").read_bytes()
    secret = token.split("_", 2)[2]
    assert secret.encode() not in raw and token.encode() not in raw
    with sqlite3.connect(bed.folder / "collector.db") as db:
        sites = [r[0] for r in db.execute("SELECT site FROM tokens")]
    assert sites.count("tyt-xa-a") == 2  # the bed's own and this one
    unknown = subprocess.run([sys.executable, "-m", "yte_compliance", "collector", "token", "add",
                              "--config", str(bed.config), "no-such-site"],
                             capture_output=True, text=True, timeout=30)
    assert unknown.returncode != 0 and "no-such-site" in unknown.stderr


def test_token_hash_listed_in_the_sites_file_is_accepted(tmp_path):
    from tests.fleet import make_bed

    token, stored = new_token()
    sites = SITES_YAML.replace("    district: Đức Trọng\n",
                               f"    district: Đức Trọng\n    token_hashes: ['{stored.encoded()}']\n")
    bed = make_bed(tmp_path / "c", sites_yaml=sites)
    with calling(bed):
        rep = make_report("tyt-xa-a", "h1", collected_at=time.time())
        status, _, body = bed.call("POST", "/api/v1/reports", rep, token=token)
        assert status == 201, body
        status, _, body = bed.call("POST", "/api/v1/reports",
                               make_report("bv-tinh", "h2", collected_at=time.time()),
                               token=token)
        assert status == 403 and "tyt-xa-a" in json.loads(body)["error"]


def _cli(bed, *args):
    return subprocess.run([sys.executable, "-m", "yte_compliance", "collector", "token", *args,
                           "--config", str(bed.config)], capture_output=True, text=True,
                          timeout=30)


def test_token_list_revoke_rotate_commands(bed):
    from yte_compliance.collector.store import Store

    listed = _cli(bed, "list")
    assert listed.returncode == 0 and listed.stdout.count("active") == 2
    for token in bed.tokens.values():
        assert token.split("_", 2)[2] not in listed.stdout  # never a secret
    rotated = _cli(bed, "rotate", "tyt-xa-a", "--grace-hours", "0")
    assert rotated.returncode == 0 and rotated.stdout.startswith("yte_")
    assert "1 old token(s) expire" in rotated.stderr
    new_id = rotated.stdout.split("_")[1]
    store = Store(bed.folder / "collector.db")
    by_site = {t.token.token_id: t for t in store.tokens("tyt-xa-a")}
    old_id = next(i for i in by_site if i != new_id)
    assert not by_site[old_id].valid(time.time() + 1) and by_site[new_id].valid(time.time())
    store.close()
    assert _cli(bed, "revoke", new_id).returncode == 0
    again = _cli(bed, "revoke", new_id)
    assert again.returncode != 0 and "no active token" in again.stderr
    states = _cli(bed, "list", "tyt-xa-a").stdout
    assert "revoked" in states and "expired" in states
