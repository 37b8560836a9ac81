"""The fleet as it stood at a past moment, from the report history: what the year-end
report reads (`--as-of`), judged with the live evaluation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from yte_compliance.checks.policy import Policy
from yte_compliance.checks.targets import Target, in_force
from yte_compliance.collector.derive import derive, host_row
from yte_compliance.collector.sites import Site
from yte_compliance.collector.state import SiteView, evaluate_view
from yte_compliance.collector.store import (
    HostRow,
    Incoming,
    Measurement,
    SeenDevice,
    Store,
    StoredReport,
)
from yte_compliance.core.report import parse_report


def row_of(r: StoredReport, ipv6_prefixes: tuple[str, ...]) -> HostRow:
    """The host's state as that report gave it: what ingest stored, derived again."""
    state = r.state
    notes = (state["probes"].get("ipv6") or {}).get("notes")
    return HostRow(host_id=r.host_id, site=r.site, hostname=state["hostname"],
                   platform=state["platform"], agent_version=state["agent_version"],
                   source=state["source"], report_id=r.report_id,
                   collected_at=r.collected_at, received_at=r.received_at,
                   facts=derive(state["facts"], ipv6_prefixes, notes), probes=state["probes"])


def migrate_v1(store: Store, say: Callable[[str], None] = lambda _: None) -> int:
    """Convert a store of the first layout (every body in `reports`) to the log and
    states, then drop the old table; the number of reports converted."""
    done = 0
    for batch in store.legacy_reports():
        items = []
        for site, received_at, sha, body in batch:
            report = parse_report(json.loads(body))
            items.append(Incoming(host_row(report, site, received_at, ()), body, sha))
        results = store.ingest_batch(items, history_only=True)
        bad = [r for r in results if isinstance(r, Exception)]
        if bad:
            raise bad[0]
        done += len(items)
        say(f"đã chuyển / converted {done} reports")
    if done:
        store.drop_legacy_reports()
    return done


def views_as_of(store: Store, sites: dict[str, Site], targets: dict[str, Target],
                policy: Policy, as_of: float, *, stale_after: float,
                forget_after: float, bandwidth_window: float,
                device_window: float = 7 * 86400) -> dict[str, SiteView]:
    """Each site judged at ``as_of`` with the targets in force that day. A device counts
    when discovery had seen it by then and still saw it within the window before."""
    rows: dict[str, list[HostRow]] = {s: [] for s in sites}
    for r in store.states_as_of(as_of):
        if r.site in sites:
            rows[r.site].append(row_of(r, sites[r.site].ipv6_prefixes))
    window: dict[str, list[Measurement]] = {s: [] for s in sites}
    for m in store.measurements_between(as_of - bandwidth_window, as_of):
        if m.site in window:
            window[m.site].append(m)
    devices: dict[str, list[SeenDevice]] = {s: [] for s in sites}
    for d in store.devices():
        if d.site in devices and d.first_seen <= as_of and d.last_seen >= as_of - device_window:
            devices[d.site].append(d)
    active = in_force(targets, dt.date.fromtimestamp(as_of))
    return {sid: evaluate_view(site, rows[sid], window[sid], active, policy, now=as_of,
                               stale_after=stale_after, forget_after=forget_after,
                               devices=devices[sid])
            for sid, site in sites.items()}
