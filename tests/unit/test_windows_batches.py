"""Windows 7: the PowerShell 2.0 batch posted to the collector, parsed by the same parsers."""

import json
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yte_compliance.agent.identity import host_id_from_machine_id
from yte_compliance.agent.probes.windows import SOURCES
from yte_compliance.agent.replay import batch_from_folder
from yte_compliance.agent.windows_batch import batch_report
from yte_compliance.core.report import ReportError

CASE = Path(__file__).parent.parent / "fixtures/windows/win7-sp1-ps2-security-essentials"


def envelope(site="tyt-xa-a", **over):
    batch = batch_from_folder(CASE)
    guid = batch.pop("machine_guid")["data"][0]  # the script sends the derived id instead
    obj = {"schema": 1, "report_id": "7d3c1a2b-0000-4000-8000-000000000007", "site": site,
           "host_id": host_id_from_machine_id(guid), "hostname": "TYT-XA-A-PC01",
           "collected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "agent_version": "ps2-0.1.0", "batch": batch}
    obj.update(over)
    return obj


def test_batch_is_parsed_into_a_report_and_stored(running):
    bed, app = running
    status, _, body = bed.call("POST", "/api/v1/windows-batches", envelope(),
                           token=bed.tokens["tyt-xa-a"])
    assert status == 201, body
    detail = json.loads(bed.call("GET", "/api/v1/sites/tyt-xa-a", token=bed.viewer)[2])
    checks = {c["check"]: c for c in detail["checks"]}
    assert checks["pc.antivirus"]["status"] == "pass"
    # a commune station is not judged on the children's hospital's RAM/SSD target, and
    # Windows 7 with antivirus and firewall no longer passes: it gets no security updates
    assert "pc.ram_ssd" not in checks
    supported = checks["pc.os_supported"]
    assert supported["status"] == "fail" and supported["failing_hosts"] == [
        {"host_id": supported["failing_hosts"][0]["host_id"], "hostname": "TYT-XA-A-PC01",
         "why": "Windows 7 SP1",
         "lacks": [{"check": "pc.os_supported", "kind": "fix",
                    "vi": "Nâng cấp hệ điều hành: Windows 7 SP1 hết hỗ trợ từ 14/01/2020",
                    "en": "Upgrade the operating system: Windows 7 SP1 support ended "
                          "2020-01-14"}]}]
    host = next(iter(app.state.fleet.current_views()["tyt-xa-a"].hosts))
    assert (host.source, host.platform, host.agent_version) == ("script", "windows", "ps2-0.1.0")
    assert host.facts["hardware.os_name"] == "Windows 7 Professional"


def test_bad_batches_are_400_naming_the_field_and_other_sites_403(running):
    bed, _ = running
    tok = bed.tokens["tyt-xa-a"]
    url = "/api/v1/windows-batches"
    for obj, field in ((envelope(batch={"evil": {"ok": True}}), "batch.evil"),
                       (envelope(host_id="Not An Id"), "host_id"),
                       (envelope(collected_at="yesterday"), "collected_at")):
        status, _, body = bed.call("POST", url, obj, token=tok)
        assert status == 400 and json.loads(body)["field"] == field
    assert bed.call("POST", url, envelope(site="bv-tinh"), token=tok)[0] == 403
    assert bed.call("POST", url, envelope())[0] == 401


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from([s for s in SOURCES if s != "machine_guid"]),
                       st.one_of(st.fixed_dictionaries({"ok": st.just(True), "data": json_values}),
                                 st.fixed_dictionaries({"ok": st.just(False),
                                                        "error": st.text(max_size=30)})),
                       max_size=8))
def test_hostile_sources_never_break_the_parsers(batch):
    """Whatever the sources hold, the answer is a valid report (probes contained) or a
    ReportError (→ 400): never another exception (→ 500)."""
    raw = json.dumps(envelope(batch=batch)).encode()
    try:
        report = batch_report(raw)
    except ReportError:
        return
    base = {"hardware", "firewall", "antivirus", "ipv6", "patches"}
    # the transport probe runs for the batches that carry its source (the Windows 7 script)
    assert set(report.probes) == base | ({"transport"} if "transport" in batch else set())
