"""IPv6-ready needs every step the agent measured, and the failing step carries the
agent's own reason. Before: a path that carried small packets but dropped large ones
passed pc.ipv6, and a name with only an A record left it unknown."""

import pytest

from yte_compliance.collector.derive import derive
from yte_compliance.core.report import Ipv6Facts, ProbeResult, Report, parse_report

READY = {"ipv6.has_global_address": True, "ipv6.default_route": True,
         "ipv6.endpoint": "https://yte.soyte.example.vn:8746", "ipv6.dns_aaaa": True,
         "ipv6.tcp_reachable": True, "ipv6.large_response": True}


@pytest.mark.parametrize(("change", "ready", "step"), [
    ({}, True, None),
    ({"ipv6.large_response": False}, False, "large answers do not arrive over IPv6 (path MTU)"),
    ({"ipv6.dns_aaaa": False, "ipv6.tcp_reachable": None, "ipv6.large_response": None}, False,
     "the endpoint's name has no AAAA record"),
    ({"ipv6.large_response": None}, None, None),
    ({"ipv6.default_route": False, "ipv6.large_response": False}, False, "no default route"),
    # an address literal has no AAAA record to look up: that step is not asked for
    ({"ipv6.endpoint": "https://[fd00:0:0:1::1]:8746", "ipv6.dns_aaaa": None}, True, None),
])
def test_every_measured_step_counts(change, ready, step):
    out = derive({**READY, **change}, ())
    assert out["ipv6.ready"] is ready
    assert (out["ipv6.failing_step"] or None) == step


def test_the_failing_step_says_the_agents_reason():
    notes = {"large_response": "the large answer did not arrive: timed out (a path that drops "
                               "large packets: MTU black hole)"}
    out = derive({**READY, "ipv6.large_response": False}, (), notes)
    assert out["ipv6.failing_step"].startswith("large answers do not arrive over IPv6 (path MTU): "
                                               "the large answer did not arrive: timed out")


def test_a_false_facts_reason_travels_in_the_report():
    report = Report(report_id="0f0f0f0f-0000-4000-8000-000000000001", host_id="h1",
                    hostname="pc", site="s", agent_version="0", platform="linux",
                    collected_at=1_790_000_000.0, probes={"ipv6": ProbeResult(
                        "ok", Ipv6Facts(large_response=False), notes={"large_response": "why"})})
    again = parse_report(report.to_json_obj())
    assert again.probes["ipv6"].notes == {"large_response": "why"}
    bad = report.to_json_obj()
    bad["probes"]["ipv6"]["notes"] = {"no_such_fact": "x"}
    with pytest.raises(ValueError, match="not a fact of this probe"):
        parse_report(bad)
