"""Windows sources: one PowerShell run per collection (agent/windows/collect.ps1), its
answer cached in the context; `netsh` for the firewall fallback. Both print UTF-8, set
explicitly ([Console]::OutputEncoding): PowerShell and netsh otherwise write in the OEM
code page, where Vietnamese names and netsh's words do not survive. Shared decoding
helpers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from yte_compliance.agent.probe import Context, Unknown
from yte_compliance.agent.runner import CommandError
from yte_compliance.core.assets import asset_text

SCRIPT = "windows/collect.ps1"  # inside this package
SOURCES = ("machine_guid", "computer", "memory", "os", "cpu", "os_disk", "antivirus",
           "defender", "av_services", "firewall", "net_profiles", "ipv6_addresses",
           "ipv6_routes", "adapters", "hotfixes", "transport")
UTF8_OUTPUT = "[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false"


def powershell_argv(script: str) -> list[str]:
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-EncodedCommand", encoded]


# netsh inherits the console's output code page: set to UTF-8 first, it writes UTF-8
NETSH_FIREWALL = tuple(powershell_argv(f"{UTF8_OUTPUT}; netsh advfirewall show allprofiles state"))


def collect_argv() -> list[str]:
    return powershell_argv(script_text())


def script_text() -> str:
    return asset_text("yte_compliance.agent", SCRIPT)


class SourceFailed(Exception):
    """One source of the batch failed on the machine; the message is Windows' own."""


def _batch(ctx: Context) -> dict[str, Any]:
    if "windows_batch" not in ctx.cache:
        try:
            result = ctx.run(collect_argv(), timeout=120)
        except CommandError as e:
            raise Unknown(f"PowerShell did not run: {e}") from None
        if not result.ok:
            raise Unknown(f"PowerShell failed: {result.stderr.strip()[:300]}")
        try:
            ctx.cache["windows_batch"] = json.loads(result.stdout.lstrip("\ufeff"))
        except ValueError as e:
            raise Unknown(f"PowerShell printed no JSON: {e}") from None
    return ctx.cache["windows_batch"]


def source(ctx: Context, name: str) -> list[Any]:
    """The rows one source returned (always a list), or SourceFailed with its error."""
    entry = _batch(ctx).get(name)
    if entry is None:
        raise SourceFailed(f"{name}: not in the PowerShell output")
    if not entry.get("ok"):
        raise SourceFailed(f"{name}: {entry.get('error') or 'failed'}")
    return as_list(entry.get("data"))


def as_list(value: Any) -> list[Any]:
    """ConvertTo-Json gives an object for one row and an array for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def parse_time(value: Any) -> float | None:
    """ISO 8601 (what collect.ps1 prints) or .NET's /Date(ms)/ (PowerShell 5.1 default)."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        m = _MS_DATE.match(value)
        if m:
            return int(m.group(1)) / 1000.0
        text = value.strip()
        text = text[:-1] + "+00:00" if text.endswith("Z") else text
        text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # .NET prints 7 fractional digits
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed.timestamp()
    return None


def enum_name(value: Any, numbers: dict[int, str]) -> str | None:
    """An enum as its name: collect.ps1 prints names; raw CIM output prints numbers."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return numbers.get(value, str(value))
    return str(value)
