"""When the operating system last installed updates: dpkg's log, or rpm's install times."""

from __future__ import annotations

import datetime as dt
import gzip
import re

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.report import PatchesFacts

_DPKG_UPGRADE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) upgrade ", re.M)


def parse_dpkg_log(text: str) -> dt.datetime | None:
    """The newest 'upgrade' action (local time, as dpkg writes it)."""
    stamps = _DPKG_UPGRADE.findall(text)
    return dt.datetime.strptime(max(stamps), "%Y-%m-%d %H:%M:%S") if stamps else None


def parse_rpm_installtimes(text: str) -> float | None:
    times = [int(t) for t in text.split() if t.isdigit()]
    return float(max(times)) if times else None


def collect(ctx: Context) -> Observed:
    logs = sorted(ctx.path("/var/log").glob("dpkg.log*"))
    if logs:
        newest = None
        for log in logs:
            try:
                raw = log.read_bytes()
                text = (gzip.decompress(raw) if log.suffix == ".gz" else raw).decode(
                    errors="replace")
            except (OSError, EOFError, gzip.BadGzipFile):
                continue
            found = parse_dpkg_log(text)
            if found and (newest is None or found > newest):
                newest = found
        if newest is None:
            return Observed(PatchesFacts(source="dpkg"),
                            {"last_update_at": "no upgrade recorded in the kept dpkg logs"})
        return Observed(PatchesFacts(last_update_at=newest.timestamp(), source="dpkg"))
    try:
        result = ctx.run(["rpm", "-qa", "--qf", "%{INSTALLTIME}\\n"], timeout=30)
    except CommandError:
        raise Unknown("no package manager history found (dpkg log or rpm)") from None
    when = parse_rpm_installtimes(result.stdout) if result.ok else None
    if when is None:
        raise Unknown("rpm gave no install times")
    return Observed(PatchesFacts(last_update_at=when, source="rpm"))
