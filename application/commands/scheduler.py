"""CLI for the scheduler: schedule, daemon, status, approve, send-back, pause, resume, resolve (the
last five are `scheduler.actions`, which the console calls too)."""

from __future__ import annotations

import functools
import getpass
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from application.cli_support import (
    DEFAULT_CALENDAR, EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL, CalendarOption, clock_or_exit, load_or_exit,
    store_clock_or_exit,
)
from campaign.errors import CampaignError
from campaign.secrets import scrub
from emulators import Sandbox
from emulators.serve import RemoteSandbox
from scheduler import actions
from scheduler.actions import ActionError
from application.connect_sandbox import connect_sandbox, sandbox_vault
from scheduler.connections.connect import overview, stored_row
from scheduler.connections.job import TokenJob
from scheduler.connections.keys import TokenKeyMissing, TokenKeyWrong
from scheduler.connections.vault import Vault
from scheduler.daemon import Daemon, DaemonConfig, DispatchConfig
from scheduler.daemon.logs import EventLog, configure
from scheduler.daemon.publishers import PublisherPool
from scheduler.notify.job import INTERVAL, NotifyJob
from scheduler.plan import plan_posts
from scheduler.platforms.base import AuthError
from scheduler.platforms.checkup import check_channels
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import platform_of
from scheduler.results.collect import Collector
from scheduler.store import Store, states, sync_plan
from scheduler.store import engine as store_engine
from scheduler.store.clock import StoreClock
from scheduler.store.engine import ENV_URL, resolve_url, sqlite_file
from scheduler.store.problems import EXIT_STORE, describe, is_store_error, masked_url
from scheduler.store.status import build_status, render_status

SANDBOX_DB = "sqlite:///sandbox.db"
DbOption = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL of the store (default: $CAMPAIGN_DB_URL or sqlite:///campaign.db).")]
ByOption = Annotated[Optional[str], typer.Option("--by", help="Who does this (recorded in the audit trail; default: your login).")]
BuildOption = Annotated[Path, typer.Option("--build", "--build-dir", help="Where rendered assets are.")]


def _on_sandbox_store(db: str | None) -> bool:
    """True when a command works on the rehearsal's store (`daemon --sandbox` keeps sandbox.db)."""
    url = db or os.environ.get(ENV_URL) or ""
    return url.rstrip("/").endswith("sandbox.db")


def _store(db: str | None, *, existing: bool = True):  # type: ignore[no-untyped-def]
    """Open the store; with `existing` (every command but schedule and daemon) a SQLite file
    that is not there is a mistyped --db, not a new empty store to report on."""
    url = resolve_url(db)
    path = sqlite_file(url)
    if existing and path is not None and not path.exists():
        print(f"no store at {path} ({masked_url(url)}) — run `python run.py schedule` there first, or fix --db / "
              "$CAMPAIGN_DB_URL", file=sys.stderr)
        raise typer.Exit(EXIT_STORE)
    if path is not None and path.exists():
        _say_if_locked(path)
    return Store(db)


def _say_if_locked(path: Path) -> None:
    """A store another process holds locked makes a command wait (up to the busy timeout) before
    it answers: say so at once rather than stay silent for 30 s."""
    try:
        probe = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return  # not openable: the command says why
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            print(f"{path} is locked by another process (a backup, a long write): waiting up to "
                  f"{store_engine.BUSY_TIMEOUT_MS // 1000} s for it...", file=sys.stderr, flush=True)
    except sqlite3.Error:
        pass
    finally:
        probe.close()


def store_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Any failure of the store (bad URL, missing folder, corrupt or read-only file, no such
    PostgreSQL database, locked) becomes one line and exit `EXIT_STORE`, and a named error of
    the tool (a broken template) its message and exit 2: never a traceback."""

    @functools.wraps(command)
    def guarded(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except CampaignError as error:  # a broken caption template met while planning, ...
            print(str(error), file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except Exception as error:
            if not is_store_error(error):
                raise
            print(describe(error, resolve_url(kwargs.get("db"))), file=sys.stderr)
            raise typer.Exit(EXIT_STORE) from None

    return guarded


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "unknown user"


def schedule(calendar: CalendarOption = DEFAULT_CALENDAR, db: DbOption = None,
             build_dir: BuildOption = Path("build")) -> None:
    """Plan the calendar and sync the plan into the store (twice in a row changes nothing)."""
    env_clock = clock_or_exit(real_posts=not _on_sandbox_store(db))
    loaded = load_or_exit(calendar)
    store = _store(db, existing=False)
    clock = StoreClock(store, env_clock)  # a rehearsal's store plans in its campaign time
    plan = plan_posts(loaded, build_dir=build_dir, today=clock.now().date())
    for issue in plan.issues:
        print(f"{issue.severity}: {issue.moment_id}/{issue.channel_id or '-'}/{issue.language or '-'}: {issue.message}",
              file=sys.stderr)
    report = sync_plan(store, plan, clock.now(), actor=_who(None))
    print(f"{store.shown_url}: {report.summary()}")
    for post_id, why in report.drift:
        print(f"drift: {post_id}: {why}")
    for post_id in report.cancelled:
        print(f"cancelled: {post_id}: {report.cancel_reasons.get(post_id, 'removed from the calendar')}")
    for post_id in report.held:
        print(f"held (plan error, will not be published until the calendar is fixed): {post_id}")
    for post_id in report.unapproved:
        print(f"needs approval again (changed after approval): {post_id}")
    for post_id in report.released:
        print(f"sent back, now changed: waits for approval again: {post_id}")

    for held in store.all_posts(state=states.SENT_BACK):
        print(f"sent back, held until its calendar entry or asset changes: {held.id}: {held.state_reason}")
    errors = [i for i in plan.issues if i.severity == "error"]
    raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def daemon(calendar: CalendarOption = DEFAULT_CALENDAR, db: DbOption = None,
           sandbox: Annotated[bool, typer.Option("--sandbox", help="Rehearse in real time: publish to local emulators, not real accounts (store: sandbox.db unless --db).")] = False,
           json_logs: Annotated[bool, typer.Option("--json-logs", help="Log JSON lines.")] = False,
           once: Annotated[bool, typer.Option("--once", help="Sync, publish what is due now, exit.")] = False,
           interval: Annotated[float, typer.Option("--interval", min=0.5, help="Seconds between dispatch ticks (at least 0.5: a due post arms its own wake-up).")] = 30.0,
           heartbeat_file: Annotated[Path, typer.Option("--heartbeat-file")] = Path("campaign.heartbeat"),
           build_dir: BuildOption = Path("build"),
           outbox_dir: Annotated[Path, typer.Option("--outbox-dir")] = Path("outbox"),
           inbox_dir: Annotated[Path, typer.Option("--inbox-dir")] = Path("inbox"),
           queue: Annotated[Optional[str], typer.Option("--queue", help="PostgreSQL URL of the render queue: inbox drops become "
                                                                        "jobs for `worker`s instead of rendering here.")] = None,
           results: Annotated[bool, typer.Option("--results/--no-results", help="Collect published posts' figures at their set ages (default: on).")] = True,
           emulators: Annotated[Optional[Path], typer.Option("--emulators", help="Publish to emulators running in another process (the state file `python -m emulators.serve` writes), as in --sandbox.")] = None) -> None:
    """Publish due posts unattended: SIGTERM stops cleanly, SIGHUP reloads the calendar."""
    log = EventLog(configure(json_lines=json_logs))
    clock = clock_or_exit(real_posts=not sandbox and emulators is None)
    if not heartbeat_file.parent.is_dir():
        print(f"--heartbeat-file {heartbeat_file}: the folder {heartbeat_file.parent} does not exist — create it or "
              "choose another place", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    loaded = load_or_exit(calendar, quiet_warnings=True)  # bad calendar: problems with lines, exit 2
    if sandbox and db is None and not os.environ.get(ENV_URL):
        db = SANDBOX_DB  # a rehearsal never marks posts published in the real store
    store = _store(db, existing=False)
    holder: dict = {}
    box = None
    if emulators is not None:
        box = RemoteSandbox(emulators)
        log.event("sandbox", f"publishing to the emulators described in {emulators}")
    elif sandbox:
        box = Sandbox(loaded.calendar, build_dir, clock=clock)
        for platform in sorted({c.platform.value for c in loaded.calendar.channels if platform_of(c.platform).has_account}):
            log.event("sandbox", f"{platform} emulator listening at {box.emulator(platform).base_url}")
        log.event("sandbox", f"store {store.shown_url}; outbox {outbox_dir}/; posts of channels that need approval "
                             "wait for `python run.py approve --db " + store.shown_url + " ...`")
    if sandbox:  # the sandbox's X and LinkedIn channels connect through their emulators: tokens live as on the platforms
        vault = sandbox_vault(store)
        connected = connect_sandbox(vault, box, loaded.calendar, clock.now())
        if connected:
            log.event("sandbox", f"connected through the emulators' OAuth: {', '.join(connected)}")
    else:
        vault = open_vault(store)
    pool = PublisherPool(lambda: holder["daemon"].loaded.calendar, sandbox=box, outbox_dir=outbox_dir, clock=clock,
                         vault=vault)
    config = DaemonConfig(calendar_path=calendar, interval_seconds=interval, heartbeat_file=heartbeat_file,
                          inbox_dir=inbox_dir, render_queue=queue, dispatch=DispatchConfig(build_dir=build_dir),
                          clock_purpose="emulators" if emulators is not None else "sandbox")
    # Figures are read through publishers of their own: a slow figures request never holds a publish.
    collect_pool = PublisherPool(lambda: holder["daemon"].loaded.calendar, sandbox=box, outbox_dir=outbox_dir,
                                 clock=clock, vault=vault) if results else None
    collector = Collector(store, clock, collect_pool, log=log) if collect_pool is not None else None
    current = lambda: holder["daemon"].loaded.calendar if holder["daemon"].loaded else None  # noqa: E731
    tokens = TokenJob(store, clock, vault, pool, current, log)
    service = Daemon(store, clock, pool, config, log=log, collector=collector, tokens=tokens.renewer)
    holder["daemon"] = service
    notifier = NotifyJob(store, clock, current, log)
    service.add_job("notify", INTERVAL, notifier.run_once)  # digests on their own job: never delays a post
    tokens.attach(service, collect_pool)  # tokens renewed before they expire, on a job of their own
    try:
        if once:
            report = service.run_once()
            print(json.dumps({k: v for k, v in vars(report).items()}, ensure_ascii=False))
            code = EXIT_OK
        else:
            code = service.run_forever()
    finally:
        pool.close()
        if collect_pool is not None:
            collect_pool.close()
        if box is not None:
            box.stop()
        store.close()
    raise typer.Exit(code)


def open_vault(store: Store) -> Vault:
    """The store's token vault; when channels are connected there, its key must be at hand (exit 2 says where)."""
    vault = Vault(store)
    try:
        stored = vault.all()
        if stored:  # read one token now: a daemon without the right key must not start
            vault.get(stored[0].channel_id)
    except (TokenKeyMissing, TokenKeyWrong) as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return vault


def _static_or_none(pool: PublisherPool, channel_id: str) -> Credentials | None:
    try:
        return pool.static_credentials(channel_id)
    except AuthError:
        return None


def check(calendar: CalendarOption = DEFAULT_CALENDAR,
          channel: Annotated[Optional[list[str]], typer.Option("--channel", help="Only this channel (repeatable).")] = None,
          db: Annotated[Optional[str], typer.Option("--db", help="The store whose connected channels to check (default: $CAMPAIGN_DB_URL, or campaign.db when it exists).")] = None,
          sandbox: Annotated[bool, typer.Option("--sandbox", help="Check against the local emulators (what the rehearsal uses).")] = False,
          build_dir: BuildOption = Path("build")) -> None:
    """Before a campaign: per channel, when its access token expires and whether it renews itself,
    credentials present and accepted by the platform, API version served, Instagram's media host
    reachable. One line per problem with the fix; exit 1 if any."""
    clock = clock_or_exit()
    loaded = load_or_exit(calendar, quiet_warnings=True)
    box = None
    store = vault = None
    scratch = None
    if sandbox:  # the emulators, and the OAuth channels connected through them as the demo connects them
        box = Sandbox(loaded.calendar, build_dir, clock=clock)
        scratch = tempfile.TemporaryDirectory(prefix="check-sandbox-")
        store = Store(f"sqlite:///{Path(scratch.name) / 'check.db'}")
        vault = sandbox_vault(store)
        connect_sandbox(vault, box, loaded.calendar, clock.now())
    elif db is not None or os.environ.get(ENV_URL) or Path("campaign.db").exists():
        store = _store(db)  # the channels connected in the console are in its vault
        vault = open_vault(store)
    pool = PublisherPool(lambda: loaded.calendar, sandbox=box, clock=clock, timeout=15.0, vault=vault)
    try:
        unknown = sorted(set(channel or ()) - {c.id for c in loaded.calendar.channels})
        if unknown:
            print(f"no channel {', '.join(unknown)} in {calendar}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT)
        reports = check_channels(loaded.calendar, pool, channel)
        tokens = [r.line() for r in overview(loaded.calendar, vault, lambda cid: _static_or_none(pool, cid))
                  if (not channel or r.channel_id in channel) and (r.how != "not connected" or r.can_connect)]
    finally:
        pool.close()
        if box is not None:
            box.stop()
        if store is not None:
            store.close()
        if scratch is not None:
            scratch.cleanup()
    for line in tokens:
        print(line)
    for line in (line for report in reports for line in report.lines()):
        print(line)
    problems = sum(1 for r in reports for p in r.problems if not p.note)
    ok = sum(1 for r in reports if r.ready)
    print(f"{ok} of {len(reports)} channels ready" + (f"; {problems} problem{'s' if problems != 1 else ''}" if problems else ""))
    raise typer.Exit(EXIT_PARTIAL if problems else EXIT_OK)


def status(db: DbOption = None, as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Posts per state and channel, what goes out next, what failed and why, what needs a human."""


    store = _store(db)
    clock = store_clock_or_exit(store)  # the store's clock: a rehearsal's store reads its campaign time
    report = build_status(store, clock.now())
    report["clock"] = clock.info()
    connections = [stored_row(c) for c in Vault(store, create=False).all()]
    report["connections"] = [{"channel": r.channel_id, "connection": r.how, "expires_at": _iso(r.expires_at),
                              "renews_itself": r.renews, "stops_at": _iso(r.stops_at), "line": r.line()} for r in connections]
    text = render_status(report)
    if connections:
        text += "\n\nConnections (tokens in the store):\n" + "\n".join("  " + r.line() for r in connections)
    # Rows stored before secrets were scrubbed on the way in may still hold one: never print it.
    print(scrub(json.dumps(report, ensure_ascii=False, indent=2) if as_json else text))


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _act(action, **kwargs) -> None:  # type: ignore[no-untyped-def]
    """Run one shared action (scheduler.actions) and print its outcome; a refusal exits 2."""

    db = kwargs.pop("db")
    try:
        store = _store(db)
        outcome = action(store, now=store_clock_or_exit(store).now(), **kwargs)
    except ActionError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    print(outcome.message)


def approve(post: Annotated[Optional[str], typer.Option("--post")] = None,
            moment: Annotated[Optional[str], typer.Option("--moment")] = None,
            channel: Annotated[Optional[str], typer.Option("--channel")] = None,
            by: ByOption = None, db: DbOption = None, calendar: CalendarOption = DEFAULT_CALENDAR) -> None:
    """Approve the waiting posts of one post, moment or channel (recorded in the audit trail)."""

    _act(actions.approve, db=db, by=_who(by), post=post, moment=moment, channel=channel, calendar=calendar)


def send_back(post: Annotated[str, typer.Option("--post")],
              comment: Annotated[str, typer.Option("--comment", help="Why: shown to whoever edits the calendar or assets.")],
              by: ByOption = None, db: DbOption = None) -> None:
    """Hold a post that has not gone out, with a comment, until its calendar entry or asset changes."""

    _act(actions.send_back, db=db, by=_who(by), post=post, comment=comment)


def pause(reason: Annotated[str, typer.Option("--reason", help="Why (shown in status and the audit trail).")],
          channel: Annotated[Optional[str], typer.Option("--channel", help="One channel; default: all.")] = None,
          by: ByOption = None, db: DbOption = None, calendar: CalendarOption = DEFAULT_CALENDAR) -> None:
    """Stop posting at once (one channel or all) until `resume`."""

    _act(actions.pause, db=db, by=_who(by), channel=channel, reason=reason, calendar=calendar)


def resume(channel: Annotated[Optional[str], typer.Option("--channel", help="One channel; default: all paused.")] = None,
           by: ByOption = None, db: DbOption = None, calendar: CalendarOption = DEFAULT_CALENDAR) -> None:
    """Start posting again after `pause` (or after re-authorising an account)."""

    _act(actions.resume, db=db, by=_who(by), channel=channel, calendar=calendar)


def resolve(post: Annotated[str, typer.Option("--post")],
            published: Annotated[bool, typer.Option("--published/--not-published", help="What you found on the platform.")],
            url: Annotated[Optional[str], typer.Option("--url")] = None, by: ByOption = None, db: DbOption = None) -> None:
    """Settle an "unknown, check" post after looking at the platform."""

    _act(actions.resolve, db=db, by=_who(by), post=post, published=published, url=url)


def register(app: typer.Typer) -> None:
    for name, command in (("schedule", schedule), ("daemon", daemon), ("status", status), ("approve", approve),
                          ("send-back", send_back), ("pause", pause), ("resume", resume), ("resolve", resolve)):
        app.command(name)(store_errors(command))
    app.command("check")(check)  # reads a store only for its connected channels (none: env and secrets file)
