"""Report schema v1: what the agent writes, the collector reads; errors name the field."""

import json

import pytest

from yte_compliance.agent.probe import Context, Observed, Unknown, run_probe
from yte_compliance.core.report import (
    HardwareFacts,
    ProbeResult,
    Report,
    ReportError,
    parse_report,
)


def _report(**over) -> dict:
    r = Report(
        report_id="0b8f2a4e-1111-4222-8333-944455556666", host_id="h0123456789abcde",
        hostname="pc-01", site="tyt-xa-a", agent_version="0.1.0", platform="linux",
        collected_at=1790000000.0,
        probes={"hardware": ProbeResult("ok", HardwareFacts(memory_installed_bytes=8 << 30,
                                                            os_disk_media="ssd"))},
    )
    obj = r.to_json_obj()
    obj.update(over)
    return obj


def test_round_trip():
    obj = json.loads(json.dumps(_report()))
    report = parse_report(obj)
    assert report.collected_at == 1790000000.0
    facts = report.flat_facts()
    assert facts["hardware.memory_installed_bytes"] == 8 << 30
    assert facts["hardware.os_disk_media"] == "ssd"
    assert facts["hardware.cpu_model"] is None  # unknown stays None, never False


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda o: o.pop("host_id"), "host_id"),
        (lambda o: o.update(schema=2), "schema"),
        (lambda o: o.update(collected_at="yesterday"), "collected_at"),
        (lambda o: o.update(collected_at="2026-11-23T10:00:00"), "collected_at"),  # no zone
        (lambda o: o.update(site="Site A"), "site"),
        (lambda o: o.update(extra=1), "extra"),
        (lambda o: o["probes"]["hardware"]["facts"].update(memory_installed_bytes="8GB"),
         "probes.hardware.facts.memory_installed_bytes"),
        (lambda o: o["probes"]["hardware"]["facts"].update(memory_installed_bytes=True),
         "probes.hardware.facts.memory_installed_bytes"),
        (lambda o: o["probes"]["hardware"]["facts"].update(ram=1), "probes.hardware.facts.ram"),
        (lambda o: o["probes"].update(bogus={}), "probes.bogus"),
        (lambda o: o["probes"]["hardware"].update(status="fine"), "probes.hardware.status"),
        (lambda o: o["probes"]["hardware"].update(status="error"), "probes.hardware.reason"),
        (lambda o: o["probes"]["hardware"]["unknown"].update(nope="x"),
         "probes.hardware.unknown.nope"),
        # enumerated facts: "nvme" passed before and was exported as an HDD
        (lambda o: o["probes"]["hardware"]["facts"].update(os_disk_media="nvme"),
         "probes.hardware.facts.os_disk_media"),
        (lambda o: o["probes"]["hardware"]["facts"].update(memory_installed_source="guess"),
         "probes.hardware.facts.memory_installed_source"),
    ],
)
def test_errors_name_the_field(mutate, field):
    obj = _report()
    mutate(obj)
    with pytest.raises(ReportError) as e:
        parse_report(obj)
    assert e.value.field == field


def test_a_failing_probe_is_contained_and_timed():
    def broken(ctx):
        raise OSError("disk on fire")

    def cannot_tell(ctx):
        raise Unknown("no permission")

    ticks = iter([10.0, 10.5, 20.0, 20.25])
    clock = lambda: next(ticks)  # noqa: E731
    err = run_probe(broken, Context(), clock)
    unk = run_probe(cannot_tell, Context(), clock)
    assert (err.status, err.reason, err.duration_seconds) == ("error", "OSError: disk on fire", 0.5)
    assert (unk.status, unk.reason, unk.duration_seconds) == ("unknown", "no permission", 0.25)
    ok = run_probe(lambda ctx: Observed(HardwareFacts(), {"os_disk_media": "virtual"}), Context())
    assert ok.status == "ok" and ok.unknown == {"os_disk_media": "virtual"}
