"""Discovery: subnets validated, bounded sweeps, vendors, coverage through the API."""

import json
import time

import pytest

from tests.fleet import SITES_YAML, calling, make_bed, make_report
from yte_compliance.agent.discover import sweep_targets, vendor_of
from yte_compliance.collector.sites import load_sites, normalize_mac
from yte_compliance.core.yamlconf import ConfigError


def sites_file(tmp_path, a: str, b: str):
    text = SITES_YAML.replace("    district: Đà Lạt\n", f"    district: Đà Lạt\n    subnets: [{a}]\n")
    text = text.replace("    district: Đức Trọng\n", f"    district: Đức Trọng\n    subnets: [{b}]\n")
    path = tmp_path / "sites.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("a", "b"), [("198.18.1.0/24", "198.18.1.128/25"),
                                      ("198.18.0.0/20", "198.18.5.0/24"),
                                      ("fd00:5::/64", "fd00:5::/48")])
def test_overlapping_subnets_are_refused_naming_both_sites(tmp_path, a, b):
    with pytest.raises(ConfigError) as e:
        load_sites(sites_file(tmp_path, a, b))
    assert "bv-tinh" in str(e.value) and "tyt-xa-a" in str(e.value)


def test_disjoint_subnets_load_and_too_large_is_refused(tmp_path):
    sites = load_sites(sites_file(tmp_path, "198.18.1.0/24", "198.18.2.0/24"))
    assert sites["bv-tinh"].subnets == ("198.18.1.0/24",)
    with pytest.raises(ConfigError, match="larger than /20"):
        load_sites(sites_file(tmp_path, "198.16.0.0/15", "198.18.2.0/24"))


def test_macs_and_vendors():
    assert normalize_mac("00-1B-21-3A-4B-5C") == "00:1b:21:3a:4b:5c"
    assert normalize_mac("001b.213a.4b5c") == "00:1b:21:3a:4b:5c"
    assert normalize_mac("nope") is None
    assert vendor_of("00:1b:21:3a:4b:5c") == "Intel Corporate"
    assert vendor_of("02:00:00:00:00:01") is None  # locally administered: says nothing


def test_sweep_targets_are_the_subnets_hosts_and_bounded():
    assert sweep_targets(["198.18.1.0/30"]) == ["198.18.1.1", "198.18.1.2"]
    assert len(sweep_targets(["198.18.0.0/22"])) == 1022
    with pytest.raises(ValueError, match="more than"):
        sweep_targets(["198.18.0.0/20", "198.19.0.0/20"])
    assert sweep_targets(["fd00:1::/64"]) == []  # IPv6 is not swept address by address


def test_coverage_through_the_api(tmp_path):

    sites = SITES_YAML.replace("    district: Đức Trọng\n",
                               "    district: Đức Trọng\n    subnets: [198.18.1.0/24]\n"
                               "    devices:\n      - {mac: 02-00-00-00-00-05, kind: printer}\n")
    bed = make_bed(tmp_path / "c", sites_yaml=sites)
    with calling(bed):
        tok = bed.tokens["tyt-xa-a"]
        assert json.loads(bed.call("GET", "/api/v1/discovery/subnets", token=tok)[2]) == {
            "site": "tyt-xa-a", "subnets": ["198.18.1.0/24"]}
        before = json.loads(bed.call("GET", "/api/v1/sites/tyt-xa-a", token=bed.viewer)[2])
        cov = next(c for c in before["checks"] if c["check"] == "site.agent_coverage")
        assert cov["status"] == "unknown"  # never swept: unknown, not 0 %
        for i in (1, 2):
            rep = make_report("tyt-xa-a", f"h{i}", collected_at=time.time())
            rep["probes"]["hardware"]["facts"]["mac_addresses"] = [f"02:00:00:00:00:0{i}"]
            assert bed.call("POST", "/api/v1/reports", rep, token=tok)[0] == 201
        found = {"scanned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "devices": [
            {"ip": f"198.18.1.1{i}", "mac": f"02:00:00:00:00:0{i}", "vendor": None}
            for i in range(1, 6)] + [{"ip": "198.19.9.9", "mac": "02:00:00:00:00:09"}]}
        status, _, body = bed.call("POST", "/api/v1/discoveries", found, token=tok)
        assert status == 201 and json.loads(body) == {"stored": 5, "refused_outside_subnets": 1}
        devices = json.loads(bed.call("GET", "/api/v1/sites/tyt-xa-a/devices",
                                  token=bed.viewer)[2])
        assert devices["coverage"] == {"devices": 4, "covered": 2, "ratio": 0.5}
        states = {d["ip"]: d["state"] for d in devices["devices"]}
        assert states == {"198.18.1.11": "covered", "198.18.1.12": "covered",
                          "198.18.1.13": "unmanaged", "198.18.1.14": "unmanaged",
                          "198.18.1.15": "not_pc"}
        metrics = bed.call("GET", "/metrics", token=bed.viewer)[2].decode()
        assert 'yte_site_agent_coverage_ratio{site="tyt-xa-a"} 0.5' in metrics
        assert 'yte_site_devices{site="tyt-xa-a",state="unmanaged"} 2.0' in metrics


def test_the_scanner_sweeps_on_its_schedule_and_a_failure_is_not_fatal(tmp_path):
    from yte_compliance.agent.config import load_agent_config
    from yte_compliance.agent.service import discover_if_due
    from yte_compliance.core.errors import YteError

    cfg_file = tmp_path / "agent.yaml"
    cfg_file.write_text("site: tyt-xa-a\nspool_dir: spool\ndiscovery:\n  enabled: true\n"
                        "  interval_hours: 24\n")
    cfg = load_agent_config(cfg_file)
    sweeps, said = [], []

    def sweep(cfg, **bounds):
        sweeps.append(bounds)

    day = 86400.0
    assert discover_if_due(cfg, said.append, now=10 * day, sweep=sweep) is True
    assert discover_if_due(cfg, said.append, now=10.5 * day, sweep=sweep) is False  # not yet
    assert discover_if_due(cfg, said.append, now=11.1 * day, sweep=sweep) is True
    assert sweeps[0] == {"interface": None, "rate": 50.0, "timeout": 120.0, "out": None}

    def broken(cfg, **bounds):
        raise YteError("collector answered 500")

    assert discover_if_due(cfg, said.append, now=13 * day, sweep=broken) is False
    assert said == ["quét mạng thất bại / discovery failed: collector answered 500"]
    assert discover_if_due(cfg, said.append, now=13 * day, sweep=sweep) is True  # and tried again
