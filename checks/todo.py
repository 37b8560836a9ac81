"""What a PC needs, in plain words: each clause of a host target that the PC fails
becomes one thing to do ("Nâng RAM lên 8 GB (hiện 4 GB)"), each clause it could not tell
one thing to check. The web page's to-do list, the year-end report's failing PCs and the
district's list of sites to visit all read these, so they never disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yte_compliance.checks.evaluate import judge_clause
from yte_compliance.checks.targets import Clause, Target

MEDIA_VI = {"hdd": "ổ cứng HDD", "ssd": "SSD", "virtual": "ổ ảo", "unknown": "chưa rõ"}
# the IPv6 steps (collector/derive.py) in Vietnamese, by the start of their English text
IPV6_STEP_VI = {
    "no global IPv6 address": "máy chưa có địa chỉ IPv6 toàn cầu",
    "no default route": "chưa có tuyến mặc định IPv6",
    "the endpoint's name has no AAAA record": "tên máy chủ chưa có bản ghi AAAA",
    "the endpoint is not reachable over IPv6": "chưa kết nối được máy chủ qua IPv6",
    "large answers do not arrive over IPv6": "gói tin lớn không đi qua được IPv6 (MTU)",
}


@dataclass(frozen=True)
class Todo:
    check: str
    kind: str  # fix: a clause fails | verify: the agent could not tell
    vi: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "kind": self.kind, "vi": self.vi, "en": self.en}


def gib(n: float | None) -> str:
    """8589934592 → '8 GB' (installed memory is sold in GiB and called GB)."""
    if n is None:
        return "?"
    value = n / (1 << 30)
    return f"{value:.0f} GB" if abs(value - round(value)) < 0.05 else f"{value:.1f} GB"


def _day(ts: Any) -> str:
    try:
        return dt.date.fromtimestamp(float(ts)).strftime("%d/%m/%Y")
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def ipv6_step_vi(step: str | None) -> str:
    """The first failing IPv6 step in Vietnamese, the agent's own detail kept."""
    for en, vi in IPV6_STEP_VI.items():
        if step and step.startswith(en):
            _, sep, detail = step.partition(": ")
            return f"{vi} ({detail})" if sep else vi
    return step or "chưa rõ bước nào"


def _antivirus(facts: Mapping[str, Any]) -> tuple[str, str]:
    names = [str(p.get("name")) for p in facts.get("antivirus.products") or []
             if isinstance(p, Mapping) and p.get("name")]
    if names:
        listed = ", ".join(names)
        return (f"Bật phần mềm diệt virus ({listed} đang tắt)",
                f"Turn the antivirus on ({listed} is not running)")
    return "Cài phần mềm diệt virus", "Install antivirus software"


def fix(c: Clause, facts: Mapping[str, Any], t: Target) -> tuple[str, str]:
    """The plain words for one failing clause: what to do, with the PC's figure now."""
    x = facts.get(c.fact)
    if c.fact == "hardware.memory_installed_bytes":
        return (f"Nâng RAM lên {gib(c.value)} (hiện {gib(x)})",
                f"Upgrade RAM to {gib(c.value)} (now {gib(x)})")
    if c.fact == "hardware.os_disk_media":
        now_vi, now_en = MEDIA_VI.get(str(x), str(x)), str(x).upper()
        return (f"Thay ổ chứa hệ điều hành bằng SSD (hiện {now_vi})",
                f"Move the operating system to an SSD (now {now_en})")
    if c.fact == "antivirus.any_running":
        return _antivirus(facts)
    if c.fact == "antivirus.signatures_updated_at":
        return (f"Cập nhật mẫu nhận diện virus (lần cuối {_day(x)}, cần trong "
                f"{c.value:g} ngày)",
                f"Update the antivirus signatures (last {_day(x)}, due every {c.value:g} days)")
    if c.fact == "firewall.inbound_filtering":
        return "Bật tường lửa", "Turn the firewall on"
    if c.fact == "ipv6.ready":
        step = facts.get("ipv6.failing_step")
        return (f"Sửa kết nối IPv6: {ipv6_step_vi(step)}", f"Fix IPv6: {step or 'unknown step'}")
    if c.fact == "patches.last_update_at":
        return (f"Cài bản cập nhật hệ điều hành (lần cuối {_day(x)}, cần trong "
                f"{c.value:g} ngày)",
                f"Install operating system updates (last {_day(x)}, due every {c.value:g} days)")
    if c.fact == "os.supported":
        release, ends = facts.get("os.release") or "?", facts.get("os.support_ends_on") or "?"
        vi_ends = "/".join(reversed(ends.split("-")))  # 2020-01-14 → 14/01/2020
        return (f"Nâng cấp hệ điều hành: {release} hết hỗ trợ từ {vi_ends}",
                f"Upgrade the operating system: {release} support ended {ends}")
    return (t.remediation_vi or f"Khắc phục để đạt: {t.title_vi}",
            t.remediation_en or f"Fix to meet: {t.title_en}")


def host_todo(t: Target, facts: Mapping[str, Any], now: float) -> list[Todo]:
    """One host against one host target: a fix per failing clause, or, when nothing fails
    but something could not be read, one thing to check."""
    fixes, unread = [], []
    for c in t.all_of:
        verdict = judge_clause(c, facts, now)
        if verdict is False:
            vi, en = fix(c, facts, t)
            fixes.append(Todo(t.id, "fix", vi, en))
        elif verdict is None:
            unread.append(c.fact)
    if fixes or not unread:
        return fixes
    return [Todo(t.id, "verify", f"Kiểm tra: {t.title_vi} (chưa đọc được {', '.join(unread)})",
                 f"Check: {t.title_en} (could not read {', '.join(unread)})")]
