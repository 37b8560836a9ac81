"""Reading is guarded as writing is: no credential reads nothing but /healthz, and a
scoped viewer sees only its sites, in every listing and in /metrics."""

import json
import os
import stat
import time

import pytest
from click.testing import CliRunner

from tests.fleet import SITES_YAML, calling, make_bed, make_report
from yte_compliance.cli import main as yte
from yte_compliance.collector.viewers import Scope

NOW = time.time()
# a third site in another district, so that a district's viewer has something to miss
SITES = SITES_YAML + """  - id: tyt-xa-b
    name: Trạm Y tế xã B
    type: commune_station
    province: Lâm Đồng
    district: Lạc Dương
"""
READ = ["/", "/metrics", "/openapi.yaml", "/api/v1/sites", "/api/v1/sites/tyt-xa-a",
        "/api/v1/sites/tyt-xa-a/devices"]


@pytest.fixture
def three(tmp_path):
    bed = make_bed(tmp_path / "c", sites_yaml=SITES, site_ids=("bv-tinh", "tyt-xa-a", "tyt-xa-b"))
    with calling(bed):
        for site in bed.tokens:
            rep = make_report(site, f"pc-{site}", collected_at=NOW, firewall=False)
            assert bed.call("POST", "/api/v1/reports", rep, token=bed.tokens[site])[0] == 201
        yield bed


def viewer(bed, scope: str) -> str:
    done = CliRunner().invoke(yte, ["collector", "viewer", "add", "reader", "-c", str(bed.config),
                                    "--scope", scope])
    assert done.exit_code == 0, done.output
    return done.stdout.strip()


def test_nothing_but_healthz_is_read_without_a_viewer_token(three):
    bed = three
    assert bed.call("GET", "/healthz")[0] == 200
    for path in READ:
        status, _, body = bed.call("GET", path)
        assert status == 401, path
        assert "viewer token" in json.loads(body)["error"], path
        # a site token writes; it does not read
        assert bed.call("GET", path, token=bed.tokens["tyt-xa-a"])[0] == 401, path


def test_a_district_viewer_sees_only_its_district(three):
    bed = three
    token = viewer(bed, "district:Đức Trọng")
    listed = json.loads(bed.call("GET", "/api/v1/sites", token=token)[2])
    assert [s["site"]["id"] for s in listed["sites"]] == ["tyt-xa-a"]
    assert bed.call("GET", "/api/v1/sites/tyt-xa-a", token=token)[0] == 200
    status, _, body = bed.call("GET", "/api/v1/sites/bv-tinh", token=token)
    assert status == 403 and json.loads(body)["reason"] == "out_of_scope"
    assert bed.call("GET", "/api/v1/sites/tyt-xa-b/devices", token=token)[0] == 403
    metrics = bed.call("GET", "/metrics", token=token)[2].decode()
    assert 'site="tyt-xa-a"' in metrics
    assert 'site="bv-tinh"' not in metrics and 'site="tyt-xa-b"' not in metrics
    assert "pc-bv-tinh" not in metrics and "yte_collector_" not in metrics


def test_a_site_viewer_and_the_province_viewer(three):
    bed = three
    site_only = viewer(bed, "site:tyt-xa-b")
    listed = json.loads(bed.call("GET", "/api/v1/sites", token=site_only)[2])
    assert [s["site"]["id"] for s in listed["sites"]] == ["tyt-xa-b"]
    everything = bed.call("GET", "/metrics", token=bed.viewer)[2].decode()
    for site in ("bv-tinh", "tyt-xa-a", "tyt-xa-b"):
        assert f'yte_site_info{{site="{site}"' in everything
    assert "yte_collector_reports_total" in everything  # the collector's own, province only


def test_a_revoked_viewer_reads_nothing_at_once(three):
    bed = three
    token = viewer(bed, "province")
    assert bed.call("GET", "/api/v1/sites", token=token)[0] == 200
    token_id = token.split("_")[1]
    done = CliRunner().invoke(yte, ["collector", "viewer", "revoke", token_id, "-c", str(bed.config)])
    assert done.exit_code == 0, done.output
    assert bed.call("GET", "/api/v1/sites", token=token)[0] == 401
    listing = CliRunner().invoke(yte, ["collector", "viewer", "list", "-c", str(bed.config)])
    assert token_id in listing.output and "revoked" in listing.output
    assert token.split("_", 2)[2] not in listing.output  # the secret is never shown


def test_viewer_scopes_are_checked(tmp_path):
    bed = make_bed(tmp_path / "c")
    for scope in ("district", "county:X", "site:"):
        with pytest.raises(ValueError):
            Scope.parse(scope)
    done = CliRunner().invoke(yte, ["collector", "viewer", "add", "x", "-c", str(bed.config),
                                          "--scope", "district:Không Có"])
    assert done.exit_code != 0 and "holds no site" in done.output


def test_the_database_is_created_readable_by_its_owner_only(tmp_path):
    bed = make_bed(tmp_path / "c")
    with calling(bed):
        assert bed.call("POST", "/api/v1/reports", make_report(
            "tyt-xa-a", "h1", collected_at=NOW), token=bed.tokens["tyt-xa-a"])[0] == 201
        for name in ("collector.db", "collector.db-wal", "collector.db-shm"):
            path = bed.folder / name
            if path.exists():
                assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, name
