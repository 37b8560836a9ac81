"""`yte collector …`: serve, check the configuration, manage site tokens."""

from __future__ import annotations

import click

from collector.config import CollectorConfig, load_collector_config
from yte.yamlconf import ConfigError

config_option = click.option("--config", "-c", "config_path", required=True,
                             type=click.Path(dir_okay=False), help="collector YAML file")


def _config(path: str) -> CollectorConfig:
    try:
        return load_collector_config(path)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None


def _app(cfg: CollectorConfig):
    from collector.app import build_app

    try:
        return build_app(cfg)
    except ConfigError as e:
        raise click.ClickException(f"cấu hình sai, không khởi động / bad configuration, "
                                   f"not starting: {e}") from None


@click.group()
def collector() -> None:
    """Máy thu thập / the collector."""


@collector.command()
@config_option
@click.option("--listen", help="HOST:PORT, overrides the file")
def serve(config_path: str, listen: str | None) -> None:
    """Nhận báo cáo, phục vụ API và /metrics / receive reports, serve the API and /metrics."""
    import dataclasses

    from collector.server import make_server

    cfg = _config(config_path)
    if listen:
        host, _, port = listen.rpartition(":")
        cfg = dataclasses.replace(cfg, host=host.strip("[]"), port=int(port))
    app = _app(cfg)
    if cfg.tls_cert_file is None and cfg.host not in ("127.0.0.1", "::1", "localhost"):
        click.echo("cảnh báo / warning: plain HTTP on a non-loopback address; configure tls "
                   "so site tokens do not cross the network in clear", err=True)
    scheme = "https" if cfg.tls_cert_file else "http"
    click.echo(f"yte collector: {scheme}://{cfg.host}:{cfg.port}/", err=True)
    make_server(app, cfg, log_level="info").run()


@collector.command()
@config_option
def check(config_path: str) -> None:
    """Kiểm tra cấu hình / validate every configuration file, then exit."""
    from checks.declarations import SITE_FACTS, load_declarations
    from checks.targets import load_targets
    from collector.sites import load_sites
    from yte.report import fact_names

    cfg = _config(config_path)
    try:
        sites = load_sites(cfg.sites_file)
        targets = load_targets(cfg.targets_files,
                               known_facts={"host": fact_names(), "site": SITE_FACTS})
        load_declarations(cfg.declarations_file, set(sites))
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"OK: {len(sites)} sites, {len(targets)} targets")


@collector.group()
def token() -> None:
    """Mã xác thực của cơ sở / site tokens."""


@token.command("add")
@config_option
@click.argument("site")
def token_add(config_path: str, site: str) -> None:
    """Tạo mã mới cho SITE, in ra một lần / create a token for SITE, printed once."""
    from collector.sites import load_sites
    from collector.store import Store
    from collector.tokens import new_token

    cfg = _config(config_path)
    try:
        sites = load_sites(cfg.sites_file)
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    if site not in sites:
        raise click.UsageError(f"không có cơ sở / no site {site!r} in {cfg.sites_file}")
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.database)
    plain, stored = new_token()
    store.add_token(site, stored)
    store.close()
    click.echo(plain)
    click.echo(f"(chỉ hiển thị một lần; lưu dạng băm / shown once; stored hashed as id "
               f"{stored.token_id})", err=True)
