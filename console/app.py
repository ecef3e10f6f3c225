"""The team's web console: a Starlette app over the store, the calendar and `scheduler.actions`.

Server-rendered pages that work with links and forms alone; htmx (served from this package,
never a CDN) polls `/live` to swap in state changes as the daemon publishes. Nothing but the
login page, the health check and the static files answers without a session; every POST
checks its origin and the session's CSRF token, then the role. Every answer goes out through
`scrub` as the browser receives it (`console.security`: credential values, the database
password and token-shaped text, in every encoding). Database and template work runs in
worker threads (`console.offload`), never on the event loop, so one slow page holds up nobody else.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import inspect
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_hex
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from jinja2 import ChoiceLoader, FileSystemLoader, Template, select_autoescape
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from assets.inbox import rejected_files
from campaign.calendar import load_calendar
from campaign.clock import Clock
from campaign.errors import CalendarError
from console.offload import off_loop
from console.probes import Coalesced, StoreWatch
from console import views
from console.accounts import ROLE_TABLE, Account, AccountError, Accounts, change_role, role_names
from console.security import same_origin
from console.sessions import LOGIN_COOKIE, SESSION_COOKIE, SESSION_HOURS, SessionSigner, csrf_ok, same
from scheduler import actions
from scheduler.plan.preview import DEFAULT_TEMPLATES, THUMB_CACHE, embedded_fonts, thumbnail_data_uri
from scheduler.results.store import ResultsStore
from scheduler.store import Store, states
from scheduler.store.clock import real_time
from scheduler.store.schema import posts
from scheduler.store.status import SCHEDULED, build_status

HERE = Path(__file__).resolve().parent
FLASH_COOKIE = "eo_flash"
LIVE_SECONDS = 3


@dataclass
class ConsoleConfig:
    db: str | None = None
    calendar: Path = Path("calendar.yaml")
    build: Path = Path("build")
    inbox: Path = Path("inbox")
    render_queue: str | None = None  # PostgreSQL URL: the desk's renders become jobs for render workers (`worker --queue`)


#: The calendar per (file, modification time), and the brand font subsets per set of characters:
#: both take seconds to make, and every console in the process can share them.
_CALENDARS: dict[tuple[str, int], Any] = {}
_FONTS: dict[str, str] = {}


@dataclass
class Console:
    """What every handler needs: the store, the accounts, the signer, the clock, the calendar."""

    config: ConsoleConfig
    store: Store
    accounts: Accounts
    signer: SessionSigner
    clock: Clock
    secrets: tuple[str, ...]
    _thumbs: dict[tuple[str, float], bytes | None] = field(default_factory=dict)
    watch: StoreWatch | None = None  # the health check's reading of the store (console.probes)
    pages: Coalesced = field(default_factory=Coalesced)  # identical page requests share one render
    desk: Any = None  # the media desk's background renders and uploads (console.desk)
    #: channel id -> (static credentials, API settings) for connecting channels (console.connections);
    #: None: the environment or the secrets file and the calendar's `api:` (tests and sandboxes set it)
    connect_settings: Any = None

    def calendar(self):  # type: ignore[no-untyped-def]
        """The calendar, reloaded when its file changes; None if it is missing or invalid (the
        console still shows the store, the truth)."""
        path = self.config.calendar.resolve()
        try:
            key = (str(path), path.stat().st_mtime_ns)
        except OSError:
            return None
        if key not in _CALENDARS:
            try:
                loaded = load_calendar(path).calendar
            except (CalendarError, OSError):
                loaded = None
            _CALENDARS.clear()
            _CALENDARS[key] = loaded
        return _CALENDARS[key]


def known_secrets(store_url: str, signing_key: str) -> tuple[str, ...]:
    """What the console must never print beyond the configured credentials that
    `campaign.secrets.scrub` already removes: the store's URL (and its password) and the key
    that signs session cookies."""
    found = {signing_key, store_url}
    try:
        url = make_url(store_url)
        if url.password:
            found.add(str(url.password))
    except Exception:  # noqa: BLE001 - not a URL we can parse: the whole string is already listed
        pass
    return tuple(s for s in found if s)


_rendering = threading.local()


class ReleasingTemplate(Template):
    """A template whose render leaves no garbage cycle holding the page's data. Jinja's contexts
    and the macros defined in them refer to each other (a macro's closure holds its context), so
    each calendar render left its 200 posts, cards and rows (~2,200 objects) for the collector
    to find: with 50 clients loading the calendar, a full pass every second or so, 15-240 ms
    with every thread stopped (the tail of /healthz and /live, issue 23). Once the page is made,
    the contexts it made are emptied: the data goes by reference counting, at once."""

    def new_context(self, vars: dict[str, Any] | None = None, shared: bool = False,
                    locals: Any = None) -> Context:
        context = super().new_context(vars, shared, locals)
        made = getattr(_rendering, "contexts", None)
        # only contexts given the render's variables: a template's cached module (`{% from ...
        # import %}` without context, made with none) serves later renders and is left alone
        if made is not None and vars is not None:
            made.append(context)
        return context

    def render(self, *args: Any, **kwargs: Any) -> str:
        outer = getattr(_rendering, "contexts", None)
        _rendering.contexts = made = []
        try:
            return super().render(*args, **kwargs)
        finally:
            _rendering.contexts = outer
            for context in made:
                context.vars.clear()
                context.exported_vars.clear()
                context.parent.clear()  # type: ignore[attr-defined]


def make_environment(secrets: tuple[str, ...]) -> SandboxedEnvironment:
    """Sandboxed and autoescaped: captions, comments and names come from calendar folders and
    people. Secrets are removed from each whole page (`scrub_page`), which is as safe as
    scrubbing each value and takes a tenth of the time on a page of 400 cards."""

    def finalize(value: Any) -> Any:
        return "" if value is None else value

    env = SandboxedEnvironment(loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")),
                                                    FileSystemLoader(str(DEFAULT_TEMPLATES))]),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True, finalize=finalize)
    env.template_class = ReleasingTemplate
    env.globals["STATE_LABELS"] = views.STATE_LABELS
    env.globals["ROLES"] = role_names()
    env.globals["ROLE_TABLE"] = ROLE_TABLE
    env.globals["SENDABLE_BACK"] = states.SENDABLE_BACK
    env.filters["href"] = lambda url: url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else "#"
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else ""
    return env


# -- the request pipeline --------------------------------------------------------------------

Handler = Callable[[Request, "Console", Account], Awaitable[Response] | Response]


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _current(request: Request, console: Console) -> tuple[Account | None, Any]:
    session = console.signer.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None, None
    account = console.accounts.get(session.name)
    if account is None or not same(account.session_key, session.key):
        return None, None
    return account, session


FOREIGN_ORIGIN = "This form was sent from another site (its Origin or Referer is not this console): refused."


def page(role: str, *, post: bool = False, quick: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: a session is required (else the login page), POSTs must come from the
    console's own pages (Origin/Referer, else 403) and carry the session's CSRF token (else
    403), and the account needs `role` (else 403). A plain `def` handler runs in a worker
    thread (`off_loop`, `quick` for small answers polled often); the form is read before."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await checked(request)
            finally:  # uploaded files (the media desk's form) are spooled to temporary files: close them
                form = getattr(request.state, "form", None)
                if form is not None:
                    await form.close()

        async def checked(request: Request) -> Response:
            console: Console = request.app.state.console
            if post:
                if not same_origin(request):
                    return await off_loop(_error, request, console, None, 403, FOREIGN_ORIGIN, quick=True)
                request.state.form = await request.form()
            if inspect.iscoroutinefunction(handler):
                admitted = await off_loop(_admit, request, console, role, post, quick=True)
                if isinstance(admitted, Response):
                    return admitted
                return await handler(request, console, admitted)  # type: ignore[misc]
            return await off_loop(_admitted, handler, request, console, role, post, quick=quick)

        endpoint.required_role = role  # type: ignore[attr-defined]
        endpoint.is_post = post  # type: ignore[attr-defined]
        return endpoint

    return wrap


def _admit(request: Request, console: Console, role: str, post: bool) -> Account | Response:
    """The account a request acts as, or the answer that turns it away (see `page`)."""
    account, session = _current(request, console)
    if account is None:
        if post:
            return _error(request, console, None, 401, "Your session ended: log in again.")
        target = request.url.path[len(_base(request)):] or "/"
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"{_base(request)}/login?{urlencode({'next': target})}", status_code=303)
    request.state.account = account
    request.state.session = session
    if post and not csrf_ok(session, str(request.state.form.get("csrf") or "")):
        return _error(request, console, account, 403, "This form expired or did not come from the console (CSRF token "
                                                      "missing or wrong). Go back, reload the page and try again.")
    if not account.can(role):
        return _error(request, console, account, 403, f"Only {role}s may do this; you are a {account.role}.")
    return account


def _admitted(handler: Handler, request: Request, console: Console, role: str, post: bool) -> Response:
    """`_admit`, then the handler, in one worker thread."""
    admitted = _admit(request, console, role, post)
    return admitted if isinstance(admitted, Response) else handler(request, console, admitted)  # type: ignore[return-value]


def render(request: Request, console: Console, template: str, account: Account | None, status_code: int = 200,
           *, csrf: str | None = None, **context: Any) -> HTMLResponse:
    """The page; `csrf` given: that text where the session's CSRF token goes (a page shared by
    several sessions, `calendar_page`)."""
    env: SandboxedEnvironment = request.app.state.env
    session = getattr(request.state, "session", None)
    flash = console.signer.read_flash(request.cookies.get(FLASH_COOKIE))
    html = env.get_template(template).render(  # scrubbed on the way out (ScrubAnswers)
        base=_base(request), me=account, csrf=csrf if csrf is not None else (session.csrf if session else ""), flash=flash,
        needs_you=views.needs_you(console.store, account) if account else 0,
        path=request.url.path[len(_base(request)):], now=console.clock.now(), clock_shown=clock_shown(console), **context)
    response = HTMLResponse(html, status_code=status_code)
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path=_base(request) or "/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(request: Request, console: Console, account: Account | None, code: int, message: str) -> HTMLResponse:
    return render(request, console, "error.html.j2", account, status_code=code, code=code, message=message)


def _back(request: Request, message: str, fallback: str = "/") -> RedirectResponse:
    """Post/redirect/get: back where the form was, with the outcome as a one-time message."""
    target = fallback
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    if referer.startswith(base + "/"):
        target = referer[len(base):]
        if target.startswith(_base(request)):
            target = target[len(_base(request)):] or "/"
    response = RedirectResponse(_base(request) + target, status_code=303)
    console: Console = request.app.state.console
    response.set_cookie(FLASH_COOKIE, console.signer.flash(message[:1500]), max_age=60, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=_base(request) or "/")
    return response


def clock_shown(console: Console) -> str:
    """What the page header says about time: the store's clock ("campaign clock: 2027-03-14 09:00 UTC
    (x3600, rehearsal)" or "real clock: ..."), so nobody mistakes a rehearsal's time for today."""
    describe = getattr(console.clock, "describe", None)
    return describe() if describe is not None else f"clock: {console.clock.now():%Y-%m-%d %H:%M} UTC"


def _now(console: Console) -> dt.datetime:
    return console.clock.now()


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


def _fields(request: Request) -> dict[str, str]:
    """The POSTed form, which `page` read before a plain (threaded) handler runs."""
    return {k: str(v) for k, v in request.state.form.items()}


def _run_action(request: Request, console: Console, action: Callable[..., actions.Outcome], **kwargs: Any) -> Response:
    try:
        outcome = action(console.store, now=_now(console), **kwargs)
    except actions.NotAllowed as error:
        return _error(request, console, request.state.account, 403, str(error))
    except actions.ActionError as error:
        return _back(request, f"Not done: {error}")
    return _back(request, outcome.message)


# -- pages -----------------------------------------------------------------------------------

#: Where the session's CSRF token goes in a calendar page shared by several sessions: random per
#: process, so no caption or comment can contain it and have a viewer's token put in its place.
CSRF_SLOT = f"csrf-slot-{token_hex(16)}"


@page("viewer")
async def calendar_page(request: Request, console: Console, me: Account) -> Response:
    """The calendar, the page everyone keeps open: people of one account asking for the same
    view at the same time share one render that began after they asked (`Coalesced`), each
    with their own session's CSRF token. A page carrying a one-time message is made for itself."""
    if FLASH_COOKIE in request.cookies:
        return await off_loop(_calendar, request, console, me)
    key = ("calendar", me.name, me.role, tuple(me.channels or ()), _base(request), request.url.query)
    shared: HTMLResponse = await console.pages.run(key, lambda: _calendar(request, console, me, csrf=CSRF_SLOT))
    csrf = request.state.session.csrf
    body = bytes(shared.body).replace(CSRF_SLOT.encode(), str(escape(csrf)).encode())
    return HTMLResponse(body, status_code=shared.status_code, headers={"Cache-Control": "no-store"})


def _calendar(request: Request, console: Console, me: Account, csrf: str | None = None) -> HTMLResponse:
    calendar = console.calendar()
    filters = {k: request.query_params.get(k, "") for k in views.FILTERS}
    view = request.query_params.get("view", "weeks")
    found, total = views.post_views(console.store, calendar, console.config.build, filters, _thumb_url(request),
                                    scope=me.scope)
    zone = calendar.campaign.timezone if calendar else "UTC"
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, console, "calendar.html.j2", me, csrf=csrf, filters=filters, view=view, total=total, posts=found,
                  weeks=views.by_week(found, zone), choices=views.filter_choices(console.store, calendar),
                  waiting=views.waiting_for(console.store, calendar, filters, me), zone=zone, limit=views.PAGE_LIMIT,
                  campaign=calendar.campaign if calendar else None, live_since=views.live_mark(console.store),
                  query=query, here="/" + (f"?{query}" if query else ""),
                  threads=views.threads(console.store, [p.id for p in found]))


@page("viewer")
def post_page(request: Request, console: Console, me: Account) -> Response:
    post_id = request.path_params["post_id"]
    found = views.one_post(console.store, console.calendar(), console.config.build, post_id, _thumb_url(request))
    if found is None:
        return _error(request, console, me, 404, f"There is no post {post_id} in the store.")
    return render(request, console, "post.html.j2", me, p=found, history=views.history(console.store, post_id),
                  live_since=views.live_mark(console.store),
                  thread=views.threads(console.store, [post_id]).get(post_id, []))


@page("viewer")
def operations_page(request: Request, console: Console, me: Account) -> Response:
    now = _now(console)
    calendar = console.calendar()
    status = build_status(console.store, now, limit=20)
    channel_ids = sorted({c.id for c in calendar.channels} if calendar else set(status["by_channel"]))
    return render(request, console, "operations.html.j2", me, status=status, channels=channel_ids,
                  order=[s for s in (SCHEDULED, *states.ALL) if s in status["totals"]],
                  rejected=[(p.name, why) for p, why in rejected_files(console.config.inbox)],
                  checks=views.channel_checks(calendar), beat=views.heartbeat(console.store, now),
                  unknown=[console.store.get(p["id"]) for p in status["needs_human"]["unknown"]],
                  accounts={c.id: (getattr(c.platform, "value", str(c.platform)), c.account)
                            for c in (calendar.channels if calendar else [])})


@page("viewer")
def results_page(request: Request, console: Console, me: Account) -> Response:
    posts = views.published(console.store, console.calendar())
    return render(request, console, "results.html.j2", me, posts=posts,
                  figures=ResultsStore(console.store).latest(p.id for p in posts))


@page("viewer")
def audit_page(request: Request, console: Console, me: Account) -> Response:
    rows = console.store.audit_rows()[-300:][::-1]
    return render(request, console, "audit.html.j2", me, rows=rows)


@page("admin")
def users_page(request: Request, console: Console, me: Account) -> Response:
    calendar = console.calendar()
    return render(request, console, "users.html.j2", me, users=console.accounts.all(),
                  channels=sorted(c.id for c in calendar.channels) if calendar else [])


@page("viewer", quick=True)
def live_fragment(request: Request, console: Console, me: Account) -> Response:
    """The htmx poll: every post changed since `since` as an out-of-band state badge."""
    given = request.query_params.get("since", "")
    try:
        since, seen = views.read_mark(given) if given else (views.watermark(console.store), {})
    except (ValueError, OverflowError):
        return PlainTextResponse("since must be a date and time such as 2027-01-01T09:00:00+00:00", status_code=400)
    changed, newest = views.changed_since(console.store, since, seen)
    # the fragment alone: none of a page's frame (the "needs you" count, the one-time message) is in it
    env: SandboxedEnvironment = request.app.state.env
    html = env.get_template("_live.html.j2").render(base=_base(request), changed=changed, live_since=newest)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@page("viewer")
def thumbnail(request: Request, console: Console, me: Account) -> Response:
    """A small JPEG of the post's rendered asset (the preview's thumbnail), cached per file version."""
    post = console.store.get(request.path_params["post_id"])
    if post is None or post.media is None:
        return PlainTextResponse("no such thumbnail", status_code=404)
    path = (console.config.build / post.media.path).resolve()
    if console.config.build.resolve() not in path.parents or not path.is_file():
        return PlainTextResponse("not rendered yet", status_code=404)
    key = (str(path), path.stat().st_mtime)
    if key not in console._thumbs:
        uri = thumbnail_data_uri(path, post.media.kind, cache=console.config.build / THUMB_CACHE)  # the preview's, if made
        console._thumbs[key] = base64.b64decode(uri.split(",", 1)[1]) if uri else None
    data = console._thumbs[key]
    if data is None:
        return PlainTextResponse("unreadable", status_code=404)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


@page("viewer")
async def fonts_css(request: Request, console: Console, me: Account) -> Response:
    """The brand fonts (Latin, Japanese, Arabic) cut down to the characters of the posts in the
    store, as the preview embeds them: captions show right on machines without those fonts."""
    css = await run_in_threadpool(_fonts_css, console)
    return Response(css, media_type="text/css", headers={"Cache-Control": "private, max-age=600"})


def _fonts_css(console: Console) -> str:
    calendar = console.calendar()
    if calendar is None:
        return ""
    with console.store.reads.begin() as conn:
        text = "".join(a + c for a, c in conn.execute(select(posts.c.account, posts.c.caption).distinct()))
    text += "".join(calendar.campaign.baseline.values()) + calendar.campaign.name
    text += "0123456789:·–—…/()@✓⚠←▶ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.,'\"“”"
    key = hashlib.sha256("".join(sorted(set(text))).encode("utf-8")).hexdigest()
    root = console.config.calendar.resolve().parent
    fonts = calendar.brand.fonts
    # keyed by the font files (symlinks resolved), not the calendar's folder: calendars sharing
    # their brand fonts share the subsets, which take seconds of CPU to cut
    key += "|".join(str((root / font).resolve()) for font in (fonts.latin, fonts.arabic, fonts.japanese) if font)
    if key not in _FONTS:
        faces = embedded_fonts(calendar, root, text)
        if len(_FONTS) > 8:
            _FONTS.clear()
        _FONTS[key] = "".join(f'@font-face {{ font-family: "{f["family"]}"; font-weight: {f["weight"]}; '
                              f'font-display: swap; src: url("{f["src"]}") format("{f["format"]}"); }}\n' for f in faces)
    return _FONTS[key]


def _thumb_url(request: Request) -> Callable[[str], str]:
    base = _base(request)
    return lambda post_id: f"{base}/thumb/{post_id}"


# -- actions (POST) ----------------------------------------------------------------------------

@page("approver", post=True)
def approve_action(request: Request, console: Console, me: Account) -> Response:
    form = _fields(request)
    return _run_action(request, console, actions.approve, by=me.name, channels=me.scope,
                             post=form.get("post") or None, moment=form.get("moment") or None,
                             channel=form.get("channel") or None)


@page("approver", post=True)
def send_back_action(request: Request, console: Console, me: Account) -> Response:
    form = _fields(request)
    return _run_action(request, console, actions.send_back, by=me.name, channels=me.scope,
                             post=form.get("post", ""), comment=form.get("comment", ""))


@page("admin", post=True)
def pause_action(request: Request, console: Console, me: Account) -> Response:
    form = _fields(request)
    return _run_action(request, console, actions.pause, by=me.name, channel=form.get("channel") or None,
                             reason=form.get("reason", ""), calendar=console.config.calendar)


@page("admin", post=True)
def resume_action(request: Request, console: Console, me: Account) -> Response:
    form = _fields(request)
    return _run_action(request, console, actions.resume, by=me.name, channel=form.get("channel") or None,
                             calendar=console.config.calendar)


@page("admin", post=True)
def resolve_action(request: Request, console: Console, me: Account) -> Response:
    form = _fields(request)
    if form.get("published") not in ("yes", "no"):
        return _back(request, "Not done: say whether you found the post on the platform.")
    return _run_action(request, console, actions.resolve, by=me.name, post=form.get("post", ""),
                             published=form["published"] == "yes", url=form.get("url") or None)


@page("admin", post=True)
def user_add_action(request: Request, console: Console, me: Account) -> Response:
    form = request.state.form
    channels = [str(c) for c in form.getlist("channels")]
    try:
        added = console.accounts.add(str(form.get("name", "")), str(form.get("role", "")), str(form.get("password", "")),
                                     by=me.name, now=_now(console), channels=channels or None)
    except AccountError as error:
        return _back(request, f"Not done: {error}")
    console.store.add_audit(_now(console), me.name, "user-add", added.name,
                            f"role {added.role}" + (f", channels {', '.join(added.channels)}" if added.channels else ""))
    return _back(request, f"account {added.name} added ({added.role})")


@page("admin", post=True)
def user_remove_action(request: Request, console: Console, me: Account) -> Response:
    name = _fields(request).get("name", "")
    if name == me.name:
        return _back(request, "Not done: you cannot remove your own account (another admin can).")
    if not console.accounts.remove(name):
        return _back(request, f"Not done: no account named {name}")
    console.store.add_audit(_now(console), me.name, "user-remove", name)
    return _back(request, f"account {name} removed")


@page("admin", post=True)
def user_role_action(request: Request, console: Console, me: Account) -> Response:
    form = request.state.form
    name = str(form.get("name", ""))
    if name == me.name:
        return _back(request, "Not done: you cannot change your own role (another admin can).")
    channels = [c for value in form.getlist("channels") for c in str(value).split(",")]
    try:
        message = change_role(console.store, console.accounts, name, str(form.get("role", "")), channels or None,
                              by=me.name, now=_now(console), calendar=console.config.calendar)
    except AccountError as error:
        return _back(request, f"Not done: {error}")
    return _back(request, message)


@page("viewer", post=True)
def logout_action(request: Request, console: Console, me: Account) -> Response:
    console.accounts.end_sessions(me.name)
    console.store.add_audit(_now(console), me.name, "logout", me.name, "every session of the account ended")
    response = RedirectResponse(f"{_base(request)}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=_base(request) or "/")
    return response


# -- login and health (no session needed) ----------------------------------------------------

def _client_keys(request: Request, name: str) -> list[str]:
    address = request.client.host if request.client else "unknown"
    return [f"name:{name.lower()}"[:255], f"addr:{address}"[:255]]


def _login_form(request: Request, console: Console, message: str = "", status_code: int = 200,
                name: str = "") -> HTMLResponse:
    cookie, token = console.signer.login_token()
    nxt = request.query_params.get("next", "/")
    response = render(request, console, "login.html.j2", None, status_code=status_code, message=message,
                      login_csrf=token, next=nxt if _safe_next(nxt) else "/", name=name)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=30 * 60, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=_base(request) or "/")
    return response


def _safe_next(target: str) -> bool:
    return target.startswith("/") and not target.startswith("//") and "\\" not in target


def _public(handler: Callable[[Request, "Console"], Response]) -> Callable[[Request], Awaitable[Response]]:
    """A page without a session (login, one-time link): its form read on the loop, its work
    (Argon2, the store, the template) in a worker thread; a POST from another site refused."""

    async def endpoint(request: Request) -> Response:
        console: Console = request.app.state.console
        if request.method == "POST":
            request.state.form = await request.form()
            if not same_origin(request):
                return await off_loop(_error, request, console, None, 403, FOREIGN_ORIGIN)
        return await off_loop(handler, request, console)

    return endpoint


@_public
def login_page(request: Request, console: Console) -> Response:
    if _current(request, console)[0] is not None:
        return RedirectResponse(f"{_base(request)}/", status_code=303)
    return _login_form(request, console)


@_public
def login_action(request: Request, console: Console) -> Response:
    form = _fields(request)
    name = form.get("name", "").strip()[:200]
    if not console.signer.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return _login_form(request, console, "The login form expired or did not come from the console: try again.", 403, name)
    now = _now(console)
    keys = _client_keys(request, name)
    # The limit on failed logins counts real minutes: on a rehearsal's fast campaign clock a
    # 15-minute wait would last a fraction of a second.
    attempt, wait = console.accounts.begin_attempt(keys, real_time(console.clock).now())
    if wait is not None:
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        response = _login_form(request, console, f"Too many failed logins: try again in {minutes} minute"
                               f"{'s' if minutes != 1 else ''}.", 429, name)
        response.headers["Retry-After"] = str(int(wait.total_seconds()) + 1)
        return response
    account = console.accounts.verify(name, form.get("password", ""))
    if account is None:  # the attempt stays counted
        console.store.add_audit(now, "console", "login-failed", name[:64] or "(no name)", f"from {keys[1][5:]}")
        return _login_form(request, console, "Wrong name or password.", 401, name)
    console.accounts.succeeded(attempt, keys[:1])
    console.store.add_audit(now, account.name, "login", account.name, f"role {account.role}, from {keys[1][5:]}")
    nxt = form.get("next", "/")
    response = RedirectResponse(_base(request) + (nxt if _safe_next(nxt) else "/"), status_code=303)
    response.set_cookie(SESSION_COOKIE, console.signer.issue(account.name, account.session_key),
                        max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=_base(request) or "/")
    response.delete_cookie(LOGIN_COOKIE, path=_base(request) or "/")
    return response


@_public
def welcome_page(request: Request, console: Console) -> Response:
    """Where a one-time link lands: the person chooses their password."""
    return _welcome_form(request, console, request.query_params.get("token", ""))


def _welcome_form(request: Request, console: Console, token: str, message: str = "", status_code: int = 200) -> HTMLResponse:
    cookie, csrf = console.signer.login_token()
    response = render(request, console, "welcome.html.j2", None, status_code=status_code, message=message,
                      login_csrf=csrf, token=token)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=30 * 60, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=_base(request) or "/")
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's address
    return response


@_public
def welcome_action(request: Request, console: Console) -> Response:
    form = _fields(request)
    token = form.get("token", "")
    if not console.signer.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return _welcome_form(request, console, token, "The form expired or did not come from the console: try again.", 403)
    if form.get("password", "") != form.get("again", ""):
        return _welcome_form(request, console, token, "The two passwords differ.", 400)
    try:
        account = console.accounts.accept_invitation(token, console.accounts.signing_key(), form.get("password", ""))
    except AccountError as error:
        return _welcome_form(request, console, token, str(error), 400)
    console.store.add_audit(_now(console), account.name, "password-set", account.name, "through a one-time link")
    response = RedirectResponse(f"{_base(request)}/login", status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path=_base(request) or "/")
    return response


async def health(request: Request) -> Response:
    """For load balancers and monitoring: the store answers. Says nothing else. Answered on the
    event loop from the store watch's reading (at most a few seconds old), never queued behind
    pages; without a fresh reading (the first probe, a store that hangs) it asks the store itself."""
    console: Console = request.app.state.console
    reading = console.watch.latest() if console.watch is not None else None
    if reading is None:
        return await off_loop(_health, console, quick=True)
    if not reading.ok:
        return PlainTextResponse("store unreachable", status_code=503)
    return PlainTextResponse(f"ok {reading.took_ms:.0f} ms")


def ping(store: Store) -> None:
    """One row: the store answers, whatever its size."""
    with store.reads.begin() as conn:
        conn.execute(select(posts.c.id).limit(1)).all()


def _health(console: "Console") -> Response:
    started = time.monotonic()
    try:
        ping(console.store)
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        return PlainTextResponse("store unreachable", status_code=503)
    return PlainTextResponse(f"ok {1000 * (time.monotonic() - started):.0f} ms")


def watch_store(store: Store) -> StoreWatch:
    """The reading `health` answers from (console.probes.StoreWatch)."""
    return StoreWatch(lambda: ping(store))


class SecurityHeaders:
    """Every answer: no framing, no sniffing, no referrer to other sites, scripts only from the
    console itself (htmx is served from /static, never a CDN)."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                     b"img-src 'self' data:; font-src 'self' data:; frame-ancestors 'none'; "
                                     b"form-action 'self'; base-uri 'none'; object-src 'none'"),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [(k, v) for k, v in self.HEADERS if k not in present]
            await send(message)

        await self.app(scope, receive, with_headers)


#: Reachable without logging in (the login page, a one-time link's page, the health check, CSS
#: and htmx, and signed media addresses, whose token is the permission: console/media.py):
#: nothing else is (tests/console checks every route).
PUBLIC_PATHS = ("/login", "/welcome", "/healthz", "/static", "/signed/")
