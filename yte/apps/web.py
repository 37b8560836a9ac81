"""The collector's web pages (/ui/): sign in with a viewer token, then province →
district → site → PC, each with its ĐẠT / CHƯA ĐẠT / CHƯA RÕ / MIỄN TRỪ table, its trend
by month, and its table as CSV or XLSX; every PC has a printable to-do list.

Server-rendered HTML and one stylesheet, no script at all: a page is light on a 3G link
and the Content-Security-Policy forbids every script. Everything an agent sent (hostnames,
product names) is escaped by the templates. The session cookie is HttpOnly, Secure and
SameSite=Strict and holds only a random id; the session keeps the viewer's token id and is
checked against the store on every page, so revoking the token ends the session. Every
form carries a CSRF token. Reading goes through the same service (collector.service
.Reading) as the API, with the same scopes."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from yte_compliance.apps import pages
from yte_compliance.collector.limits import RateLimiter
from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.service import Collector
from yte_compliance.collector.tokens import token_id_of
from yte_compliance.collector.viewers import Scope
from yte_compliance.core.protocol import RUNBOOKS_PATH, UI_PATH

PREFIX = UI_PATH
SESSION_COOKIE = "yte_session"
LOGIN_CSRF_COOKIE = "yte_login_csrf"
LANG_COOKIE = "yte_lang"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
MAX_SESSIONS = 10_000
MAX_FORM_BYTES = 4096
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
                    "Cache-Control": "no-store"}
LOOPBACK = ("127.0.0.1", "::1", "localhost", "[::1]")


@dataclass
class Session:
    token_id: str
    scope: Scope
    csrf: str
    expires: float


class Sessions:
    """Signed-in viewers by random session id, in memory (a restart signs everyone out)."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token_id: str, scope: Scope) -> str:
        sid = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            if len(self._by_id) >= MAX_SESSIONS:
                for k in [k for k, s in self._by_id.items() if s.expires < now]:
                    del self._by_id[k]
                if len(self._by_id) >= MAX_SESSIONS:  # still full: the oldest goes
                    del self._by_id[min(self._by_id, key=lambda k: self._by_id[k].expires)]
            self._by_id[sid] = Session(token_id, scope, secrets.token_urlsafe(24),
                                       now + SESSION_SECONDS)
        return sid

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            s = self._by_id.get(sid)
            if s is not None and s.expires < self.clock():
                del self._by_id[sid]
                return None
            return s

    def close(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)


class Web:
    """The pages over one collector."""

    def __init__(self, collector: Collector):
        from jinja2 import Environment, PackageLoader, select_autoescape

        self.collector = collector
        self.sessions = Sessions(collector.clock)
        # ten failed sign-ins a minute per address: tokens are long, guessing is pointless,
        # and a noisy client is slowed down before it fills the log
        self.failures = RateLimiter(10, 10)
        self.env = Environment(loader=PackageLoader("yte_compliance.apps", "templates"),
                               autoescape=select_autoescape(["j2", "html"]))
        self.env.filters["quote"] = lambda s: urllib.parse.quote(str(s), safe="/")
        self.css = resources.files("yte_compliance.apps").joinpath(
            "static/app.css").read_bytes()

    # ---- plumbing ----------------------------------------------------------------

    def lang(self, request: Request) -> str:
        chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return "en" if chosen == "en" else "vi"

    def render(self, request: Request, template: str, status: int = 200,
               **values: Any) -> Response:
        lang = self.lang(request)
        html = self.env.get_template(template).render(
            lang=lang, t=lambda vi, en: pages.pick(lang, vi, en), prefix=PREFIX,
            path=request.url.path, verdict=lambda s: pages.verdict(s, lang), **values)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if request.query_params.get("lang") in ("vi", "en"):
            response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, path=PREFIX,
                                samesite="strict", secure=True, httponly=True)
        return response

    def refused(self, request: Request, r: Refused) -> Response:
        return self.render(request, "error.html.j2", r.status, error=r)

    def session(self, request: Request) -> Session | None:
        """The signed-in viewer, still valid in the store (a revoked token ends it)."""
        s = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if s is None:
            return None
        info = self.collector.store.viewer(s.token_id)
        if info is None or info.revoked_at is not None:
            self.sessions.close(request.cookies.get(SESSION_COOKIE))
            return None
        return s

    def export(self, request: Request, tables: dict[str, pages.Table], name: str
               ) -> Response | None:
        """With ?format=csv|xlsx, the page's table named by ?table= (default: its first)
        as a download; else None (the page itself)."""
        fmt = request.query_params.get("format")
        which = request.query_params.get("table") or next(iter(tables))
        table = tables.get(which)
        if table is None:
            raise Refused(404, "not_found", "không có bảng này", f"no table {which!r}")
        if fmt == "csv":
            body, media = pages.to_csv(table), "text/csv; charset=utf-8"
        elif fmt == "xlsx":
            body = pages.to_xlsx(table, name)
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            return None
        filename = urllib.parse.quote(f"{name}-{which}.{fmt}")
        return Response(body, media_type=media, headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})

    def page(self, handler: Callable[[Request, Session], Any]):
        """A page for signed-in viewers: the sign-in page otherwise, refusals as pages."""
        async def guarded(request: Request) -> Response:
            s = self.session(request)
            if s is None:
                target = urllib.parse.quote(request.url.path)
                return RedirectResponse(f"{PREFIX}/login?next={target}", 303)
            try:
                return await handler(request, s)
            except Refused as r:
                return self.refused(request, r)
        return guarded

    # ---- sign-in -----------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        csrf = secrets.token_urlsafe(24)
        plain = request.url.scheme == "http" and request.url.hostname not in LOOPBACK
        response = self.render(request, "login.html.j2", csrf=csrf, plain_http=plain,
                               next=_safe_next(request.query_params.get("next")))
        response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=1800, path=PREFIX,
                            httponly=True, secure=True, samesite="strict")
        return response

    async def login(self, request: Request) -> Response:
        form = await _form(request)
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, form.get("csrf", "")):
            return self.refused(request, Refused(
                403, "csrf", "phiên đăng nhập đã hết hạn, hãy thử lại",
                "the sign-in form expired or came from elsewhere; try again"))
        client = request.client.host if request.client else "?"
        token = form.get("token", "").strip()
        try:
            scope = self.collector.reading.scope(f"Bearer {token}")
        except Refused:
            allowed, _ = self.failures.allow(client)
            error = Refused(401 if allowed else 429, "unauthorized",
                            "mã xem không đúng, đã thu hồi hoặc hết hạn",
                            "wrong, revoked or expired viewer token")
            return self.refused(request, error)
        sid = self.sessions.open(str(token_id_of(token)), scope)
        response = RedirectResponse(_safe_next(form.get("next")) or f"{PREFIX}/", 303)
        response.set_cookie(SESSION_COOKIE, sid, max_age=SESSION_SECONDS, path=PREFIX,
                            httponly=True, secure=True, samesite="strict")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        return response

    async def logout(self, request: Request) -> Response:
        form = await _form(request)
        s = self.session(request)
        if s is not None and hmac.compare_digest(s.csrf, form.get("csrf", "")):
            self.sessions.close(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{PREFIX}/login", 303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # ---- pages -------------------------------------------------------------------

    async def home(self, request: Request, s: Session) -> Response:
        """The reader's own level: the province, their district, or their site."""
        if s.scope.kind == "district":
            return RedirectResponse(f"{PREFIX}/district/{_q(s.scope.value)}", 303)
        if s.scope.kind == "site":
            return RedirectResponse(f"{PREFIX}/site/{_q(s.scope.value)}", 303)
        lang = self.lang(request)
        details = await run_in_threadpool(self.collector.reading.details, s.scope)
        name = s.scope.value or ", ".join(sorted({d["site"]["province"] for d in details}))
        tables = {"districts": pages.province_table(details, lang),
                  "checks": pages.checks_by_site_count(details, lang),
                  "trend": await self._trend(details, lang)}
        exported = self.export(request, tables, f"tinh-{name}")
        if exported:
            return exported
        return self.render(request, "level.html.j2", session=s, level="province",
                           heading=name, crumbs=[], tables=tables, visits=None)

    async def district(self, request: Request, s: Session) -> Response:
        name = request.path_params["name"]
        sites = self.collector.world.sites
        if not any(site.district == name for site in sites.values()):
            raise Refused(404, "not_found", "không có huyện này", f"no district {name!r}")
        if not s.scope.reads_district(name, sites):
            raise Refused(403, "out_of_scope", "huyện ngoài phạm vi được xem",
                          f"this viewer reads {s.scope.text()}, not district {name}")
        lang = self.lang(request)
        details = [d for d in await run_in_threadpool(self.collector.reading.details, s.scope)
                   if d["site"]["district"] == name]
        tables = {"sites": pages.district_table(details, lang),
                  "checks": pages.checks_by_site_count(details, lang),
                  "trend": await self._trend(details, lang)}
        exported = self.export(request, tables, f"huyen-{name}")
        if exported:
            return exported
        crumbs = [("", pages.pick(lang, "Tỉnh", "Province"))] if s.scope.kind == "province" \
            else []
        return self.render(request, "level.html.j2", session=s, level="district",
                           heading=name, crumbs=crumbs, tables=tables,
                           visits=pages.sites_to_visit(details, lang))

    async def site(self, request: Request, s: Session) -> Response:
        sid = request.path_params["site"]
        lang = self.lang(request)
        detail = await run_in_threadpool(self.collector.reading.site, s.scope, sid)
        tables = {"checks": pages.site_table(detail, lang),
                  "pcs": pages.pcs_table(detail, lang),
                  "trend": await self._trend([detail], lang)}
        exported = self.export(request, tables, f"co-so-{sid}")
        if exported:
            return exported
        return self.render(request, "site.html.j2", session=s, d=detail, tables=tables,
                           crumbs=self._crumbs(s, detail["site"], lang))

    async def pc(self, request: Request, s: Session) -> Response:
        sid, host_id = request.path_params["site"], request.path_params["host"]
        lang = self.lang(request)
        host = await run_in_threadpool(self.collector.reading.host, s.scope, sid, host_id)
        tables = {"todo": pages.todo_table(host, lang), "facts": pages.pc_table(host, lang)}
        exported = self.export(request, tables, f"may-{host['hostname']}")
        if exported:
            return exported
        crumbs = self._crumbs(s, host["site"], lang)
        crumbs.append((f"site/{sid}", host["site"]["name"]))
        return self.render(request, "pc.html.j2", session=s, h=host, tables=tables,
                           crumbs=crumbs)

    async def runbook(self, request: Request) -> Response:
        """A runbook (exporters/runbooks/*.md) as a page: what an alert means and what to
        do. Public, as the documentation is: it holds no figures of any site."""
        name = request.path_params.get("name", "")
        if not name:
            return self.render(request, "runbooks.html.j2", crumbs=[],
                               names=sorted(RUNBOOKS))
        if name not in RUNBOOKS:
            return self.refused(request, Refused(404, "not_found", "không có hướng dẫn này",
                                                 f"no runbook {name!r}"))
        return self.render(request, "runbook.html.j2", crumbs=[], name=name,
                           body=RUNBOOKS[name])

    async def stylesheet(self, request: Request) -> Response:
        return Response(self.css, media_type="text/css", headers={
            "Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"})

    def _crumbs(self, s: Session, site: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
        out = []
        if s.scope.kind == "province":
            out.append(("", pages.pick(lang, "Tỉnh", "Province")))
        if s.scope.kind in ("province", "district"):
            out.append((f"district/{site['district']}", site["district"]))
        return out

    async def _trend(self, details: list[dict[str, Any]], lang: str) -> pages.Table:
        titles = {}
        for d in details:
            for c in d["checks"]:
                titles.setdefault(c["check"], (c["title_vi"], c["title_en"]))
        ids = {d["site"]["id"] for d in details}
        months = await run_in_threadpool(self.collector.months.year, ids)
        return pages.trend_table(months, titles, lang)

    def routes(self) -> list[Mount | Route]:
        ui = Starlette(routes=[
            Route("/", self.page(self.home)),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/district/{name}", self.page(self.district)),
            Route("/site/{site}", self.page(self.site)),
            Route("/site/{site}/pc/{host}", self.page(self.pc)),
            Route("/static/app.css", self.stylesheet),
        ])
        runbooks = Starlette(routes=[Route("/", self.runbook),
                                     Route("/{name}", self.runbook)])
        return [Mount(PREFIX, app=GZipMiddleware(ui, minimum_size=512)),
                Mount(RUNBOOKS_PATH, app=GZipMiddleware(runbooks, minimum_size=512))]


def _runbooks() -> dict[str, Any]:
    """Alert name → its runbook as HTML (the package's own Markdown files)."""
    from markdown_it import MarkdownIt
    from markupsafe import Markup

    md = MarkdownIt("commonmark", {"html": True})  # the files' <a id> anchors: ours, trusted
    folder = resources.files("yte_compliance.exporters").joinpath("runbooks")
    return {f.name[:-3]: Markup(md.render(f.read_text(encoding="utf-8")))  # noqa: S704
            for f in folder.iterdir() if f.name.endswith(".md")}


RUNBOOKS = _runbooks()


def _q(value: str | None) -> str:
    return urllib.parse.quote(value or "", safe="")


def _safe_next(target: str | None) -> str | None:
    """Only a path of these pages: never another host (an open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") \
            and "\\" not in target:
        return target
    return None


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form (the sign-in and sign-out forms), bounded in size."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    fields = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"))
    return {k: v[0] for k, v in fields.items()}
