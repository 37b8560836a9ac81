"""A report as a person reads it: one line per fact, Vietnamese first, English beside."""

from __future__ import annotations

import dataclasses
import datetime as dt

from yte_compliance.core.report import Report

_GiB = 1 << 30
_LABELS = {
    "hardware": "Phần cứng / Hardware",
    "firewall": "Tường lửa / Firewall",
    "antivirus": "Phần mềm diệt virus / Antivirus",
    "ipv6": "IPv6",
    "patches": "Cập nhật hệ điều hành / OS updates",
}
_STATUS = {"ok": "OK", "unknown": "KHÔNG RÕ / UNKNOWN", "error": "LỖI / ERROR"}


def _value(name: str, value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "có / yes" if value else "không / no"
    if name.endswith("_bytes") and isinstance(value, int):
        return f"{value / _GiB:.1f} GiB"
    if name.endswith("_at") and isinstance(value, float):
        return dt.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        if value and dataclasses.is_dataclass(value[0]):
            return "; ".join(
                f"{p.name} ({'đang chạy / running' if p.running else 'không chạy / not running'})"
                for p in value)
        return ", ".join(str(v) for v in value) or "(không có / none)"
    return str(value)


def format_report(report: Report) -> str:
    lines = [
        f"Máy / Host: {report.hostname}  id={report.host_id}  site={report.site}",
        f"Thu thập lúc / Collected: "
        f"{dt.datetime.fromtimestamp(report.collected_at).strftime('%Y-%m-%d %H:%M:%S')}",
    ]
    for name, result in report.probes.items():
        lines.append("")
        lines.append(f"[{_LABELS.get(name, name)}] {_STATUS[result.status]}"
                     f"  ({result.duration_seconds * 1000:.0f} ms)")
        if result.reason:
            lines.append(f"  lý do / reason: {result.reason}")
        if result.facts is None:
            continue
        for f in dataclasses.fields(result.facts):
            value = getattr(result.facts, f.name)
            text = _value(f.name, value)
            if f.name in result.unknown:
                text = f"không rõ / unknown: {result.unknown[f.name]}"
            lines.append(f"  {f.name:<26} {text}")
    return "\n".join(lines)
