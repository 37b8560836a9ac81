"""Antivirus on Windows: every product registered with Security Center (SecurityCenter2
AntiVirusProduct, productState decoded), refined by Defender's own status; on Windows
Server (no Security Center) Defender's status and known antivirus services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.windows import SourceFailed, enum_name, parse_time, source
from yte_compliance.core.report import AntivirusFacts, AntivirusProduct

RUNNING_STATES = {0: "off", 1: "on", 2: "snoozed", 3: "expired"}


@dataclass(frozen=True)
class ProductState:
    running: str  # off | on | snoozed | expired | unknown
    signatures_current: bool
    microsoft: bool


def decode_product_state(value: int) -> ProductState:
    """productState as six hex digits 0xTTRSDD: the nibble under 0xF000 is the running
    state, the one under 0x0F00 the owner (1 = Microsoft), the one under 0x00F0 the
    signatures (0 current, 1 out of date). E.g. 397568 = 0x061100: on, Microsoft, current."""
    return ProductState(
        running=RUNNING_STATES.get((value & 0xF000) >> 12, "unknown"),
        signatures_current=(value & 0x00F0) == 0,
        microsoft=(value & 0x0F00) == 0x0100,
    )


# Windows service names of products common in Vietnamese public bodies, for servers
# without Security Center. 'AVP*' matches Kaspersky's versioned service names.
SERVICES = (
    ("ekrn", "ESET"),
    ("AVP", "Kaspersky"),
    ("BkavService", "Bkav"),
    ("BkavProService", "Bkav Pro"),
    ("ntrtscan", "Trend Micro Apex One"),
    ("TmListen", "Trend Micro Apex One"),
    ("SepMasterService", "Symantec Endpoint Protection"),
    ("CmcAvService", "CMC Antivirus"),
)
_DEFENDER_NAMES = ("windows defender", "microsoft defender")
# Security Center's path for Defender is this URI whatever the display language ("Bộ
# bảo vệ Microsoft Defender", "Windows-Defender", …); the names are for rows without it
_DEFENDER_PATH = "windowsdefender://"


def _is_defender(name: str, path: str = "") -> bool:
    return (path.lower().startswith(_DEFENDER_PATH)
            or any(n in name.lower() for n in _DEFENDER_NAMES))


def security_center_products(rows: list[dict[str, Any]]) -> list[AntivirusProduct]:
    out = []
    for r in rows:
        state = decode_product_state(int(r["productState"]))
        defender = _is_defender(str(r.get("displayName") or ""),
                                str(r.get("pathToSignedProductExe") or ""))
        out.append(AntivirusProduct(
            name=str(r.get("displayName") or "?"), running=state.running == "on",
            signatures_current=state.signatures_current,
            detail=("Microsoft Defender; " if defender else "")
            + f"Security Center: {state.running}, productState 0x{int(r['productState']):06X}"))
    return out


def apply_defender_status(products: list[AntivirusProduct], status: dict[str, Any] | None,
                          security_center: bool) -> list[AntivirusProduct]:
    """Defender's own view: passive mode is not protection, and must not count twice."""
    if status is None:
        return products
    mode = str(status.get("AMRunningMode") or "")
    rtp = status.get("RealTimeProtectionEnabled")
    if mode:  # Normal; Passive Mode / SxS Passive Mode / EDR Block Mode are not real-time AV
        active = mode == "Normal" and rtp is not False
    else:  # builds before AMRunningMode existed
        active = status.get("AntivirusEnabled") is True and rtp is True
    updated = parse_time(status.get("AntivirusSignatureLastUpdated"))
    detail = f"Defender: {mode or 'mode unknown'}, real-time protection " \
             f"{'on' if rtp else 'off' if rtp is False else 'unknown'}"
    out, seen = [], False
    for p in products:
        if _is_defender(p.name) or p.detail.startswith("Microsoft Defender; "):
            seen = True
            running = p.running and active
            out.append(AntivirusProduct(p.name, running, updated, p.signatures_current,
                                        f"{p.detail}; {detail}"))
        else:
            out.append(p)
    if not seen and (mode or not security_center):
        age = status.get("AntivirusSignatureAge")
        current = None if age is None else int(age) <= 7
        out.append(AntivirusProduct("Microsoft Defender Antivirus", active, updated,
                                    current if active else None, detail))
    return out


def service_products(rows: list[dict[str, Any]]) -> list[AntivirusProduct]:
    out = []
    for r in rows:
        name = str(r.get("Name") or "")
        for prefix, product in SERVICES:
            if name == prefix or (prefix == "AVP" and name.startswith("AVP")):
                status = enum_name(r.get("Status"), {1: "Stopped", 4: "Running"})
                out.append(AntivirusProduct(product, status == "Running",
                                            detail=f"service {name}: {status}"))
    return out


def summarize(products: list[AntivirusProduct]) -> AntivirusFacts:
    running = [p for p in products if p.running]
    if any(p.signatures_current is True for p in running):
        current: bool | None = True
    elif running and all(p.signatures_current is False for p in running):
        current = False
    else:
        current = None if running else False
    stamps = [p.signatures_updated_at for p in running if p.signatures_updated_at]
    return AntivirusFacts(products=products, any_running=bool(running), any_current=current,
                          signatures_updated_at=max(stamps, default=None))


def collect(ctx: Context) -> Observed:
    try:
        status: dict[str, Any] | None = source(ctx, "defender")[0]
    except (SourceFailed, IndexError):
        status = None
    try:
        products = security_center_products(source(ctx, "antivirus"))
    except SourceFailed as sc_error:
        # Windows Server: no Security Center. Defender's status and known services.
        try:
            found = service_products(source(ctx, "av_services"))
        except SourceFailed:
            found = []
        products = apply_defender_status(found, status, security_center=False)
        if not any(p.running for p in products):
            raise Unknown(f"no Security Center ({sc_error}) and no running antivirus among "
                          "Defender and the known services: another product may be present"
                          ) from None
        return Observed(summarize(products))
    return Observed(summarize(apply_defender_status(products, status, security_center=True)))
