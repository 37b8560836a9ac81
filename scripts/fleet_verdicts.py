"""The verdicts of a small test fleet, as the year-end report gives them (JSON on stdout):
run it with two installations to list the verdicts a change moved.

    python scripts/fleet_verdicts.py > after.json
    PYTHONPATH=OLD python scripts/fleet_verdicts.py > before.json  # another release's files
    python scripts/fleet_verdicts.py --compare before.json after.json

The fleet: a hospital with two good workstations, three HIS/PACS servers on HDD, a
Windows 7 PACS console (waived where waivers exist) and a PC seen on the LAN without an
agent; a commune station on 3G with two old Windows 10 22H2 PCs. Features a release
lacks (roles, waivers) are left out of what it is given."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import tempfile
import uuid
from pathlib import Path

from yte_compliance.apps.yearend import generate
from yte_compliance.collector.derive import host_row
from yte_compliance.collector.store import Store
from yte_compliance.core.report import (
    AntivirusFacts,
    BandwidthFacts,
    FirewallFacts,
    HardwareFacts,
    ProbeResult,
    Report,
)

AS_OF = dt.date(2026, 11, 30)
GiB = 1 << 30
HAS_ROLES = "system_role" in {f.name for f in dataclasses.fields(HardwareFacts)}
try:
    import yte_compliance.checks.waivers  # noqa: F401

    HAS_WAIVERS = True
except ImportError:
    HAS_WAIVERS = False

SITES = """version: 1
sites:
  - {id: bv, name: Bệnh viện tỉnh, type: hospital, province: P, district: D,
     subnets: [198.18.1.0/24]}
  - {id: tyt, name: Trạm Y tế xã Ia Đal (3G), type: commune_station, province: P, district: D}
"""
WAIVERS = """version: 1
waivers:
  - {site: bv, host: pacs-console, check: pc.os_supported, reason: PACS gắn với Windows 7,
     approved_by: Giám đốc BV, decision: CV 45/BV-CNTT, granted: 2026-03-01, expires: 2027-06-30}
"""


def report(site: str, name: str, at: float, *, ram: int, media: str, os_name: str, build: str,
           role: str | None = None, bandwidth: float | None = None) -> Report:
    hw = {"memory_installed_bytes": ram, "memory_installed_source": "smbios",
          "os_family": "windows", "os_name": os_name, "os_build": build, "os_disk_media": media}
    if HAS_ROLES and role:
        hw.update(system_role=role, system_role_source="ProductType")
    probes = {"hardware": ProbeResult("ok", HardwareFacts(**hw)),
              "firewall": ProbeResult("ok", FirewallFacts(inbound_filtering=True)),
              "antivirus": ProbeResult("ok", AntivirusFacts(any_running=True))}
    if bandwidth is not None:
        probes["bandwidth"] = ProbeResult("ok", BandwidthFacts(
            download_bps=bandwidth, upload_bps=bandwidth / 4, latency_ms=180.0, jitter_ms=40.0,
            server="collector", streams=1, bytes_down=int(bandwidth), bytes_up=int(bandwidth / 4),
            duration_seconds=8.0))
    return Report(report_id=str(uuid.uuid4()), host_id=f"{site}-{name}", hostname=name, site=site,
                  agent_version="0.1.0", platform="windows", collected_at=at, probes=probes)


def fleet(at: float) -> list[Report]:
    good = {"ram": 16 * GiB, "media": "ssd", "os_name": "Windows 11 Enterprise", "build": "26100"}
    server = {"ram": 32 * GiB, "media": "hdd", "os_name": "Windows Server 2019 Standard",
              "build": "17763", "role": "server"}
    station = {"ram": 4 * GiB, "media": "hdd", "os_name": "Windows 10 Pro", "build": "19045"}
    return [report("bv", "ws-1", at, **good), report("bv", "ws-2", at, **good),
            *(report("bv", f"his-{i}", at, **server) for i in (1, 2, 3)),
            report("bv", "pacs-console", at, ram=8 * GiB, media="ssd",
                   os_name="Windows 7 Professional", build="7601"),
            report("tyt", "pc-1", at, **station, bandwidth=3e6),
            report("tyt", "pc-2", at, **station)]


def compare(before: dict, after: dict) -> None:
    """One line per verdict that moved: scope (summary or site), check, before → after."""
    for scope in after:
        for check in sorted(set(before.get(scope, {})) | set(after[scope])):
            old = before.get(scope, {}).get(check, "— (chưa có / absent)")
            new = after[scope].get(check, "— (không áp dụng / not applicable)")
            if old != new:
                print(f"{scope:8} {check:26} {old}  →  {new}")


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        compare(*(json.loads(Path(p).read_text(encoding="utf-8")) for p in sys.argv[2:4]))
        return
    at = dt.datetime.combine(AS_OF, dt.time(8)).timestamp()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "sites.yaml").write_text(SITES, encoding="utf-8")
        config = "database: c.db\nsites_file: sites.yaml\nallow_plain_http: true\n"
        if HAS_WAIVERS:
            (folder / "waivers.yaml").write_text(WAIVERS, encoding="utf-8")
            config += "waivers_file: waivers.yaml\n"
        (folder / "collector.yaml").write_text(config, encoding="utf-8")
        store = Store(folder / "c.db")
        for r in fleet(at):
            store.ingest(host_row(r, r.site, at, ()), json.dumps(r.to_json_obj()))
        store.record_devices("bv", [("02:00:00:00:00:77", "198.18.1.77", None)], at)
        store.close()
        year = generate(folder / "collector.yaml", AS_OF.year, as_of=AS_OF)
    out = {"summary": {r.check: f"{r.verdict} ({r.achieved})" for r in year.summary}}
    for s in year.sites:
        out[s.id] = {r.check: f"{r.verdict} ({r.achieved})" for r in s.rows}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
