"""Replay a recorded Windows machine: a case folder holds one file per source of
agent/windows/collect.ps1 (`<source>.json`, or `<source>.error.txt` for a source that
failed there) and optionally `netsh.txt`; the real Windows probes run against it."""

from __future__ import annotations

import json
from pathlib import Path

from agent.collect import collect_report
from agent.identity import host_id_from_machine_id
from agent.probe import Context
from agent.probes.windows import NETSH_FIREWALL, SOURCES, collect_argv, source
from agent.runner import RecordedRunner
from yte.report import Report


def batch_from_folder(folder: Path) -> dict:
    batch = {}
    for name in SOURCES:
        data, error = folder / f"{name}.json", folder / f"{name}.error.txt"
        if data.exists():
            batch[name] = {"ok": True, "data": json.loads(data.read_text(encoding="utf-8"))}
        elif error.exists():
            batch[name] = {"ok": False, "error": error.read_text(encoding="utf-8").strip()}
    return batch


def windows_runner(folder: Path) -> RecordedRunner:
    commands = {" ".join(collect_argv()): (0, json.dumps(batch_from_folder(folder)), "")}
    netsh = folder / "netsh.txt"
    if netsh.exists():
        commands[" ".join(NETSH_FIREWALL)] = (0, netsh.read_text(encoding="utf-8"), "")
    return RecordedRunner(commands)


def replay_windows(folder: Path, site: str, now: float) -> Report:
    ctx = Context(run=windows_runner(folder), now=lambda: now)
    guid = source(ctx, "machine_guid")[0]
    hostname = source(ctx, "computer")[0]["Name"]
    return collect_report(ctx, platform="windows", site=site,
                          host_id=host_id_from_machine_id(str(guid)), hostname=hostname,
                          source="replay")
