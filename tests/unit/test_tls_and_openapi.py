"""TLS between agent and collector (a pinned CA), and the OpenAPI description."""

import subprocess
import sys

import pytest
import yaml
from openapi_spec_validator import validate

from tests.conftest import need_binary
from tests.fleet import ROOT, make_bed, serving
from yte_compliance.collector.openapi import render


def make_certificates(folder):
    openssl = need_binary("openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=yte test CA")
    run("req", *ec, "-keyout", "collector.key", "-out", "collector.csr", "-subj", "/CN=127.0.0.1")
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "collector.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "collector.crt", "-days", "2", "-extfile", "ext.cnf")


@pytest.fixture
def tls_collector(tmp_path):
    from yte_compliance.collector.config import load_collector_config

    folder = tmp_path / "c"
    folder.mkdir()
    make_certificates(folder)
    bed = make_bed(folder, extra="tls:\n  cert_file: collector.crt\n  key_file: collector.key\n")
    text = bed.config.read_text().replace("allow_plain_http: true\n", "")
    bed.config.write_text(text)
    cfg = load_collector_config(bed.config)
    assert not cfg.allow_plain_http and cfg.tls_cert_file
    with serving(bed.config) as app:
        yield bed, app


def _agent(tmp_path, bed, ca_line):
    (tmp_path / "token").write_text(bed.tokens["tyt-xa-a"])
    (tmp_path / "token").chmod(0o600)
    (tmp_path / "agent.yaml").write_text(
        f"site: tyt-xa-a\ncollector_url: https://127.0.0.1:{bed.port}\ntoken_file: token\n"
        f"spool_dir: spool\nhost_id: h-tls\n{ca_line}")
    return subprocess.run([sys.executable, "-m", "yte_compliance", "agent", "run", "--once",
                           "--config", str(tmp_path / "agent.yaml")],
                          capture_output=True, text=True, timeout=60)


def test_agent_with_pinned_ca_sends_over_tls(tls_collector, tmp_path):
    bed, app = tls_collector
    done = _agent(tmp_path, bed, f"ca_file: {bed.folder / 'ca.crt'}\n")
    assert done.returncode == 0, done.stderr
    assert app.state.store.report_count("tyt-xa-a") == 1


def test_unknown_ca_is_refused_and_the_report_waits(tls_collector, tmp_path):
    bed, app = tls_collector
    done = _agent(tmp_path, bed, "")  # system trust: our test CA is not in it
    assert done.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in done.stderr
    assert len(list((tmp_path / "spool").glob("*.json"))) == 1
    assert app.state.store.report_count() == 0


def test_plain_http_is_refused_unless_configured(tmp_path):
    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.core.yamlconf import ConfigError

    bed = make_bed(tmp_path / "c")
    bed.config.write_text(bed.config.read_text().replace("allow_plain_http: true\n", ""))
    with pytest.raises(ConfigError) as e:
        load_collector_config(bed.config)
    assert e.value.key == "tls" and "allow_plain_http" in str(e.value)


def test_openapi_is_generated_checked_in_served_and_valid(running):
    bed, _ = running
    checked_in = (ROOT / "docs/openapi.yaml").read_text()
    assert checked_in == render(), (
        "regenerate: python -m yte_compliance.collector.openapi > docs/openapi.yaml")
    status, _, served = bed.call("GET", "/openapi.yaml", token=bed.viewer)
    assert status == 200 and served.decode() == checked_in
    validate(yaml.safe_load(checked_in))
