"""Whether the Windows 7 script can send at all: TLS 1.2 from PowerShell 2.0 needs .NET
3.5.1's TLS update (KB3154518) with SystemDefaultTlsVersions set, and SChannel's TLS 1.2
client switched on. collect-ps2.ps1 tries it and says what is missing (its `transport`
source); a batch carries it once the PC can send, and its log says so meanwhile."""

from __future__ import annotations

from typing import Any

from yte_compliance.agent.probe import Context, Observed, Unknown
from yte_compliance.agent.probes.windows import SourceFailed, source
from yte_compliance.core.report import TransportFacts


def parse_transport(row: dict[str, Any]) -> TransportFacts:
    tls12 = row.get("Tls12")
    missing = row.get("Missing") or []
    return TransportFacts(
        tls12=tls12 if isinstance(tls12, bool) else None,
        client=str(row["Client"]) if row.get("Client") else None,
        missing=[str(m) for m in (missing if isinstance(missing, list) else [missing])])


def collect(ctx: Context) -> Observed:
    try:
        rows = source(ctx, "transport")
    except SourceFailed as e:
        raise Unknown(str(e)) from None
    if not rows:
        raise Unknown("transport: no row")
    facts = parse_transport(rows[0])
    unknown = {} if facts.tls12 is not None else {"tls12": str(rows[0].get("Error") or "?")}
    return Observed(facts, unknown)
