"""A Windows PC captured as a test fixture (tests/fixtures/windows/<case>/): the raw batch
split by source, netsh's text, the code pages and culture, the edition and build, and a
case.json marked captured, whose expected facts are what the probes read from it. The
PC's names are replaced by stable pseudonyms (the same PC gives the same ones): computer
name, MachineGuid, MAC addresses and the site-specific bits of IPv6 addresses."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yte_compliance.agent.probes.windows import (
    NETSH_FIREWALL,
    SOURCES,
    collect_argv,
    powershell_argv,
)
from yte_compliance.agent.replay import replay_windows
from yte_compliance.agent.runner import CommandError, Runner
from yte_compliance.core.errors import YteError

# The machine's settings before anything changes them: the OEM code page is the
# console's until a script sets UTF-8.
MACHINE_SCRIPT = r"""
$info = [ordered]@{
  oem_code_page = [Console]::OutputEncoding.CodePage
  ansi_code_page = [Text.Encoding]::Default.CodePage
  culture = [Globalization.CultureInfo]::CurrentCulture.Name
  ui_culture = [Globalization.CultureInfo]::CurrentUICulture.Name
  powershell = [string]$PSVersionTable.PSVersion
}
[Console]::OutputEncoding = New-Object Text.UTF8Encoding $false
$info | ConvertTo-Json -Compress
"""


class CaptureError(YteError):
    pass


def pseudonym(kind: str, value: str, length: int = 8) -> str:
    """The same input gives the same output: captures of one PC stay comparable."""
    return hashlib.sha256(f"yte-capture-v1:{kind}:{value}".encode()).hexdigest()[:length]


def _mac(value: str) -> str:
    digits = "".join(c for c in value.lower() if c in "0123456789abcdef")
    if len(digits) != 12:
        return value
    tail = pseudonym("mac", digits, 6)
    sep = "-" if "-" in value else ":"
    out = digits[:6] + tail  # the vendor prefix stays: it says what the adapter is
    text = sep.join(out[i:i + 2] for i in range(0, 12, 2))
    return text.upper() if value.isupper() or value[:2].isupper() else text


def _ipv6(value: str) -> str:
    """The first 32 bits stay (the address's class: global, Teredo, 6to4, ULA; and the
    provider), the rest is hashed: the site's prefix and the interface id (often the MAC)
    are gone. Link-local keeps fe80::/64; loopback and unspecified stay as they are."""
    import ipaddress

    text, _, zone = value.partition("%")
    try:
        ip = ipaddress.IPv6Address(text)
    except ValueError:
        return value
    if ip.is_loopback or ip.is_unspecified:
        return value
    keep = 64 if ip.is_link_local else 32
    bits = int(ip) >> (128 - keep) << (128 - keep)
    hashed = int(pseudonym("ipv6", str(ip), 32), 16) & ((1 << (128 - keep)) - 1)
    return str(ipaddress.IPv6Address(bits | hashed)) + (f"%{zone}" if zone else "")


def pseudonymize(batch: dict[str, Any], hostname: str) -> tuple[dict[str, Any], str]:
    """The batch with the PC's identifying values replaced; and the hostname's pseudonym."""
    name = f"PC-{pseudonym('host', hostname.upper()).upper()}"
    out = json.loads(json.dumps(batch))

    def rows(source: str) -> list[Any]:
        entry = out.get(source) or {}
        data = entry.get("data") if entry.get("ok") else None
        return data if isinstance(data, list) else ([data] if data is not None else [])

    for r in rows("computer"):
        if isinstance(r, dict) and "Name" in r:
            r["Name"] = name
    entry = out.get("machine_guid") or {}
    if entry.get("ok"):
        entry["data"] = [str(uuid.UUID(pseudonym("guid", str(g).lower(), 32)))
                         for g in (entry["data"] if isinstance(entry["data"], list)
                                   else [entry["data"]])]
    for r in rows("adapters"):
        if isinstance(r, dict) and r.get("MacAddress"):
            r["MacAddress"] = _mac(str(r["MacAddress"]))
    for r in rows("ipv6_addresses"):
        if isinstance(r, dict) and r.get("IPAddress"):
            r["IPAddress"] = _ipv6(str(r["IPAddress"]))
    for r in rows("ipv6_routes"):
        if isinstance(r, dict) and r.get("NextHop") and str(r["NextHop"]) not in ("::", ""):
            r["NextHop"] = _ipv6(str(r["NextHop"]))
    return out, name


def write_case(out: Path, batch: dict[str, Any], *, netsh: str | None, machine: dict[str, Any],
               how: str, now: float) -> Path:
    """The fixture folder, its case.json's expectations read back by the replay."""
    hostname = ""
    computer = batch.get("computer") or {}
    if computer.get("ok") and computer.get("data"):
        first = computer["data"][0] if isinstance(computer["data"], list) else computer["data"]
        hostname = str(first.get("Name") or "")
    clean, name = pseudonymize(batch, hostname or "unknown")
    out.mkdir(parents=True, exist_ok=True)
    for source, entry in clean.items():
        if source not in SOURCES:
            continue
        if entry.get("ok"):
            (out / f"{source}.json").write_text(
                json.dumps(entry.get("data"), ensure_ascii=False, indent=1) + "\n", "utf-8")
        else:
            (out / f"{source}.error.txt").write_text(str(entry.get("error") or "") + "\n",
                                                     "utf-8")
    if netsh is not None:
        (out / "netsh.txt").write_text(netsh, encoding="utf-8")
    (out / "machine.json").write_text(json.dumps(machine, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    os_rows = (clean.get("os") or {}).get("data") or [{}]
    os_row = os_rows[0] if isinstance(os_rows, list) else os_rows
    products = [str(r.get("displayName")) for r in
                ((clean.get("antivirus") or {}).get("data") or []) if isinstance(r, dict)]
    report = replay_windows(out, "captured", now)
    facts = report.flat_facts()
    keep = ("hardware.", "firewall.", "antivirus.any", "ipv6.has", "ipv6.default",
            "patches.", "transport.")
    day = dt.datetime.fromtimestamp(now, dt.timezone.utc).date().isoformat()
    case = {
        "windows": f"{str(os_row.get('Caption') or '?').strip()} (build "
                   f"{os_row.get('BuildNumber') or '?'}), code pages OEM "
                   f"{machine.get('oem_code_page')} / ANSI {machine.get('ansi_code_page')}, "
                   f"culture {machine.get('culture')}, PowerShell {machine.get('powershell')}",
        "product": ", ".join(products) or "no product registered with Security Center",
        "description": "captured from a real PC; the expected facts are what the probes read "
                       "at capture time: review them against the PC before relying on them",
        "origin": f"captured on {day} by {how}; names replaced by stable pseudonyms",
        "captured": True,
        "hostname": name,
        "expected_status": {n: p.status for n, p in report.probes.items()},
        "expected": {k: v for k, v in facts.items()
                     if k.startswith(keep) and not k.startswith("hardware.mac_addresses")},
    }
    (out / "case.json").write_text(json.dumps(case, ensure_ascii=False, indent=1) + "\n",
                                   encoding="utf-8")
    return out


def capture_here(run: Runner, out: Path, clock: Callable[[], float] = time.time) -> Path:
    """This Windows PC, through the same PowerShell and netsh the agent runs."""
    try:
        machine = json.loads(run(powershell_argv(MACHINE_SCRIPT), timeout=60).stdout or "{}")
        result = run(collect_argv(), timeout=180)
    except (CommandError, ValueError) as e:
        raise CaptureError(f"PowerShell: {e}") from None
    if not result.ok:
        raise CaptureError(f"PowerShell failed: {result.stderr.strip()[:300]}")
    try:
        batch = json.loads(result.stdout.lstrip("\ufeff"))
    except ValueError as e:
        raise CaptureError(f"PowerShell printed no JSON: {e}") from None
    try:
        netsh_result = run(list(NETSH_FIREWALL), timeout=30)
        netsh = netsh_result.stdout if netsh_result.ok else None
    except CommandError:
        netsh = None
    return write_case(out, batch, netsh=netsh, machine=machine,
                      how="yte agent capture (collect.ps1)", now=clock())


def capture_from_ps2(folder: Path, out: Path, clock: Callable[[], float] = time.time) -> Path:
    """The Windows 7 script's `-Capture DIR` folder (batch.json, machine.json) as a case."""
    try:
        envelope = json.loads((folder / "batch.json").read_text(encoding="utf-8-sig"))
        machine = json.loads((folder / "machine.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as e:
        raise CaptureError(f"{folder}: not a collect-ps2.ps1 -Capture folder ({e})") from None
    batch = dict(envelope.get("batch") or {})
    batch.setdefault("computer", {"ok": True, "data": [{"Name": envelope.get("hostname")}]})
    # the script sends its derived host id, not the MachineGuid the replay starts from
    batch.setdefault("machine_guid", {"ok": True, "data": [
        str(uuid.UUID(pseudonym("guid", str(envelope.get("host_id")), 32)))]})
    netsh = machine.pop("netsh", None)
    return write_case(out, batch, netsh=netsh, machine=machine,
                      how="collect-ps2.ps1 -Capture and yte agent capture --from-ps2",
                      now=clock())
