"""Windows 7 batches (agent/windows/collect-ps2.ps1, PowerShell 2.0, no Python on the PC):
validate the envelope, parse the sources with the agent's own Windows parsers, hold the
result to the report schema. The collector runs it on what such a PC posts: the apps
layer hands it to the collector (yte_compliance.apps.serve), which never imports the agent."""

from __future__ import annotations

import json

from yte_compliance.core.report import (
    ID_RE,
    REPORT_ID_RE,
    Report,
    ReportError,
    parse_report,
    parse_time,
)

_KEYS = {"schema", "report_id", "site", "host_id", "hostname", "collected_at",
         "agent_version", "batch"}


def batch_report(body: bytes) -> Report:
    """The report a batch holds; ReportError naming the field at fault."""
    from yte_compliance.agent.probes.windows import SOURCES
    from yte_compliance.agent.replay import report_from_batch

    try:
        obj = json.loads(body.decode("utf-8-sig"))
    except (ValueError, RecursionError) as e:
        raise ReportError("$", f"invalid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ReportError("$", "a batch is a JSON object")
    for key in obj:
        if key not in _KEYS:
            raise ReportError(key, "unknown field")
    if obj.get("schema") != 1:
        raise ReportError("schema", "this collector reads batch schema 1")
    for key, pattern in (("report_id", REPORT_ID_RE), ("site", ID_RE), ("host_id", ID_RE)):
        if not isinstance(obj.get(key), str) or not pattern.match(obj[key]):
            raise ReportError(key, f"must match {pattern.pattern}")
    for key in ("hostname", "agent_version"):
        if not isinstance(obj.get(key), str) or not 0 < len(obj[key]) <= 512:
            raise ReportError(key, "required string")
    batch = obj.get("batch")
    if not isinstance(batch, dict):
        raise ReportError("batch", "expected an object of source name to result")
    for name, entry in batch.items():
        if name not in SOURCES:
            raise ReportError(f"batch.{name}", "unknown source")
        if not isinstance(entry, dict) or not isinstance(entry.get("ok"), bool):
            raise ReportError(f"batch.{name}", "expected {ok: true, data} or {ok: false, error}")
    report = report_from_batch(batch, site=obj["site"], host_id=obj["host_id"],
                               hostname=obj["hostname"], report_id=obj["report_id"],
                               collected_at=parse_time(obj.get("collected_at"), "collected_at"),
                               agent_version=obj["agent_version"])
    return parse_report(report.to_json_obj())  # the same contract as an agent's report
