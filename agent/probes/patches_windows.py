"""When Windows last installed updates: the newest InstalledOn among the installed
updates (Win32_QuickFixEngineering). The scripts send WMI's own text, never a date
PowerShell parsed: PowerShell 2.0's Get-HotFix parses it in the machine's culture, so
on Vietnamese regional settings (dd/MM/yyyy) day and month swap."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.windows import SourceFailed, parse_time, source
from yte_compliance.core.report import PatchesFacts

# PowerShell's [string] of a DateTime is invariant too: "M/d/yyyy" then a time
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_FILETIME = re.compile(r"^[0-9a-fA-F]{16}$")
_FILETIME_EPOCH = dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)


def parse_hotfix_date(value: Any) -> float | None:
    """WMI's InstalledOn: "M/d/yyyy" whatever the machine's culture (midnight UTC: the
    day is what counts), a 16-hex-digit FILETIME (some Vista-era entries), "yyyyMMdd",
    or an ISO 8601 time (older batches)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    m = _US_DATE.match(text)
    try:
        if m:
            month, day, year = map(int, m.groups())
            return dt.datetime(year, month, day, tzinfo=dt.timezone.utc).timestamp()
        if _FILETIME.match(text):
            ticks = int(text, 16)
            return (_FILETIME_EPOCH + dt.timedelta(microseconds=ticks // 10)).timestamp()
        if len(text) == 8 and text.isdigit():
            year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
            return dt.datetime(year, month, day, tzinfo=dt.timezone.utc).timestamp()
    except (ValueError, OverflowError):
        return None
    return parse_time(text)


def parse_hotfixes(rows: list[dict[str, Any]]) -> float | None:
    stamps = [t for t in (parse_hotfix_date(r.get("InstalledOn")) for r in rows) if t is not None]
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
