"""Site tokens: printed once, stored only as a salted hash; hashes may sit in the sites file."""

import json
import sqlite3
import subprocess
import sys

from collector.tokens import new_token, parse_stored, verify
from tests.fleet import SITES_YAML, http, make_report


def test_verify_and_tamper():
    token, stored = new_token()
    assert verify(token, stored)
    assert not verify(token[:-2] + "xx", stored)
    other, _ = new_token()
    assert not verify(other, stored)
    assert parse_stored(stored.encoded()) == stored


def test_token_add_prints_once_and_stores_a_hash(bed):
    proc = subprocess.run([sys.executable, "-m", "yte.cli", "collector", "token", "add",
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
    unknown = subprocess.run([sys.executable, "-m", "yte.cli", "collector", "token", "add",
                              "--config", str(bed.config), "no-such-site"],
                             capture_output=True, text=True, timeout=30)
    assert unknown.returncode != 0 and "no-such-site" in unknown.stderr


def test_token_hash_listed_in_the_sites_file_is_accepted(tmp_path):
    from collector.app import build_app
    from collector.config import load_collector_config
    from collector.server import make_server, start_in_thread
    from tests.fleet import make_bed

    token, stored = new_token()
    sites = SITES_YAML.replace("    district: Đức Trọng\n",
                               f"    district: Đức Trọng\n    token_hashes: ['{stored.encoded()}']\n")
    bed = make_bed(tmp_path / "c", sites_yaml=sites)
    cfg = load_collector_config(bed.config)
    app = build_app(cfg)
    server = make_server(app, cfg)
    thread = start_in_thread(server)
    try:
        rep = make_report("tyt-xa-a", "h1", collected_at=1_790_000_000.0)
        status, _, body = http("POST", bed.url + "/api/v1/reports", rep, token=token)
        assert status == 201, body
        status, _, body = http("POST", bed.url + "/api/v1/reports",
                               make_report("bv-tinh", "h2", collected_at=1_790_000_000.0),
                               token=token)
        assert status == 403 and "tyt-xa-a" in json.loads(body)["error"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.close()
