"""`yte package windows`: one site's MSI for its Windows PCs (yte_compliance.apps.package)."""

from __future__ import annotations

from pathlib import Path

import click

from yte_compliance.core.errors import UsageError


@click.group()
def package() -> None:
    """Gói cài đặt cho máy trạm / installer packages for the PCs."""


@package.command()
@click.option("--site", required=True, help="the site id (sites file)")
@click.option("--collector", "collector_url", required=True,
              help="the collector's https:// URL as the PCs reach it")
@click.option("--ca", "ca_file", type=click.Path(exists=True, dir_okay=False),
              help="the collector's CA certificate (PEM), when it is a private one")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False),
              help="the collector's YAML: a new enrollment secret for the site is created "
                   "in its database and put in the package")
@click.option("--enrollment-secret-file", type=click.Path(exists=True, dir_okay=False),
              help="or: a secret made with `yte collector enrollment add SITE`")
@click.option("--out", type=click.Path(dir_okay=False),
              help="default: yte-agent-SITE.msi")
def windows(site: str, collector_url: str, ca_file: str | None, config_path: str | None,
            enrollment_secret_file: str | None, out: str | None) -> None:
    """Gói MSI của một cơ sở / one site's MSI: msiexec /i FILE /qn, or Group Policy.

    It carries the site's enrollment secret: each PC enrolls for a key of its own on its
    first run. Keep the file as you would the secret."""
    from yte_compliance.apps.package import WindowsPackage, build_msi

    if (config_path is None) == (enrollment_secret_file is None):
        raise UsageError("cần đúng một / give exactly one of --config (a new enrollment "
                         "secret) or --enrollment-secret-file")
    if enrollment_secret_file:
        secret = Path(enrollment_secret_file).read_text().strip()
    else:
        secret = _new_secret(str(config_path), site)
    spec = WindowsPackage(site, collector_url, secret,
                          Path(ca_file).read_bytes() if ca_file else None)
    path = build_msi(spec, Path(out or f"yte-agent-{site}.msi"))
    click.echo(f"{path}: {site} → {collector_url} ({path.stat().st_size:,} bytes)")
    click.echo(f"  cài / install: msiexec /i {path.name} /qn     gỡ / remove: msiexec /x "
               f"{path.name} /qn")


def _new_secret(config_path: str, site: str) -> str:
    import datetime as dt

    from yte_compliance.collector.config import load_collector_config
    from yte_compliance.collector.sites import load_sites
    from yte_compliance.collector.store import Store
    from yte_compliance.collector.tokens import new_token

    cfg = load_collector_config(config_path)
    if site not in load_sites(cfg.sites_file):
        raise UsageError(f"không có cơ sở / no site {site!r} in {cfg.sites_file}")
    cfg.database.parent.mkdir(parents=True, exist_ok=True)
    store = Store(cfg.database)
    try:
        plain, stored = new_token()
        store.add_enrollment(site, f"package {dt.date.today().isoformat()}", stored)
    finally:
        store.close()
    click.echo(f"mã đăng ký mới / new enrollment secret {stored.token_id} for {site} "
               "(yte collector enrollment list)", err=True)
    return plain
