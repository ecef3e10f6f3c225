"""The connections page (admins): how each channel is connected, and the Connect button that
runs the platform's own OAuth flow (`scheduler.connections.connect`): the button's POST starts
it (a new `state` bound to this session, PKCE) and sends the browser to the platform; the
platform sends it back to `/connections/callback`, which checks the state against this session
(a state started through the API, against the person who started it) and stores the tokens
encrypted in the store. The same page shows Bluesky's app passwords and Mastodon's tokens,
which do not expire, and channels whose token was pasted in the environment.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console.accounts import Account
from console.app import FLASH_COOKIE, Console, SecurityHeaders, _back, _base, _error, _fields, page, render
from scheduler.connections.connect import (
    ChannelConnection, ConnectError, Settings, binding_of_api, binding_of_session, finish, overview, start,
)
from scheduler.connections.keys import TokenKeyMissing, TokenKeyWrong
from scheduler.connections.vault import Vault
from scheduler.platforms.base import AuthError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, platform_of, resolve_api

CALLBACK = "/connections/callback"
API_PREFIX = "/api/v1"


def settings_of(console: Console) -> Settings:
    """The channel's app credentials and API settings: the console's own hook (tests, a sandbox),
    else the environment or the secrets file and the calendar's `api:`."""
    hook = getattr(console, "connect_settings", None)
    if hook is not None:
        return hook

    def settings(channel_id: str) -> tuple[Credentials, dict[str, Any]]:
        channel = console.calendar().channel(channel_id)
        return credentials_for(channel_id, channel.platform.value, required=()), resolve_api(channel, None)

    return settings


def callback_url(request: Request) -> str:
    """The console's callback address, as the platform's app must list it."""
    base = str(request.base_url).rstrip("/")
    if base.endswith(API_PREFIX):  # asked through the API, mounted under the console
        base = base[: -len(API_PREFIX)]
    return base + CALLBACK


def channel_overview(console: Console) -> list[ChannelConnection]:
    calendar = console.calendar()
    if calendar is None:
        return []
    settings = settings_of(console)

    def static(channel_id: str) -> Credentials | None:
        try:
            credentials, _api = settings(channel_id)
            return credentials if credentials.get("TOKEN") or credentials.get("PASSWORD") else None
        except AuthError:
            return None

    return overview(calendar, Vault(console.store), static)


@page("admin")
def connections_page(request: Request, console: Console, me: Account) -> Response:
    rows = channel_overview(console)
    response = render(request, console, "connections.html.j2", me, rows=rows, callback=callback_url(request))
    # The Connect form's answer redirects to the platform: this page's CSP lets its forms go there, and nowhere else.
    csp = dict(SecurityHeaders.HEADERS)[b"content-security-policy"].decode("ascii")
    targets = " ".join(sorted(authorize_origins(console, [r.channel_id for r in rows if r.can_connect])))
    response.headers["content-security-policy"] = csp.replace("form-action 'self'", f"form-action 'self' {targets}".strip())
    return response


def authorize_origins(console: Console, channel_ids: list[str]) -> set[str]:
    """Where the Connect buttons send the browser: each OAuth channel's authorize origin."""
    calendar = console.calendar()
    settings = settings_of(console)
    found = set()
    for channel_id in channel_ids:
        spec = platform_of(calendar.channel(channel_id).platform).oauth
        if spec is None:
            continue
        try:
            _credentials, api = settings(channel_id)
        except AuthError:
            api = {}
        parts = urlsplit(spec.endpoints(api)[0])
        found.add(f"{parts.scheme}://{parts.netloc}")
    return found


@page("admin", post=True)
def connect_action(request: Request, console: Console, me: Account) -> Response:
    calendar = console.calendar()
    if calendar is None:
        return _back(request, "Not done: the calendar cannot be read; fix it first.", "/connections")
    session = request.state.session
    try:
        url = start(Vault(console.store), calendar, _fields(request).get("channel", ""), settings_of(console),
                    redirect_uri=callback_url(request), bound_to=binding_of_session(session.csrf), by=me.name,
                    now=console.clock.now())
    except (ConnectError, TokenKeyMissing) as error:
        return _back(request, f"Not connected: {error}", "/connections")
    return RedirectResponse(url, status_code=303)  # to the platform's own consent page


@page("admin")
def callback(request: Request, console: Console, me: Account) -> Response:
    calendar = console.calendar()
    params = request.query_params
    session = request.state.session
    mine = {binding_of_session(session.csrf), binding_of_api(me.name)}
    try:
        if calendar is None:
            raise ConnectError("the calendar cannot be read; fix it, then press Connect again")
        done = finish(Vault(console.store), calendar, settings_of(console), state=params.get("state", ""),
                      code=params.get("code"), error=params.get("error"), bound=lambda bound_to: bound_to in mine,
                      now=console.clock.now(), by=me.name)
    except (ConnectError, TokenKeyMissing, TokenKeyWrong) as error:
        return _error(request, console, me, 400, f"Not connected: {error}")
    console.store.add_audit(console.clock.now(), me.name, "connect", done.channel_id,
                            f"{done.platform} account {done.account}, scopes {' '.join(done.scopes)}")
    until = f"{done.expires_at:%Y-%m-%d %H:%M} UTC" if done.expires_at else "no end"
    response = RedirectResponse(f"{_base(request)}/connections", status_code=303)
    response.set_cookie(FLASH_COOKIE, console.signer.flash(f"{done.channel_id} connected as {done.account} "
                                                         f"(access token until {until})"),
                        max_age=60, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path=_base(request) or "/")
    return response


def routes() -> list[Route]:
    return [Route("/connections", connections_page, methods=["GET"]),
            Route("/connections/connect", connect_action, methods=["POST"]),
            Route(CALLBACK, callback, methods=["GET"])]

