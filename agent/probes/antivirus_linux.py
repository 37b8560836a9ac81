"""Antivirus on Linux: known products found by install path and running process.

No product found is *absent* (any_running = False), not unknown: the process table and
the file system are readable by every account.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yte_compliance.agent.probe import Context, Observed
from yte_compliance.core.report import AntivirusFacts, AntivirusProduct


@dataclass(frozen=True)
class Product:
    name: str
    paths: tuple[str, ...]  # any existing → installed
    processes: tuple[str, ...] = ()  # process names (comm, ≤15 chars) meaning 'running'
    path_prefixes: tuple[str, ...] = ()  # or an executable under these folders
    signatures: tuple[str, ...] = ()  # files whose newest mtime is the signature date


# From each vendor's Linux documentation; a product missing here is reported by nobody,
# so add rows, not code.
PRODUCTS: tuple[Product, ...] = (
    Product("ClamAV", ("/usr/sbin/clamd", "/usr/bin/clamscan"), ("clamd", "clamonacc"),
            signatures=("/var/lib/clamav/daily.cld", "/var/lib/clamav/daily.cvd")),
    Product("ESET Endpoint/Server Security", ("/opt/eset/efs", "/opt/eset/esets"),
            ("esets_daemon",), ("/opt/eset/",)),
    Product("Kaspersky Endpoint Security", ("/opt/kaspersky/kesl",), ("kesl",),
            ("/opt/kaspersky/kesl/",)),
    Product("Sophos Protection for Linux", ("/opt/sophos-spl", "/opt/sophos-av"),
            ("sophos_threat_d", "savd"), ("/opt/sophos-spl/", "/opt/sophos-av/")),
    Product("Trend Micro Deep Security", ("/opt/ds_agent",), ("ds_agent",), ("/opt/ds_agent/",)),
    Product("Symantec Endpoint Protection", ("/opt/Symantec/symantec_antivirus",),
            ("rtvscand", "symcfgd"), ("/opt/Symantec/",)),
    Product("Microsoft Defender for Endpoint", ("/opt/microsoft/mdatp",), ("wdavdaemon",),
            ("/opt/microsoft/mdatp/",)),
    Product("Trellix Endpoint Security", ("/opt/McAfee/ens",), ("mfetpd",), ("/opt/McAfee/",)),
    Product("CrowdStrike Falcon", ("/opt/CrowdStrike",), ("falcon-sensor",), ("/opt/CrowdStrike/",)),
    Product("Bkav", ("/opt/bkav", "/usr/lib/bkav"), ("bkav", "bkavd"), ("/opt/bkav/",)),
)


@dataclass(frozen=True)
class Process:
    name: str  # /proc/PID/comm
    exe: str  # first word of /proc/PID/cmdline


def read_processes(proc: Path) -> list[Process]:
    out = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text(errors="replace").strip()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        except OSError:
            continue  # the process ended while we looked
        out.append(Process(comm, cmdline))
    return out


def match_products(processes: list[Process], existing: set[str],
                   mtimes: dict[str, float]) -> AntivirusFacts:
    """Pure: which catalogued products are present and running."""
    found = []
    for p in PRODUCTS:
        running = any(pr.name in p.processes or pr.exe.startswith(p.path_prefixes or ("\0",))
                      for pr in processes)
        installed = any(path in existing for path in p.paths)
        if not (installed or running):
            continue
        sig = max((mtimes[s] for s in p.signatures if s in mtimes), default=None)
        found.append(AntivirusProduct(name=p.name, running=running, signatures_updated_at=sig))
    running_sigs = [f.signatures_updated_at for f in found if f.running and f.signatures_updated_at]
    return AntivirusFacts(products=found, any_running=any(f.running for f in found),
                          signatures_updated_at=max(running_sigs, default=None))


def collect(ctx: Context) -> Observed:
    processes = read_processes(ctx.path("/proc"))
    existing = {p for prod in PRODUCTS for p in prod.paths if ctx.path(p).exists()}
    mtimes = {}
    for prod in PRODUCTS:
        for s in prod.signatures:
            try:
                mtimes[s] = ctx.path(s).stat().st_mtime
            except OSError:
                pass
    return Observed(match_products(processes, existing, mtimes))
