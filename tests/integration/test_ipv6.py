"""IPv6 readiness in network namespaces (fd00::/8), and scapy only when asked for."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fleet import SITES_YAML, make_bed
from tests.netns import Pair, serve_collector, stop

pytestmark = pytest.mark.integration
SITES = SITES_YAML.replace("    district: Đức Trọng\n",
                           "    district: Đức Trọng\n    ipv6_prefixes: ['fd00:1::/64']\n")


def dual_stack_bed(folder, sites: str):
    """A collector listening on '[::]:PORT': IPv4 and IPv6 on one socket."""
    bed = make_bed(folder, sites_yaml=sites)
    bed.config.write_text(bed.config.read_text().replace("listen: 127.0.0.1:", "listen: '[::]:")
                          .replace("\ndatabase:", "'\ndatabase:", 1))
    return bed


@pytest.fixture
def v6(tmp_path):
    pair = Pair()
    hosts_dir = Path("/etc/netns") / pair.b
    proc = None
    try:
        bed = dual_stack_bed(tmp_path / "c", SITES)
        hosts_dir.mkdir(parents=True)
        (hosts_dir / "hosts").write_text(f"127.0.0.1 localhost\n{pair.A6} collector.yte.test\n")
        pair.ns(pair.b, "ip", "-6", "route", "add", "default", "via", pair.A6)
        url = f"http://[{pair.A6}]:{bed.port}"
        proc = serve_collector(lambda *a: pair.argv(pair.a, *a), lambda *a: pair.argv(pair.b, *a),
                               bed.config, url)
        (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
        (tmp_path / "token").chmod(0o600)
        (tmp_path / "agent.yaml").write_text(
            f"site: tyt-xa-a\ncollector_url: {url}\ntoken_file: token\nspool_dir: spool\n"
            f"host_id: h-v6\nipv6:\n  endpoint: http://collector.yte.test:{bed.port}\n")
        yield pair, bed, url, tmp_path / "agent.yaml"
    finally:
        stop([proc])
        shutil.rmtree(hosts_dir, ignore_errors=True)
        pair.close()


def report_and_judge(pair, bed, url, config):
    done = subprocess.run(pair.argv(pair.b, sys.executable, "-m", "yte_compliance", "agent", "run",
                                    "--once", "--config", str(config)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    check = ("import urllib.request as u; print(u.urlopen(u.Request("
             f"'{url}/api/v1/sites/tyt-xa-a', "
             f"headers={{'Authorization': 'Bearer {bed.viewer}'}})).read().decode())")
    out = subprocess.run(pair.argv(pair.a, "python3", "-c", check.replace(f"[{pair.A6}]",
                                                                          "[::1]")),
                         capture_output=True, text=True, timeout=30).stdout
    detail = json.loads(out)
    return next(c for c in detail["checks"] if c["check"] == "pc.ipv6")


def test_ready_then_no_route_then_link_local_only(v6):
    pair, bed, url, config = v6
    ipv6 = report_and_judge(pair, bed, url, config)
    assert ipv6["status"] == "pass" and ipv6["hosts"]["passing"] == 1

    pair.ns(pair.b, "ip", "-6", "route", "del", "default")
    ipv6 = report_and_judge(pair, bed, url, config)
    assert ipv6["status"] == "fail"
    assert ipv6["failing_hosts"][0]["why"] == "no default route"
    assert ipv6["failing_reasons"] == {"no default route": 1}

    # only link-local left: the agent still reports over the link-local path itself
    pair.ns(pair.b, "ip", "-6", "addr", "del", f"{pair.B6}/64", "dev", pair.vb)
    pair.ns(pair.b, "ip", "-6", "route", "add", "default", "dev", pair.vb)
    pair.ns(pair.a, "ip", "-6", "addr", "add", "fe80::a/64", "dev", pair.va, "nodad")
    link_local = f"http://[fe80::a%{pair.vb}]:{bed.port}"
    config.write_text(config.read_text().replace(url, link_local))
    ipv6 = report_and_judge(pair, bed, url, config)
    assert ipv6["status"] == "fail"
    assert ipv6["failing_hosts"][0]["why"].startswith("no global IPv6 address")


def test_first_report_has_every_step(v6):
    pair, bed, url, config = v6
    done = subprocess.run(pair.argv(pair.b, sys.executable, "-m", "yte_compliance", "agent", "collect",
                                    "--json", "--config", str(config)),
                          capture_output=True, text=True, timeout=60)
    facts = json.loads(done.stdout)["probes"]["ipv6"]["facts"]
    assert any(a.endswith("/unique-local") for a in facts["addresses"])  # the agent's view …
    assert facts["has_global_address"] is False  # … the site's prefix is the collector's
    assert facts["default_route"] is True and facts["dns_aaaa"] is True
    assert facts["tcp_reachable"] is True and facts["large_response"] is True
    assert facts["dual_stack_family"] == "ipv6"


SCAPY_CHECK = """
import json, sys
from pathlib import Path
from yte_compliance.agent.collect import collect_report
from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.ipv6 import Endpoint
ctx = Context(options={"ipv6_endpoint": Endpoint("http://[::1]:9", 0.5),
                       "ipv6_router_advertisement": RA})
report = collect_report(ctx, platform="linux", site="s", host_id="h")
print(json.dumps({"scapy": any(m.split(".")[0] == "scapy" for m in sys.modules),
                  "ra": report.probes["ipv6"].facts.router_advertisement,
                  "why": report.probes["ipv6"].unknown.get("router_advertisement")}))
"""


def test_scapy_is_imported_only_for_the_router_advertisement_check():
    plain = subprocess.run([sys.executable, "-c", SCAPY_CHECK.replace("RA", "False")],
                           capture_output=True, text=True, timeout=60)
    assert json.loads(plain.stdout)["scapy"] is False, plain.stderr
    pair = Pair()  # the RA check sends a solicitation: only inside a namespace of our own
    try:
        ra = subprocess.run(pair.argv(pair.b, sys.executable, "-c",
                                      SCAPY_CHECK.replace("RA", "True")),
                            capture_output=True, text=True, timeout=60)
        answer = json.loads(ra.stdout)
        assert answer["scapy"] is True, ra.stderr
        assert answer["ra"] is False or answer["why"]  # no router here: none seen
    finally:
        pair.close()


# ---- the field's failures: a path-MTU black hole, a name with no AAAA record ------------------


def _post_and_read(ns_argv, bed, report: dict) -> dict:
    """POST ``report`` to the collector and read pc.ipv6 back, from inside its namespace."""
    code = ("import json, sys, urllib.request as u\n"
            f"base = 'http://127.0.0.1:{bed.port}'\n"
            "report = sys.stdin.read().encode()\n"
            f"u.urlopen(u.Request(base + '/api/v1/reports', report, headers={{"
            f"'Authorization': 'Bearer {bed.tokens['tyt-xa-a']}', "
            "'Content-Type': 'application/json'}))\n"
            f"print(u.urlopen(u.Request(base + '/api/v1/sites/tyt-xa-a', headers={{"
            f"'Authorization': 'Bearer {bed.viewer}'}})).read().decode())\n")
    done = subprocess.run(ns_argv("python3", "-c", code), input=json.dumps(report),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return next(c for c in json.loads(done.stdout)["checks"] if c["check"] == "pc.ipv6")


@pytest.fixture
def chain(tmp_path):
    from tests.netns import Chain

    net = Chain()
    hosts_dir = Path("/etc/netns") / net.b
    proc = None
    try:
        bed = dual_stack_bed(tmp_path / "c", SITES.replace("fd00:1::/64", "fd00:2::/64"))
        hosts_dir.mkdir(parents=True)
        # names from this file only: a-only.yte.test has an A record and no AAAA
        (hosts_dir / "hosts").write_text(f"127.0.0.1 localhost\n{net.A6} collector.yte.test\n"
                                         "198.18.9.1 a-only.yte.test\n")
        (hosts_dir / "nsswitch.conf").write_text("hosts: files\n")
        proc = serve_collector(lambda *a: net.argv(net.a, *a), lambda *a: net.argv(net.b, *a),
                               bed.config, f"http://[{net.A6}]:{bed.port}")
        (tmp_path / "agent.yaml").write_text(
            f"site: tyt-xa-a\ncollector_url: http://[{net.A6}]:{bed.port}\ntoken_file: token\n"
            f"spool_dir: spool\nhost_id: h-v6\n"
            f"ipv6:\n  endpoint: http://collector.yte.test:{bed.port}\n")
        (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
        (tmp_path / "token").chmod(0o600)
        yield net, bed, tmp_path / "agent.yaml"
    finally:
        stop([proc])
        shutil.rmtree(hosts_dir, ignore_errors=True)
        net.close()


def _collect(net, config) -> dict:
    done = subprocess.run(net.argv(net.b, sys.executable, "-m", "yte_compliance", "agent",
                                   "collect", "--json", "--config", str(config)),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_path_mtu_black_hole_is_not_ready_and_says_why(chain):
    """Before: the agent saw large_response false, yet pc.ipv6 passed."""
    net, bed, config = chain
    net.drop_packet_too_big()  # first: a learnt path MTU would hide the black hole
    report = _collect(net, config)
    facts = report["probes"]["ipv6"]["facts"]
    assert facts["tcp_reachable"] is True and facts["large_response"] is False
    assert "MTU black hole" in report["probes"]["ipv6"]["notes"]["large_response"]
    ipv6 = _post_and_read(lambda *a: net.argv(net.a, *a), bed, report)
    assert ipv6["status"] == "fail"
    why = ipv6["failing_hosts"][0]["why"]
    assert why.startswith("large answers do not arrive over IPv6 (path MTU): the large answer")

    net.allow_packet_too_big()  # the control: packet-too-big passes, path-MTU discovery works
    control = _collect(net, config)
    assert control["probes"]["ipv6"]["facts"]["large_response"] is True
    assert _post_and_read(lambda *a: net.argv(net.a, *a), bed, control)["status"] == "pass"


def test_a_name_with_only_an_a_record_is_not_ready(chain):
    """Before: dns_aaaa false left pc.ipv6 unknown ("ipv6.ready: not reported")."""
    net, bed, config = chain
    config.write_text(config.read_text().replace("collector.yte.test", "a-only.yte.test"))
    report = _collect(net, config)
    assert report["probes"]["ipv6"]["facts"]["dns_aaaa"] is False
    ipv6 = _post_and_read(lambda *a: net.argv(net.a, *a), bed, report)
    assert ipv6["status"] == "fail"
    assert ipv6["failing_hosts"][0]["why"].startswith("the endpoint's name has no AAAA record")
