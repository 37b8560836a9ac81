"""The fleet as it stood at a past moment, from the report history: what the year-end
report reads (`--as-of`), judged with the live evaluation."""

from __future__ import annotations

import datetime as dt
import json

from yte_compliance.checks.policy import Policy
from yte_compliance.checks.targets import Target, in_force
from yte_compliance.collector.derive import host_row
from yte_compliance.collector.sites import Site
from yte_compliance.collector.state import SiteView, evaluate_view
from yte_compliance.collector.store import HostRow, Measurement, SeenDevice, Store
from yte_compliance.core.report import parse_report


def views_as_of(store: Store, sites: dict[str, Site], targets: dict[str, Target],
                policy: Policy, as_of: float, *, stale_after: float,
                forget_after: float, bandwidth_window: float,
                device_window: float = 7 * 86400) -> dict[str, SiteView]:
    """Each site judged at ``as_of`` with the targets in force that day. A device counts
    when discovery had seen it by then and still saw it within the window before."""
    rows: dict[str, list[HostRow]] = {s: [] for s in sites}
    for site, received_at, body in store.reports_as_of(as_of):
        if site not in sites:
            continue
        r = parse_report(json.loads(body))
        rows[site].append(host_row(r, site, received_at, sites[site].ipv6_prefixes))
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
