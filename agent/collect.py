"""One collection: run every enabled probe, assemble a Report."""

from __future__ import annotations

import socket
import uuid

from yte_compliance import __version__
from yte_compliance.agent.probe import Context, run_probe
from yte_compliance.agent.probes import OPT_IN, probes_for
from yte_compliance.core.report import Report


def collect_report(ctx: Context, *, platform: str, site: str, host_id: str,
                   hostname: str | None = None, disabled: frozenset[str] = frozenset(),
                   enabled: frozenset[str] = frozenset(), source: str = "agent") -> Report:
    """Every probe of the platform but the disabled ones; opt-in probes only if enabled."""
    skip = disabled | (OPT_IN - enabled)
    results = {name: run_probe(fn, ctx)
               for name, fn in probes_for(platform).items() if name not in skip}
    return Report(
        report_id=str(uuid.uuid4()),
        host_id=host_id,
        hostname=hostname or socket.gethostname(),
        site=site,
        agent_version=__version__,
        platform=platform,
        collected_at=ctx.now(),
        probes=results,
        source=source,
    )
