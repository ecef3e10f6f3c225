"""The console as one Starlette app: the pages of `console/app.py`, the feature modules built on
its `page()` and `render()` (review, subtitles, the media desk), the JSON API, the static files and the
middleware. It sits above all of them, so no console module imports one that imports it back.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from campaign.clock import Clock, SystemClock
from console import connections, desk, edit, media, review
from console.accounts import Accounts
from console.api import PREFIX as API_PREFIX
from console.api import create_api
from console.app import (
    HERE, Console, ConsoleConfig, SecurityHeaders, _back, _current, _error, approve_action, audit_page, calendar_page,
    fonts_css, health, known_secrets, live_fragment, login_action, login_page, logout_action, make_environment,
    operations_page, page, pause_action, post_page, render, resolve_action, results_page, resume_action,
    send_back_action, thumbnail, user_add_action, user_remove_action, user_role_action, users_page, watch_store,
    welcome_action, welcome_page,
)
from console.security import FormLimit, ScrubAnswers
from console.sessions import SessionSigner
from console.subtitles import routes as subtitle_routes
from scheduler.store import Store
from scheduler.store.clock import StoreClock


def create_app(config: ConsoleConfig | None = None, *, clock: Clock | None = None, store: Store | None = None) -> Starlette:
    config = config or ConsoleConfig()
    store = store or Store(config.db)
    accounts = Accounts(store.engine)
    key = accounts.signing_key()
    secrets = known_secrets(store.url, key)
    # One clock per store: a rehearsal's store shows its campaign time, whatever this process's environment says.
    console = Console(config, store, accounts, SessionSigner(key), StoreClock(store, clock or SystemClock()), secrets)
    console.watch = watch_store(store)

    routes = [
        Route("/", calendar_page, methods=["GET"]),
        Route("/posts/{post_id:path}", post_page, methods=["GET"]),
        Route("/thumb/{post_id:path}", thumbnail, methods=["GET"]),
        Route("/operations", operations_page, methods=["GET"]),
        Route("/results", results_page, methods=["GET"]),
        Route("/audit", audit_page, methods=["GET"]),
        Route("/users", users_page, methods=["GET"]),
        Route("/live", live_fragment, methods=["GET"]),
        Route("/fonts.css", fonts_css, methods=["GET"]),
        Route("/approve", approve_action, methods=["POST"]),
        Route("/send-back", send_back_action, methods=["POST"]),
        Route("/pause", pause_action, methods=["POST"]),
        Route("/resume", resume_action, methods=["POST"]),
        Route("/resolve", resolve_action, methods=["POST"]),
        Route("/users/add", user_add_action, methods=["POST"]),
        Route("/users/remove", user_remove_action, methods=["POST"]),
        Route("/users/role", user_role_action, methods=["POST"]),
        Route("/logout", logout_action, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_action, methods=["POST"]),
        Route("/welcome", welcome_page, methods=["GET"]),
        Route("/welcome", welcome_action, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
        # signed media addresses for Instagram and Threads (no login); on the real clock, as the daemon signs them
        *media.routes(config.build, SystemClock()),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        *subtitle_routes(),
        Mount(API_PREFIX, create_api(console)),  # JSON, Bearer tokens: its own auth and errors (console/api)
        *review.ROUTES,
        *edit.routes(),  # calendar editing, history, revert (console/edit.py)
        *connections.routes(),  # connecting channels with the platforms' OAuth (console/connections.py)
        *desk.routes(console, page=page, render=render, back=_back, error=_error, current=_current),  # the media desk
    ]
    app = Starlette(routes=routes)
    app.router.redirect_slashes = False  # its redirect names the Host the client sent (`Host: evil.example`)
    app.add_middleware(ScrubAnswers, secrets=secrets)
    app.add_middleware(FormLimit)
    app.add_middleware(SecurityHeaders)
    app.state.console = console
    app.state.env = make_environment(secrets)
    return app
