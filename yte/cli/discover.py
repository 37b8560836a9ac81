"""`yte discover`: sweep the site's LAN (the subnets the collector lists for the site)
and send what answered to the collector, or write it to a file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from yte_compliance.cli import options


@click.command()
@options.agent_config
@click.option("--interface", "-i", help="the LAN interface (default: the route's)")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="ARP requests per second, at the most")
@click.option("--timeout", type=float, default=120.0, show_default=True,
              help="the whole sweep stops by then (seconds)")
@click.option("--out", type=click.Path(dir_okay=False), help="write here instead of sending")
def discover(config: str, interface: str | None, rate: float, timeout: float,
             out: str | None) -> None:
    """Quét mạng nội bộ của cơ sở / find the devices on the site's LAN."""
    from yte_compliance.agent import service
    from yte_compliance.agent.discover import discover_once

    cfg = service.load(config)
    result = discover_once(cfg, interface=interface, rate=rate, timeout=timeout,
                           out=Path(out) if out else None)
    click.echo(f"{len(result['devices'])} thiết bị / devices in {result['seconds']} s "
               f"({', '.join(result['subnets'])})", err=True)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    click.echo()
