"""A Linux host's report from a Context: the same probes as the agent, whether they run on
the host (the bundle run by its python3) or here on a snapshot of its files."""

from __future__ import annotations

import json
import sys

from yte_compliance.agent.collect import collect_report
from yte_compliance.agent.identity import host_id_from_machine_id, linux_machine_id
from yte_compliance.agent.probe import Context
from yte_compliance.core.report import Report


def linux_report(ctx: Context, site: str) -> Report:
    """Host id from the machine id and the name from the kernel, both read under the
    context's root, so that a snapshot gives what the host itself would."""
    hostname = ctx.read_text("/proc/sys/kernel/hostname").strip()
    return collect_report(ctx, platform="linux", site=site, source="ssh", hostname=hostname,
                          host_id=host_id_from_machine_id(linux_machine_id(ctx.root)))


def main(argv: list[str]) -> int:
    """Entry point of the bundle on the host: one report as JSON on stdout."""
    try:
        report = linux_report(Context(), argv[0])
    except LookupError as e:
        sys.stderr.write(f"yte: {e}\n")
        return 2
    sys.stdout.write(json.dumps(report.to_json_obj(), ensure_ascii=False))
    return 0
