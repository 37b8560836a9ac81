"""`yte audit ssh`, `yte audit send`, `yte deploy ssh`: options parsed here, the work done
by agent.remote.audit and agent.remote.deploy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click


def _inventory(path: str):
    from yte_compliance.agent.remote.inventory import load_inventory

    return load_inventory(path)


def _selected(inv, limit: tuple[str, ...]):
    try:
        return inv.select(limit)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def _passwords(hosts) -> dict[str, str]:
    """Passwords from the named environment variables, or one prompt for the hosts that
    ask for it. Never from the inventory."""
    out, prompted = {}, None
    for h in hosts:
        if h.password_env:
            value = os.environ.get(h.password_env)
            if value is None:
                raise click.ClickException(
                    f"{h.name}: biến môi trường / environment variable {h.password_env} "
                    f"is not set")
            out[h.name] = value
        elif h.password_prompt:
            if prompted is None:
                prompted = click.prompt("Mật khẩu SSH / SSH password", hide_input=True,
                                        err=True)
            out[h.name] = prompted
    return out


def _settings(inv, hosts, trust_on_first_use: bool, known_hosts: str | None):
    from yte_compliance.agent.remote.audit import Settings
    from yte_compliance.agent.remote.ssh import HostKeys

    keys = HostKeys(Path(known_hosts) if known_hosts else inv.known_hosts,
                    trust_on_first_use=trust_on_first_use)
    return Settings(keys, connect_timeout=inv.connect_timeout,
                    command_timeout=inv.command_timeout, passwords=_passwords(hosts))


def _common(f):
    for option in reversed([
        click.option("--inventory", "-i", type=click.Path(dir_okay=False, exists=True),
                     default="inventory.yaml", show_default=True, help="the inventory YAML"),
        click.option("--limit", "-l", multiple=True, metavar="GROUP|HOST",
                     help="only these hosts or groups (repeatable)"),
        click.option("--workers", "-w", type=click.IntRange(1, 64), default=8,
                     show_default=True, help="hosts worked on at once"),
        click.option("--known-hosts", type=click.Path(dir_okay=False),
                     help="known_hosts file (default: the inventory's, else ~/.ssh/known_hosts)"),
        click.option("--trust-on-first-use", is_flag=True,
                     help="accept a host's key the first time and record it in known_hosts "
                          "(a changed key is still refused)"),
    ]):
        f = option(f)
    return f


def _accepted(settings) -> None:
    for line in settings.keys.accepted:
        click.echo(f"đã ghi khoá máy / recorded host key: {line} → {settings.keys.path}",
                   err=True)


@click.group()
def audit() -> None:
    """Kiểm tra máy qua SSH / audit machines without an agent, over SSH."""


@audit.command("ssh")
@_common
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="also write each report as JSON into this folder")
@click.option("--collector", "collector_url", help="collector URL (default: the inventory's)")
@click.option("--no-send", is_flag=True, help="do not send to the collector")
@click.option("--unsent-dir", type=click.Path(file_okay=False), show_default=True,
              default=str(Path("~/.local/state/yte/audit-unsent")),
              help="reports the collector did not take wait here (`yte audit send`)")
def audit_ssh(inventory: str, limit: tuple[str, ...], workers: int, known_hosts: str | None,
              trust_on_first_use: bool, output: str | None, collector_url: str | None,
              no_send: bool, unsent_dir: str) -> None:
    """Chạy các đầu dò của tác tử trên từng máy qua SSH, song song / run the agent's probes
    on each host over SSH, in parallel, and send the reports (source: ssh)."""
    from yte_compliance.agent.remote.audit import audit_all, deliver, summary

    inv = _inventory(inventory)
    hosts = _selected(inv, limit)
    url = None if no_send else (collector_url or inv.collector_url)
    if url is None and output is None:
        raise click.UsageError("nowhere to put the reports: give --output, or a collector "
                               "(--collector or collector.url in the inventory)")
    settings = _settings(inv, hosts, trust_on_first_use, known_hosts)
    with click.progressbar(length=len(hosts), label="Kiểm tra / auditing", file=sys.stderr,
                           show_pos=True) as bar:
        outcomes = audit_all(hosts, settings, workers=workers, on_done=lambda o: bar.update(1))
    _accepted(settings)
    deliver(outcomes, url=url, tokens_dir=inv.tokens_dir, ca_file=inv.ca_file,
            output=Path(output) if output else None,
            unsent_dir=Path(unsent_dir).expanduser())
    click.echo(summary(outcomes))
    sys.exit(1 if any(not o.ok for o in outcomes) else 0)


@audit.command("send")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--inventory", "-i", type=click.Path(dir_okay=False, exists=True),
              default="inventory.yaml", show_default=True)
def audit_send(folder: str, inventory: str) -> None:
    """Gửi lại báo cáo chưa gửi được / send reports kept by an earlier audit."""
    from yte_compliance.agent.remote.audit import send_kept

    inv = _inventory(inventory)
    if inv.collector_url is None or inv.tokens_dir is None:
        raise click.ClickException("the inventory needs collector.url and collector.tokens_dir")
    results = send_kept(Path(folder), url=inv.collector_url, tokens_dir=inv.tokens_dir,
                        ca_file=inv.ca_file)
    for name, why in results:
        if why is None:
            click.echo(f"đã gửi / sent {name}")
        else:
            click.echo(f"chưa gửi / not sent {name}: {why}", err=True)
    sys.exit(1 if any(why for _, why in results) else 0)


@click.group()
def deploy() -> None:
    """Cài tác tử qua SSH / install the agent over SSH."""


@deploy.command("ssh")
@_common
@click.option("--dry-run", is_flag=True, help="print the plan for each host, change nothing")
@click.option("--collector", "collector_url", help="collector URL (default: the inventory's)")
@click.option("--wheel", type=click.Path(dir_okay=False, exists=True),
              help="the yte-compliance wheel to install (default: built from this checkout)")
@click.option("--windows-exe", type=click.Path(dir_okay=False, exists=True),
              help="the frozen agent yte.exe for Windows hosts (docs/deploy-windows.md)")
@click.option("--root", default="/", hidden=True, help="install under this folder (tests)")
def deploy_ssh(inventory: str, limit: tuple[str, ...], workers: int, known_hosts: str | None,
               trust_on_first_use: bool, dry_run: bool, collector_url: str | None,
               wheel: str | None, windows_exe: str | None, root: str) -> None:
    """Cài tác tử, cấu hình, token và dịch vụ; gửi một báo cáo / install the agent (its own
    venv), config, token and service, then send one report. Running it again changes
    nothing."""
    from yte_compliance.agent.remote.deploy import Layout, Options, deploy_all, summary

    inv = _inventory(inventory)
    hosts = _selected(inv, limit)
    url = collector_url or inv.collector_url
    if url is None or inv.tokens_dir is None:
        raise click.UsageError("deploy needs a collector (--collector or collector.url) and "
                               "collector.tokens_dir in the inventory")
    settings = _settings(inv, hosts, trust_on_first_use, known_hosts)
    options = Options(collector_url=url, tokens_dir=inv.tokens_dir, ca_file=inv.ca_file,
                      wheel=Path(wheel) if wheel else None, dry_run=dry_run,
                      windows_exe=Path(windows_exe) if windows_exe else None,
                      layout=Layout.under(root))
    with click.progressbar(length=len(hosts), label="Cài đặt / deploying", file=sys.stderr,
                           show_pos=True) as bar:
        outcomes = deploy_all(hosts, settings, options, workers=workers,
                              on_done=lambda o: bar.update(1))
    _accepted(settings)
    click.echo(summary(outcomes))
    sys.exit(1 if any(o.error for o in outcomes) else 0)
