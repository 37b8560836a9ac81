"""Replay a recorded Windows machine: a case folder holds one file per source of
agent/windows/collect.ps1 (`<source>.json`, or `<source>.error.txt` for a source that
failed there) and optionally `netsh.txt`; the real Windows probes run against it."""

from __future__ import annotations

import json
from pathlib import Path

from yte_compliance.agent.collect import collect_report
from yte_compliance.agent.identity import host_id_from_machine_id
from yte_compliance.agent.probe import Context
from yte_compliance.agent.probes.windows import NETSH_FIREWALL, SOURCES, collect_argv, source
from yte_compliance.agent.runner import RecordedRunner, Runner
from yte_compliance.core.report import Report


def batch_from_folder(folder: Path) -> dict:
    batch = {}
    for name in SOURCES:
        data, error = folder / f"{name}.json", folder / f"{name}.error.txt"
        if data.exists():
            batch[name] = {"ok": True, "data": json.loads(data.read_text(encoding="utf-8"))}
        elif error.exists():
            batch[name] = {"ok": False, "error": error.read_text(encoding="utf-8").strip()}
    return batch


def batch_runner(batch: dict, netsh: str | None = None) -> RecordedRunner:
    commands = {" ".join(collect_argv()): (0, json.dumps(batch), "")}
    if netsh is not None:
        commands[" ".join(NETSH_FIREWALL)] = (0, netsh, "")
    return RecordedRunner(commands)


def windows_runner(folder: Path) -> RecordedRunner:
    netsh = folder / "netsh.txt"
    return batch_runner(batch_from_folder(folder),
                        netsh.read_text(encoding="utf-8") if netsh.exists() else None)


def report_from_batch(batch: dict, *, site: str, host_id: str, hostname: str,
                      report_id: str, collected_at: float, agent_version: str) -> Report:
    """A Windows 7 PowerShell 2.0 batch (agent/windows/collect-ps2.ps1) as a report: the
    same parsers as the agent's, run where Python is (the collector)."""
    ctx = Context(run=batch_runner(batch), now=lambda: collected_at)
    report = collect_report(ctx, platform="windows", site=site, host_id=host_id,
                            hostname=hostname, source="script", enabled=_sent_by(batch))
    report.report_id, report.agent_version = report_id, agent_version
    return report


def windows_report(run: Runner, *, site: str, now: float, origin: str) -> Report:
    """A Windows host's report from a runner that answers collect.ps1 (and netsh): a
    recorded case folder, or a batch fetched over SSH. The host id is its MachineGuid."""
    ctx = Context(run=run, now=lambda: now)
    guid = source(ctx, "machine_guid")[0]
    hostname = source(ctx, "computer")[0]["Name"]
    return collect_report(ctx, platform="windows", site=site,
                          host_id=host_id_from_machine_id(str(guid)), hostname=hostname,
                          source=origin, enabled=_sent_by(ctx.cache.get("windows_batch", {})))


def _sent_by(batch: dict) -> frozenset[str]:
    """The opt-in probes a batch has sources for (transport: the Windows 7 script's)."""
    return frozenset({"transport"}) if "transport" in batch else frozenset()


def replay_windows(folder: Path, site: str, now: float) -> Report:
    return windows_report(windows_runner(folder), site=site, now=now, origin="replay")
