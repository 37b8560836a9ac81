"""The compliance table as a person reads it, in the plans' form: STT | Chỉ tiêu |
Yêu cầu | Thực hiện | Đánh giá, Vietnamese first, numbers with a decimal comma."""

from __future__ import annotations

import textwrap
from typing import Any

VERDICT = {"pass": "ĐẠT", "fail": "CHƯA ĐẠT", "unknown": "CHƯA RÕ (unknown)",
           "waived": "MIỄN TRỪ (waived)"}
VERDICT_SHORT = {"pass": "ĐẠT", "fail": "CHƯA ĐẠT", "unknown": "CHƯA RÕ", "waived": "MIỄN TRỪ"}
_OPS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "eq": "=", "ne": "≠"}


def vn_number(x: float, decimals: int = 1) -> str:
    """1234.5 → '1.234,5' (thousands dot, decimal comma)."""
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vn_percent(ratio: float, decimals: int = 1) -> str:
    return f"{vn_number(ratio * 100, decimals)} %"


def requirement(check: dict[str, Any]) -> str:
    if check["scope"] == "host":
        if check["target"] == 1:
            return "100 % số máy"
        return f"≥ {vn_percent(check['target'], 0)} số máy"
    op, value = check.get("op"), check.get("threshold")
    if isinstance(value, bool):
        return "có / yes" if value else "không / no"
    if check.get("unit") in ("ratio", "ratio_devices") and value is not None:
        return f"{_OPS.get(op, op)} {vn_percent(value, 0)}"
    if check.get("unit") == "bps" and value is not None:
        return f"{_OPS.get(op, op)} {vn_number(value / 1e6, 0)} Mbps"
    return f"{_OPS.get(op, op)} {value}"


# the declared facts that share one target, by name, where the table lists each
FACT_VI = {"declared.wifi_internal": "Wi-Fi nội bộ",
           "declared.wifi_patients": "Wi-Fi cho người bệnh",
           "declared.perimeter_firewall": "tường lửa vành đai",
           "declared.lan_fiber": "mạng LAN cáp quang", "declared.router": "router"}


def _clauses(check: dict[str, Any]) -> str:
    """'Wi-Fi nội bộ: có; Wi-Fi cho người bệnh: không' (unknown: chưa khai báo)."""
    parts = []
    for c in check["clauses"]:
        name = FACT_VI.get(c["fact"], c["fact"])
        value = c["value"]
        shown = ("chưa khai báo" if value is None else
                 ("có" if value else "không") if isinstance(value, bool) else str(value))
        parts.append(f"{name}: {shown}")
    return "; ".join(parts)


def achieved(check: dict[str, Any]) -> str:
    if check["scope"] == "host":
        h = check["hosts"]
        if not h["counted"]:
            return f"0 máy báo cáo ({h['stale']} quá hạn / stale)"
        text = f"{h['passing']}/{h['counted']} máy ({vn_percent(check['value'])})"
        if h["unknown"]:
            text += f", {h['unknown']} chưa rõ"
        if h.get("unmanaged"):
            text += f", {h['unmanaged']} không có tác tử"
        if h.get("waived"):
            text += f", {h['waived']} miễn trừ"
        return text
    if len(check.get("clauses") or []) > 1:
        return _clauses(check)
    value = check.get("value")
    if value is None:
        if check.get("evidence") == "measured":
            if check.get("unit") == "ratio_devices":
                return "chưa quét mạng / not discovered"
            return "chưa đo / not measured"
        if check.get("evidence") == "budget" and (check.get("basis") or {}).get(
                "it_total_million_vnd"):
            return "không có số liệu chi tiết / no breakdown"
        return "chưa khai báo / not declared"
    if isinstance(check.get("threshold"), bool):
        return "có / yes" if value else "không / no"
    if check.get("unit") == "ratio":
        basis = check.get("basis") or {}
        if basis.get("it_total_million_vnd"):
            return (f"{vn_number(basis['security_million_vnd'], 0)}/"
                    f"{vn_number(basis['it_total_million_vnd'], 0)} triệu đồng "
                    f"({vn_percent(value, 2)})")
        return vn_percent(value, 2)
    if check.get("unit") == "ratio_devices":
        b = check.get("basis") or {}
        return f"{b.get('covered')}/{b.get('devices')} máy có tác tử ({vn_percent(value)})"
    if check.get("unit") == "bps":
        text = f"trung vị / median {vn_number(value / 1e6)} Mbps"
        if check.get("estimate") is not None:
            text += f" ≈ {vn_number(check['estimate'] / 1e6)} Mbps đường truyền / link"
        return text + f" ({check.get('measurements', 0)} lần đo)"
    return vn_number(value, 2)


def waiver_text(w: dict[str, Any]) -> str:
    """A waiver as the auditor reads it: why, who approved it, the decision, until when."""
    until = "/".join(reversed(w["expires"].split("-")))
    return (f"miễn trừ / waived: {w['reason']} — {w['approved_by']}, {w['decision']}, "
            f"đến / until {until}")


TITLE_WIDTH = 48  # the target's column: longer titles wrap within it


def format_site(detail: dict[str, Any]) -> str:
    site = detail["site"]
    rows = [("STT", "Chỉ tiêu / Target", "Yêu cầu", "Thực hiện", "Đánh giá")]
    notes = []
    for i, c in enumerate(detail["checks"], 1):
        rows.append((str(i), c["title_vi"], requirement(c), achieved(c), VERDICT[c["status"]]))
        if c["status"] == "unknown" and c.get("reason"):
            notes.append(f"  {i}. chưa rõ vì / unknown because: {c['reason']}")
        if c.get("waiver"):
            notes.append(f"  {i}. {waiver_text(c['waiver'])}")
        for h in c.get("waived_hosts", []):
            notes.append(f"  {i}. {h['hostname']}: {waiver_text(h['waiver'])}")
        if (c.get("rule") or {}).get("note_vi"):
            notes.append(f"  {i}. {c['rule']['note_vi']} / {c['rule']['note_en']}")
        for h in c.get("unknown_hosts", [])[:10]:
            notes.append(f"  {i}. {h['hostname']} chưa rõ / unknown: {'; '.join(h['why'])}")
        if c.get("failing_reasons"):
            tally = "; ".join(f"{why}: {n}" for why, n in c["failing_reasons"].items())
            notes.append(f"  {i}. lý do chưa đạt / why not met: {tally}")
        failing = [h["hostname"] for h in c.get("failing_hosts", [])]
        if failing:
            notes.append(f"  {i}. máy chưa đạt / failing: {', '.join(failing[:10])}"
                         + (" …" if len(failing) > 10 else ""))
    widths = [max(len(r[k]) for r in rows) for k in range(5)]
    widths[1] = min(widths[1], TITLE_WIDTH)
    lines = [f"Cơ sở / Site: {site['name']} ({site['id']}) — {site['type']}, "
             f"{site['province']}", ""]
    for n, r in enumerate(rows):
        # a long title wraps onto the next lines of its own column: never cut
        title = textwrap.wrap(r[1], widths[1]) or [""]
        cells = [r[0].rjust(widths[0]), title[0].ljust(widths[1]), r[2].ljust(widths[2]),
                 r[3].ljust(widths[3]), r[4]]
        lines.append("  ".join(cells).rstrip())
        indent = " " * (widths[0] + 2)
        lines += [f"{indent}{more}" for more in title[1:]]
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if notes:
        lines += ["", "Ghi chú / Notes:"] + notes
    hosts = detail["hosts"]
    lines += ["", f"Máy báo cáo / reporting hosts: {hosts['fresh']} "
                  f"(quá hạn / stale: {hosts['stale']})"]
    return "\n".join(lines)
