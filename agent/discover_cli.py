"""`yte discover`: sweep the site's LAN (the subnets the collector lists for the site)
and send what answered to the collector, or write it to a file."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click


def _collector(cfg, method: str, path: str, body: dict | None = None) -> dict:
    from yte_compliance.agent.send import call_collector, read_token
    from yte_compliance.agent.spool import SendError

    try:
        return call_collector(cfg.collector_url, read_token(cfg.token_file), method, path, body,
                              ca_file=str(cfg.ca_file) if cfg.ca_file else None)
    except SendError as e:
        raise click.ClickException(str(e)) from None


def discover_once(cfg, *, interface: str | None, rate: float, timeout: float,
                  out: Path | None) -> dict:
    from yte_compliance.agent.discover import Bounds, as_json, sweep
    from yte_compliance.core.report import format_time

    subnets = _collector(cfg, "GET", "/api/v1/discovery/subnets")["subnets"]
    if not subnets:
        raise click.ClickException(f"site {cfg.site} lists no subnets in the collector's "
                                   "sites file: nothing to sweep")
    devices, seconds = sweep(subnets, interface, Bounds(rate, timeout))
    result = {"site": cfg.site, "scanned_at": format_time(time.time()), "subnets": subnets,
              "seconds": round(seconds, 2), "devices": as_json(devices)}
    if out is not None:
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        result["collector"] = _collector(cfg, "POST", "/api/v1/discoveries", result)
    return result


@click.command()
@click.option("--config", "-c", type=click.Path(dir_okay=False), required=True,
              help="the scanner agent's YAML (its site, collector and token)")
@click.option("--interface", "-i", help="the LAN interface (default: the route's)")
@click.option("--rate", type=float, default=50.0, show_default=True,
              help="ARP requests per second, at the most")
@click.option("--timeout", type=float, default=120.0, show_default=True,
              help="the whole sweep stops by then (seconds)")
@click.option("--out", type=click.Path(dir_okay=False), help="write here instead of sending")
def discover(config: str, interface: str | None, rate: float, timeout: float,
             out: str | None) -> None:
    """Quét mạng nội bộ của cơ sở / find the devices on the site's LAN."""
    from yte_compliance.agent.cli import _load

    cfg = _load(config)
    result = discover_once(cfg, interface=interface, rate=rate, timeout=timeout,
                           out=Path(out) if out else None)
    click.echo(f"{len(result['devices'])} thiết bị / devices in {result['seconds']} s "
               f"({', '.join(result['subnets'])})", err=True)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    click.echo()
