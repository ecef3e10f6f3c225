"""CLI for the console: `web` serves it, `user` manages its accounts."""

from __future__ import annotations

import gc
import signal
import sys
from pathlib import Path
from typing import Annotated, List, Optional
from urllib.parse import quote

import typer
import uvicorn

from application.cli_support import DEFAULT_CALENDAR, EXIT_BAD_INPUT, CalendarOption, clock_or_exit, store_clock_or_exit
from application.commands.api_tokens import user_token
from application.commands.scheduler import BuildOption, DbOption, _store, _who, store_errors
from console.accounts import AccountError, Accounts, change_role
from console.app import ConsoleConfig
from scheduler.store.known import known_ids, unknown_message

user_app = typer.Typer(help="Accounts of the web console: add, list, remove, change a role, set a password, API tokens.",
                       no_args_is_help=True)


#: How long an idle connection stays open. uvicorn's 5 s default is shorter than a reverse proxy's
#: (nginx keeps upstream connections 60 s): the proxy then sends a request down a connection the
#: console has just closed, and answers 502, also to a POST it may not retry (an approval). The
#: README's nginx file keeps its idle connections 60 s, under this. A busy client that comes back
#: after more than 5 s no longer finds its connection closed either (likely what bench_console's
#: overloaded calendar clients met in some runs: ReadError, RemoteProtocolError).
KEEP_ALIVE_SECONDS = 75


def web(calendar: CalendarOption = DEFAULT_CALENDAR, db: DbOption = None, build_dir: BuildOption = Path("build"),
        inbox_dir: Annotated[Path, typer.Option("--inbox-dir", help="The designers' inbox (its rejected/ folder is shown).")] = Path("inbox"),
        host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 8080,
        root_path: Annotated[str, typer.Option("--root-path", help="The path prefix a reverse proxy serves the console under, e.g. /console.")] = "",
        forwarded_allow_ips: Annotated[Optional[str], typer.Option("--forwarded-allow-ips", help="The reverse proxy (addresses, comma-separated) whose X-Forwarded-For/-Proto headers are trusted; without it they are ignored, so no client can pick its own address for the login limit.")] = None,
        queue: Annotated[Optional[str], typer.Option("--queue", help="PostgreSQL URL of the render queue: uploads and 'render again' put one job per output on it for render workers (`worker --queue`) instead of rendering in the console.")] = None) -> None:
    """Serve the team's console: calendar, review, operations and results, in a browser."""
    # imported when the console is served: its pages and API (FastAPI, the routers' models) cost
    # ~0.45 s of CPU (measured), which every other command would pay at start
    from console.server import create_app

    store = _store(db)  # a mistyped --db must not serve an empty new store
    app = create_app(ConsoleConfig(db=db, calendar=calendar, build=build_dir, inbox=inbox_dir, render_queue=queue), clock=clock_or_exit(), store=store)  # create_app reads the store's clock first

    if not Accounts(store.engine).all():
        print("No console account yet: add one with `python run.py user add NAME --role admin"
              + (f" --db {db}" if db else "") + "`", file=sys.stderr)
    print(f"console on http://{host}:{port}{root_path}/ (store: {store.shown_url})", file=sys.stderr)
    # uvicorn stops gracefully on SIGTERM, then raises the signal again for the handler that was
    # there before it: with the default one the process died with 143; this one makes systemd's
    # stop a clean stop (exit 0, as the README says).
    signal.signal(signal.SIGTERM, lambda *_: None)
    # pages are made in worker threads (console.offload): a shorter switch interval hands the
    # interpreter back to the event loop and the health check sooner (5 ms by default)
    sys.setswitchinterval(0.001)
    # what create_app built (modules, templates, the store's tables) lives as long as the process:
    # frozen, the collector's full passes no longer walk it. Measured with 50 clients loading a
    # 10,000-post calendar (bench_console): each full pass held every thread for 200-320 ms, ~20
    # times in 20 s, the tail of /healthz and /live; frozen, 80-100 ms
    gc.collect()
    gc.freeze()
    # and its pages leave no garbage cycles (console.app.ReleasingTemplate): what a page makes goes
    # by reference counting, so the young objects the collector counts are the pages being made,
    # not garbage. A first pass at 50,000 of them instead of 700 (a calendar page holds ~3,000):
    # under the same 50 clients, 232 passes in 25 s instead of ~2,000, 3 full ones instead of
    # ~16, ~0.2 s of stopped threads instead of 1-1.7 s. Higher before the cycles were gone, each
    # pass only found more garbage to walk.
    gc.set_threshold(50_000, 10, 10)
    # uvicorn trusts X-Forwarded-* from 127.0.0.1 (or $FORWARDED_ALLOW_IPS) unless told: only the named proxy here
    uvicorn.run(app, host=host, port=port, root_path=root_path, proxy_headers=bool(forwarded_allow_ips),
                forwarded_allow_ips=forwarded_allow_ips or "", log_level="info", access_log=False,
                timeout_keep_alive=KEEP_ALIVE_SECONDS)


def _accounts(db: str | None, *, existing: bool = True):  # type: ignore[no-untyped-def]
    """The store's accounts; a SQLite file that is not there is refused (a typo in --db), except
    by `user add` (`existing=False`), which may make the first account before `schedule`."""
    store = _store(db, existing=existing)
    return store, Accounts(store.engine)


def _known_channels_or_exit(store, channels: list[str], calendar: Path) -> None:  # type: ignore[no-untyped-def]
    """Every --channel must be a channel of the calendar or the store: a typo (embassy-tokio)
    would give an approver a channel that never has a post, without a word."""
    if not channels:
        return
    known = known_ids(store, calendar).channels
    where = f"{calendar} or the store {store.shown_url}"
    problems = [m for c in channels if (m := unknown_message("channel", c, known, where))]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise typer.Exit(EXIT_BAD_INPUT)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password (at least 10 characters)", hide_input=True, confirmation_prompt=True)


def user_add(name: str, role: Annotated[str, typer.Option("--role", help="viewer, approver, editor, designer or admin.")],
             channel: Annotated[Optional[List[str]], typer.Option("--channel", help="An approver approves only these channels (repeat); default: all.")] = None,
             password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")] = False,
             link: Annotated[Optional[str], typer.Option("--link", help="No password now: print a one-time link (valid 48 h) where the person sets it; give the console's address, e.g. https://campaign.example/console.")] = None,
             by: Annotated[Optional[str], typer.Option("--by")] = None, db: DbOption = None,
             calendar: CalendarOption = DEFAULT_CALENDAR) -> None:
    """Add an account; the password is prompted (hashed with Argon2, never stored as typed), or
    the person sets it through a one-time link (--link CONSOLE_URL)."""


    store, accounts = _accounts(db, existing=False)
    _known_channels_or_exit(store, channel or [], calendar)
    try:
        password = None if link else _password(password_stdin)
        added = accounts.add(name, role, password, by=_who(by), now=store_clock_or_exit(store).now(), channels=channel)
        if link:
            token = accounts.invitation(added.name, accounts.signing_key())
            print(f"one-time link for {added.name} (valid 48 hours; send it privately): "
                  f"{link.rstrip('/')}/welcome?token={quote(token)}")
    except AccountError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    store.add_audit(store_clock_or_exit(store).now(), _who(by), "user-add", added.name,
                    f"role {added.role}" + (f", channels {', '.join(added.channels)}" if added.channels else ""))
    print(f"added {added.name} ({added.role}" + (f" for {', '.join(added.channels)}" if added.channels else "") + ")")


def user_list(db: DbOption = None) -> None:
    """Every account, its role and the channels it approves for."""
    _, accounts = _accounts(db)
    for account in accounts.all():
        print(f"{account.name}\t{account.role}\t{', '.join(account.channels) if account.channels else 'all channels'}")


def user_remove(name: str, by: Annotated[Optional[str], typer.Option("--by")] = None, db: DbOption = None) -> None:
    """Remove an account (its sessions end with it)."""
    store, accounts = _accounts(db)
    if not accounts.remove(name):
        print(f"no account named {name}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    store.add_audit(store_clock_or_exit(store).now(), _who(by), "user-remove", name)
    print(f"removed {name}")


def user_role(name: str, role: str,
              channel: Annotated[Optional[List[str]], typer.Option("--channel", help="An approver approves only these channels (repeat); default: all.")] = None,
              calendar: CalendarOption = DEFAULT_CALENDAR, by: Annotated[Optional[str], typer.Option("--by")] = None,
              db: DbOption = None) -> None:
    """Give an account another role (and channels); its sessions go on with the new rights. Audited."""
    store, accounts = _accounts(db)
    try:
        print(change_role(store, accounts, name, role, channel, by=_who(by), now=store_clock_or_exit(store).now(), calendar=calendar))
    except AccountError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def user_password(name: str, password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
                  db: DbOption = None) -> None:
    """Set a new password (every session of the account ends)."""

    _, accounts = _accounts(db)
    try:
        accounts.set_password(name, _password(password_stdin))
    except AccountError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    print(f"password of {name} changed; its sessions ended")


def register(app: typer.Typer) -> None:
    app.command("web")(store_errors(web))

    for name, command in (("add", user_add), ("list", user_list), ("remove", user_remove), ("role", user_role),
                          ("password", user_password), ("token", user_token)):
        user_app.command(name)(store_errors(command))
    app.add_typer(user_app, name="user")
