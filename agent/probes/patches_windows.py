"""When Windows last installed updates: the newest InstalledOn among Get-HotFix entries."""

from __future__ import annotations

from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.windows import SourceFailed, parse_time, source
from yte_compliance.core.report import PatchesFacts


def parse_hotfixes(rows: list[dict[str, Any]]) -> float | None:
    stamps = [t for t in (parse_time(r.get("InstalledOn")) for r in rows) if t is not None]
    return max(stamps, default=None)


def collect(ctx: Context) -> Observed:
    try:
        when = parse_hotfixes(source(ctx, "hotfixes"))
    except SourceFailed as e:
        raise Unknown(str(e)) from None
    if when is None:
        return Observed(PatchesFacts(source="windows-hotfix"),
                        {"last_update_at": "no installed update carries a date"})
    return Observed(PatchesFacts(last_update_at=when, source="windows-hotfix"))
