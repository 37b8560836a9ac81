"""Enrollment: a site's secret buys each new PC a key of its own, and nothing more. Each
test says the attack it stops."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from tests.fleet import make_bed, make_report
from yte_compliance.cli import main as yte
from yte_compliance.collector.tokens import token_id_of

SITES = """version: 1
sites:
  - {id: tyt-xa-a, name: Trạm Y tế xã A, type: commune_station, province: Lâm Đồng,
     district: Đức Trọng, expected_hosts: 2}
  - {id: bv-tinh, name: Bệnh viện tỉnh, type: hospital, province: Lâm Đồng, district: Đà Lạt}
"""


def cli(bed, *args: str) -> str:
    done = CliRunner().invoke(yte, ["collector", *args, "-c", str(bed.config)])
    assert done.exit_code == 0, done.output
    return done.stdout.strip()


@pytest.fixture
def site(tmp_path):
    from tests.fleet import calling

    bed = make_bed(tmp_path / "c", sites_yaml=SITES, extra="limits:\n  new_host_margin: 0\n")
    secret = cli(bed, "enrollment", "add", "tyt-xa-a", "--name", "gói 12/2026")
    with calling(bed) as app:
        yield bed, secret, app


def enroll(bed, secret: str, host: str, hostname: str = "PC") -> tuple[int, dict]:
    import json

    status, _, body = bed.call("POST", "/api/v1/enroll", {"host_id": host, "hostname": hostname},
                               token=secret)
    return status, json.loads(body)


def report(bed, token: str, host: str, site: str = "tyt-xa-a") -> int:
    return bed.call("POST", "/api/v1/reports", make_report(site, host, collected_at=time.time()),
                    token=token)[0]


def test_a_new_pc_enrolls_and_reports_with_its_own_key(site):
    bed, secret, app = site
    status, answer = enroll(bed, secret, "h-pc01", "TYT-PC01")
    assert status == 201 and answer["site"] == "tyt-xa-a"
    key = answer["host_key"]
    assert report(bed, key, "h-pc01") == 201
    stored = app.state.store.host_key(token_id_of(key))
    assert stored.host_id == "h-pc01" and key.split("_", 2)[2] not in stored.token.digest
    # the secret itself never reports
    assert report(bed, secret, "h-pc01") == 401
    assert b'yte_collector_enrollments_total{site="tyt-xa-a"} 1.0' in bed.call(
        "GET", "/metrics", token=bed.viewer)[2]


def test_a_stolen_secret_never_reports_for_an_existing_pc(site):
    bed, secret, _ = site
    key = enroll(bed, secret, "h-pc01")[1]["host_key"]
    # enrolling the same PC again (to take over its identity): refused
    status, answer = enroll(bed, secret, "h-pc01")
    assert status == 409 and answer["reason"] == "already_enrolled"
    # a PC that reported with the site token before enrollment existed: refused too
    assert report(bed, bed.tokens["tyt-xa-a"], "h-old") == 201
    status, answer = enroll(bed, secret, "h-old")
    assert status == 409 and answer["reason"] == "known_host"
    assert "yte collector key allow tyt-xa-a h-old" in answer["error"]
    # a key reports for its own PC only; the site token no longer reports for an
    # enrolled PC
    status, _, body = bed.call("POST", "/api/v1/reports",
                               make_report("tyt-xa-a", "h-old", collected_at=time.time()),
                               token=key)
    assert status == 403 and b"key_of_other_host" in body
    status, _, body = bed.call("POST", "/api/v1/reports",
                               make_report("tyt-xa-a", "h-pc01", collected_at=time.time()),
                               token=bed.tokens["tyt-xa-a"])
    assert status == 403 and b"host_enrolled" in body
    # nor another site's reports
    assert report(bed, key, "h-pc01", site="bv-tinh") == 403


def test_new_pcs_are_bounded_by_the_site_host_limit(site):
    bed, secret, _ = site
    assert enroll(bed, secret, "h-a")[0] == 201
    assert enroll(bed, secret, "h-b")[0] == 201
    status, answer = enroll(bed, secret, "h-c")  # expected_hosts: 2, no margin
    assert status == 403 and answer["reason"] == "host_limit"


def test_revoking_the_secret_leaves_enrolled_pcs_reporting(site):
    bed, secret, _ = site
    key = enroll(bed, secret, "h-pc01")[1]["host_key"]
    listing = cli(bed, "enrollment", "list")
    assert "gói 12/2026" in listing and secret.split("_", 2)[2] not in listing
    cli(bed, "enrollment", "revoke", token_id_of(secret))
    assert enroll(bed, secret, "h-pc02")[0] == 401
    assert report(bed, key, "h-pc01") == 201
    fresh = cli(bed, "enrollment", "add", "tyt-xa-a")  # the rotated secret enrolls
    assert enroll(bed, fresh, "h-pc02")[0] == 201


def test_one_pc_key_revoked_then_allowed_to_enroll_again(site):
    bed, secret, _ = site
    old = enroll(bed, secret, "h-pc01")[1]["host_key"]
    cli(bed, "key", "revoke", "h-pc01")
    assert report(bed, old, "h-pc01") == 401
    assert enroll(bed, secret, "h-pc01")[0] == 409  # not without an operator
    cli(bed, "key", "allow", "tyt-xa-a", "h-pc01")
    new = enroll(bed, secret, "h-pc01")[1]["host_key"]
    assert report(bed, new, "h-pc01") == 201 and report(bed, old, "h-pc01") == 401
    assert "h-pc01" in cli(bed, "key", "list", "tyt-xa-a")


@pytest.mark.parametrize(("body", "reason"), [
    ({"host_id": "H PC", "hostname": "x"}, "host_id"),
    ({"host_id": "h1"}, "hostname"),
    ([], "JSON object"),
])
def test_a_malformed_enrollment_says_why(site, body, reason):
    bed, secret, _ = site
    status, _, text = bed.call("POST", "/api/v1/enroll", body, token=secret)
    assert status == 400 and reason in text.decode()


def test_the_python_agent_enrolls_on_its_first_run(tmp_path):
    """Linux agents and `yte deploy ssh`: the secret file is traded for a key file."""
    from tests.fleet import serving
    from yte_compliance.agent.send import credential, post_report

    bed = make_bed(tmp_path / "c", sites_yaml=SITES)
    secret_file = tmp_path / "enroll.secret"
    secret_file.write_text(cli(bed, "enrollment", "add", "tyt-xa-a") + "\n")
    secret_file.chmod(0o600)
    cfg = SimpleNamespace(collector_url=bed.url, key_file=tmp_path / "host.key",
                          enrollment_secret_file=secret_file, token_file=None, ca_file=None,
                          timeout_seconds=10)
    with serving(bed.config):
        key = credential(cfg, "h-linux1", "srv-his")
        assert (tmp_path / "host.key").stat().st_mode & 0o777 == 0o600
        assert not secret_file.exists()  # enrolled: the secret is gone from the PC
        assert credential(cfg, "h-linux1", "srv-his") == key  # next runs: the key file
        import json

        body = json.dumps(make_report("tyt-xa-a", "h-linux1", collected_at=time.time()))
        assert post_report(bed.url, key, body.encode())["status"] == "stored"
