"""`yte collector …`: serve, check the configuration, manage site tokens, viewers and
hosts. Parsing and printing only; errors are mapped to messages in yte_compliance.cli."""

from __future__ import annotations

import click

from yte_compliance.cli.options import collector_config as config_option
from yte_compliance.collector.config import CollectorConfig, load_collector_config
from yte_compliance.core.errors import UsageError, YteError
from yte_compliance.core.yamlconf import ConfigError


@click.group()
def collector() -> None:
    """Máy thu thập / the collector."""


@collector.command()
@config_option
@click.option("--listen", help="HOST:PORT, overrides the file")
def serve(config_path: str, listen: str | None) -> None:
    """Nhận báo cáo, phục vụ API và /metrics / receive reports, serve the API and /metrics."""
    import dataclasses

    from yte_compliance.apps.serve import collector_app
    from yte_compliance.collector.server import make_server

    cfg = load_collector_config(config_path)
    if listen:
        from yte_compliance.collector.config import parse_listen

        parsed = parse_listen(listen)
        if parsed is None:
            raise click.BadParameter(f"HOST:PORT or [V6]:PORT (got {listen!r})", param_hint="--listen")
        cfg = dataclasses.replace(cfg, host=parsed[0], port=parsed[1], listen=(parsed,))
    _say_if_new(cfg)
    try:
        app = collector_app(cfg)
    except ConfigError as e:
        raise YteError(f"cấu hình sai, không khởi động / bad configuration, not starting: "
                       f"{e}") from None
    addresses = cfg.listen or ((cfg.host, cfg.port),)
    if cfg.tls_cert_file is None and any(h not in ("127.0.0.1", "::1", "localhost")
                                         for h, _ in addresses):
        click.echo("cảnh báo / warning: plain HTTP on a non-loopback address; configure tls "
                   "so site tokens do not cross the network in clear", err=True)
    scheme = "https" if cfg.tls_cert_file else "http"
    for host, port in addresses:
        shown = f"[{host}]" if ":" in host else host
        both = " (IPv4 và IPv6 / IPv4 and IPv6)" if host in ("::", "") else ""
        click.echo(f"yte collector: {scheme}://{shown}:{port}/{both}", err=True)
    make_server(app, cfg, log_level="info").run()


@collector.command()
@config_option
def check(config_path: str) -> None:
    """Kiểm tra cấu hình / validate every configuration file, then exit."""
    import datetime as dt

    from yte_compliance.collector.world import load_world

    world = load_world(load_collector_config(config_path))
    waivers = world.policy.waivers
    today = dt.date.today()
    click.echo(f"OK: {len(world.sites)} sites, {len(world.targets)} targets, "
               f"{len(waivers.entries)} waivers ({len(waivers.in_force(today))} in force)")
    for w in waivers.entries:
        if w.expires < today:
            click.echo(f"miễn trừ đã hết hạn / expired waiver: {w.site} {w.check} "
                       f"{w.host or ''} ({w.expires.isoformat()})".replace("  ", " "))


@collector.group()
def token() -> None:
    """Mã xác thực của cơ sở / site tokens."""


def _store(cfg: CollectorConfig, site: str | None = None, *, create: bool = False):
    """The collector's database. Only commands that write a first token (and serve)
    may create it, and they say so; the others refuse a path where there is none."""
    from yte_compliance.collector.config import existing_database
    from yte_compliance.collector.sites import load_sites
    from yte_compliance.collector.store import Store

    sites = load_sites(cfg.sites_file)
    if not create:
        existing_database(cfg)
    if site is not None and site not in sites:
        raise UsageError(f"không có cơ sở / no site {site!r} in {cfg.sites_file}")
    _say_if_new(cfg)
    return Store(cfg.database)


def _say_if_new(cfg: CollectorConfig) -> None:
    if not cfg.database.exists():
        cfg.database.parent.mkdir(parents=True, exist_ok=True)
        click.echo(f"tạo cơ sở dữ liệu mới / creating a new database: {cfg.database}", err=True)


def _new_token(store, site: str) -> str:
    from yte_compliance.collector.tokens import new_token

    plain, stored = new_token()
    store.add_token(site, stored)
    click.echo(plain)
    click.echo(f"(chỉ hiển thị một lần; lưu dạng băm / shown once; stored hashed as id "
               f"{stored.token_id})", err=True)
    return stored.token_id


@token.command("add")
@config_option
@click.argument("site")
def token_add(config_path: str, site: str) -> None:
    """Tạo mã mới cho SITE, in ra một lần / create a token for SITE, printed once."""
    store = _store(load_collector_config(config_path), site, create=True)
    _new_token(store, site)
    store.close()


@token.command("rotate")
@config_option
@click.argument("site")
@click.option("--grace-hours", default=24.0, show_default=True,
              help="the site's other tokens keep working this long, then expire")
def token_rotate(config_path: str, site: str, grace_hours: float) -> None:
    """Mã mới; mã cũ hết hạn sau thời gian chuyển tiếp / new token, old ones expire."""
    import time

    store = _store(load_collector_config(config_path), site)
    new_id = _new_token(store, site)
    n = store.expire_site_tokens(site, time.time() + grace_hours * 3600, keep=new_id)
    store.close()
    click.echo(f"{n} mã cũ hết hạn sau {grace_hours:g} giờ / {n} old token(s) expire in "
               f"{grace_hours:g} h", err=True)


@token.command("revoke")
@config_option
@click.argument("token_id")
def token_revoke(config_path: str, token_id: str) -> None:
    """Thu hồi ngay / revoke a token at once, by its id (see `token list`)."""
    _revoke(config_path, token_id, "revoke_token",
            "không có mã đang hiệu lực / no active token")


def _revoke(config_path: str, token_id: str, method: str, missing: str) -> None:
    """Site tokens and viewers alike: refused on the next request (checked every time)."""
    store = _store(load_collector_config(config_path))
    try:
        done = getattr(store, method)(token_id)
    finally:
        store.close()
    if not done:
        raise YteError(f"{missing} {token_id!r}")
    click.echo(f"đã thu hồi / revoked {token_id}")


@token.command("list")
@config_option
@click.argument("site", required=False)
def token_list(config_path: str, site: str | None) -> None:
    """Danh sách mã (không bao giờ hiện bí mật) / list tokens, never their secrets."""
    import datetime as dt
    import time

    def when(ts: float | None) -> str:
        return "—" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")

    store = _store(load_collector_config(config_path), site)
    now = time.time()
    click.echo(f"{'id':<14}{'site':<22}{'created':<18}{'expires':<18}{'state'}")
    for t in store.tokens(site):
        state = ("revoked" if t.revoked_at else "expired" if not t.valid(now) else "active")
        click.echo(f"{t.token.token_id:<14}{t.site:<22}{when(t.created_at):<18}"
                   f"{when(t.expires_at):<18}{state}")
    store.close()


@collector.group()
def host() -> None:
    """Máy trong cơ sở / hosts of a site."""


@host.command("move")
@config_option
@click.argument("host_id")
@click.argument("site")
def host_move(config_path: str, host_id: str, site: str) -> None:
    """Chuyển máy HOST_ID sang cơ sở SITE / move a PC to another site (logged).

    A host stays in the site that enrolled it: a report for it from another site's token
    is refused (403). When a PC really moves, an operator says so here."""
    from yte_compliance.collector import log

    store = _store(load_collector_config(config_path), site)
    try:
        before = store.move_host(host_id, site)
    finally:
        store.close()
    if before is None:
        raise YteError(f"không có máy / no host {host_id!r}")
    log.setup()
    log.event("host_moved", host=host_id, from_site=before, to_site=site)
    click.echo(f"đã chuyển / moved {host_id}: {before} → {site}")


@collector.group()
def viewer() -> None:
    """Mã xem của người đọc / viewer tokens: who may read what (stored hashed)."""


@viewer.command("add")
@config_option
@click.argument("name")
@click.option("--scope", "scope_text", default="province", show_default=True,
              help="province (every site), province:NAME, district:NAME or site:ID")
def viewer_add(config_path: str, name: str, scope_text: str) -> None:
    """Tạo mã xem cho NAME, in ra một lần / create a viewer token, printed once.

    Prometheus scrapes with one of its own: `viewer add prometheus`, the token into the
    file its `authorization.credentials_file` names (configs/prometheus/prometheus.yml)."""
    from yte_compliance.collector.sites import load_sites
    from yte_compliance.collector.tokens import new_token
    from yte_compliance.collector.viewers import Scope

    cfg = load_collector_config(config_path)
    try:
        scope = Scope.parse(scope_text)
    except ValueError as e:
        raise UsageError(str(e)) from None
    sites = load_sites(cfg.sites_file)
    if not scope.names_something(sites):
        raise UsageError(f"phạm vi không có cơ sở nào / scope {scope.text()} holds no "
                               f"site of {cfg.sites_file}")
    store = _store(cfg, create=True)
    plain, stored = new_token()
    store.add_viewer(name, scope.text(), stored)
    store.close()
    click.echo(plain)
    click.echo(f"(chỉ hiển thị một lần; lưu dạng băm / shown once; stored hashed as id "
               f"{stored.token_id}, reads {scope.text()})", err=True)


@viewer.command("list")
@config_option
def viewer_list(config_path: str) -> None:
    """Danh sách mã xem (không bao giờ hiện bí mật) / list viewers, never their secrets."""
    import datetime as dt

    store = _store(load_collector_config(config_path))
    click.echo(f"{'id':<14}{'name':<20}{'scope':<30}{'created':<18}state")
    for v in store.viewers():
        created = dt.datetime.fromtimestamp(v.created_at).strftime("%Y-%m-%d %H:%M")
        state = "revoked" if v.revoked_at else "active"
        click.echo(f"{v.token.token_id:<14}{v.name:<20}{v.scope:<30}{created:<18}{state}")
    store.close()


@viewer.command("revoke")
@config_option
@click.argument("token_id")
def viewer_revoke(config_path: str, token_id: str) -> None:
    """Thu hồi mã xem ngay / revoke a viewer token at once, by its id."""
    _revoke(config_path, token_id, "revoke_viewer",
            "không có mã xem đang hiệu lực / no active viewer")


@collector.group()
def enrollment() -> None:
    """Mã đăng ký máy của cơ sở / enrollment secrets: a PC trades one for its own key."""


@enrollment.command("add")
@config_option
@click.argument("site")
@click.option("--name", default="", help="what it is for (e.g. the package of 2026-12)")
def enrollment_add(config_path: str, site: str, name: str) -> None:
    """Tạo mã đăng ký cho SITE, in ra một lần / create an enrollment secret, printed once.

    It can only add new PCs (each gets its own key); put it in the site's package
    (`yte package windows`) or an agent's enrollment_secret_file."""
    from yte_compliance.collector.tokens import new_token

    store = _store(load_collector_config(config_path), site, create=True)
    plain, stored = new_token()
    store.add_enrollment(site, name or f"enrollment {stored.token_id}", stored)
    store.close()
    click.echo(plain)
    click.echo(f"(chỉ hiển thị một lần; lưu dạng băm / shown once; stored hashed as id "
               f"{stored.token_id})", err=True)


@enrollment.command("list")
@config_option
def enrollment_list(config_path: str) -> None:
    """Các mã đăng ký và số máy mỗi mã đã đăng ký / secrets and the PCs each enrolled."""
    store = _store(load_collector_config(config_path))
    keys = store.host_keys()
    click.echo(f"{'id':<14}{'site':<20}{'name':<28}{'created':<18}{'PCs':>5}  state")
    for e in store.enrollments():
        n = sum(1 for k in keys if k.enrollment == e.token.token_id)
        state = "revoked" if e.revoked_at else "active"
        click.echo(f"{e.token.token_id:<14}{e.site:<20}{e.name[:27]:<28}"
                   f"{_when(e.created_at):<18}{n:>5}  {state}")
    store.close()


@enrollment.command("revoke")
@config_option
@click.argument("token_id")
def enrollment_revoke(config_path: str, token_id: str) -> None:
    """Thu hồi mã đăng ký; máy đã đăng ký vẫn báo cáo / revoke a secret; enrolled PCs
    keep their keys."""
    _revoke(config_path, token_id, "revoke_enrollment",
            "không có mã đăng ký đang hiệu lực / no active enrollment secret")


@collector.group()
def key() -> None:
    """Khoá riêng của từng máy / each enrolled PC's own key."""


@key.command("list")
@config_option
@click.argument("site", required=False)
def key_list(config_path: str, site: str | None) -> None:
    """Các máy đã đăng ký / enrolled PCs: when, with which secret, and their state."""
    store = _store(load_collector_config(config_path), site)
    click.echo(f"{'host':<18}{'site':<20}{'enrolled':<18}{'by secret':<14}state")
    for k in store.host_keys(site):
        state = ("may enroll" if k.may_enroll else "revoked" if k.revoked_at
                 else "active" if k.token else "—")
        click.echo(f"{k.host_id:<18}{k.site:<20}{_when(k.enrolled_at):<18}"
                   f"{k.enrollment or '—':<14}{state}")
    store.close()


@key.command("revoke")
@config_option
@click.argument("host_id")
def key_revoke(config_path: str, host_id: str) -> None:
    """Thu hồi khoá của một máy ngay / revoke one PC's key at once (its reports are
    refused; `key allow` lets it enroll again)."""
    _revoke(config_path, host_id, "revoke_host_key", "không có khoá đang hiệu lực / no "
            "active key for host")


@key.command("allow")
@config_option
@click.argument("site")
@click.argument("host_id")
def key_allow(config_path: str, site: str, host_id: str) -> None:
    """Cho một máy đăng ký (lại) / let one PC enroll (again): one that reported before
    enrollment, or whose key was revoked. Its old key stops at once."""
    store = _store(load_collector_config(config_path), site)
    store.allow_enroll(site, host_id)
    store.close()
    click.echo(f"{host_id} có thể đăng ký với mã của {site} / may enroll with {site}'s secret")


def _when(ts: float | None) -> str:
    import datetime as dt

    return "—" if ts is None else dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")
