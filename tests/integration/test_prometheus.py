"""A real Prometheus scrapes the real collector; PromQL agrees with the evaluation."""

import json
import subprocess
import sys
import time
import urllib.parse

import pytest

from tests.conftest import need_binary
from tests.fleet import free_port, http, make_bed, make_report

pytestmark = pytest.mark.integration

DECLARATIONS = f"""version: 1
sites:
  bv-tinh:
    {time.gmtime().tm_year}: {{perimeter_firewall: true, lan_fiber: true, router: true}}
  tyt-xa-a:
    {time.gmtime().tm_year}: {{perimeter_firewall: false, wifi_internal: true, wifi_patients: false}}
budgets:
  bv-tinh:
    {time.gmtime().tm_year}: {{it_total_million_vnd: 3000, security_million_vnd: 450}}
"""


@pytest.fixture
def bed(tmp_path):
    return make_bed(tmp_path / "collector", declarations=DECLARATIONS)


@pytest.fixture
def prometheus(served, tmp_path):
    binary = need_binary("prometheus")
    bed, _ = served
    port = free_port()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: yte
    authorization:
      type: Bearer
      credentials: {bed.viewer}
    static_configs:
      - targets: ['127.0.0.1:{bed.port}']
""")
    proc = subprocess.Popen(
        [binary, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if http("GET", base + "/-/ready")[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.2)
    else:
        pytest.fail("prometheus did not become ready in 30 s")
    yield base
    proc.terminate()
    proc.wait(timeout=15)


def query(base, promql):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    status, _, body = http("GET", url)
    answer = json.loads(body)
    assert status == 200 and answer["status"] == "success", answer
    return answer["data"]["result"]


def test_promql_matches_the_evaluation(served, prometheus, tmp_path):
    bed, _ = served
    now = time.time()
    reports = {
        "bv-tinh": [make_report("bv-tinh", "h1", collected_at=now),
                    make_report("bv-tinh", "h2", collected_at=now, media="hdd"),
                    make_report("bv-tinh", "h3", collected_at=now, firewall=False)],
        "tyt-xa-a": [make_report("tyt-xa-a", "h4", collected_at=now, ram=4 << 30, antivirus=False),
                     make_report("tyt-xa-a", "h5", collected_at=now, media=None)],
    }
    for site, reps in reports.items():
        for rep in reps:
            assert http("POST", bed.url + "/api/v1/reports", rep, bed.tokens[site])[0] == 201

    # and one report from this machine, sent by the real agent
    (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
    (tmp_path / "token").chmod(0o600)
    (tmp_path / "agent.yaml").write_text(
        f"site: tyt-xa-a\ncollector_url: {bed.url}\ntoken_file: token\nspool_dir: spool\n"
        "host_id: this-machine\n")
    sent = subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "run", "--once", "--config",
                           str(tmp_path / "agent.yaml")], capture_output=True, text=True,
                          timeout=60)
    assert sent.returncode == 0, sent.stderr
    assert list((tmp_path / "spool").glob("*.json")) == []  # acknowledged, so removed

    expected = {}
    for site in reports:
        detail = json.loads(http("GET", f"{bed.url}/api/v1/sites/{site}", token=bed.viewer)[2])
        for c in detail["checks"]:
            if c["status"] in ("pass", "fail"):
                expected[(site, c["check"])] = 1.0 if c["status"] == "pass" else 0.0
    assert len(expected) >= 12 and 0.0 in expected.values() and 1.0 in expected.values()

    deadline = time.monotonic() + 30
    got: dict = {}
    while time.monotonic() < deadline:
        got = {(r["metric"]["site"], r["metric"]["check"]): float(r["value"][1])
               for r in query(prometheus, "yte_site_check_pass")}
        hosts = query(prometheus, 'count(yte_host_info{site="tyt-xa-a"})')
        if got == expected and hosts and hosts[0]["value"][1] == "3":
            break
        time.sleep(0.5)
    assert got == expected
    # the agent's real report counted in its site
    assert query(prometheus, 'yte_host_info{host="this-machine"}')[0]["metric"]["site"] == "tyt-xa-a"
    # and the scrape is healthy
    up = query(prometheus, 'up{job="yte"}')
    assert up and up[0]["value"][1] == "1"
