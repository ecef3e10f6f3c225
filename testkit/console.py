"""Shared by the console tests: a store planned from the sample calendar, three accounts, logging in."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import subprocess
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from campaign.calendar.loader import LoadedCalendar, load_calendar
from campaign.clock import FakeClock
from console.accounts import Accounts
from scheduler.plan import plan_posts
from scheduler.store import Store, sync_plan

REPO = Path(__file__).resolve().parents[1]
START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
#: Channels that need approval in the test calendar (the sample has only be-linkedin).
APPROVAL_CHANNELS = ("be-linkedin", "embassy-tokyo")
PASSWORDS = {"vera": "viewer-pass-123", "tomo": "approver-pass-123", "ada": "admin-pass-1234", "kenji": "editor-pass-123"}


@dataclass
class Rig:
    url: str
    store: Store
    accounts: Accounts
    clock: FakeClock
    build: Path
    inbox: Path
    calendar_path: Path
    loaded: LoadedCalendar


@functools.lru_cache(maxsize=1)
def planned_calendar(today: dt.date = START.date()) -> LoadedCalendar:
    sample = load_calendar(REPO / "calendar.yaml", today=today)
    channels = [c.model_copy(update={"approval": True}) if c.id in APPROVAL_CHANNELS else c
                for c in sample.calendar.channels]
    return LoadedCalendar(sample.calendar.model_copy(update={"channels": channels}), sample.path, [], {})


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):  # type: ignore[no-untyped-def]
    """Argon2 with its default cost takes about a second per hash on a busy 2-core machine; the
    tests use the same code with the smallest cost (the CLI tests' subprocesses keep the default).
    Autouse wherever it is imported: tests/console/conftest.py, and modules that build a rig."""
    from argon2 import PasswordHasher

    import console.accounts

    monkeypatch.setattr(console.accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def make_rig(tmp_path: Path, url: str | None = None) -> Rig:
    """The rig on a SQLite file in `tmp_path`, or on the store at `url`."""
    url = url or f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    clock = FakeClock(START)
    loaded = planned_calendar()
    build = tmp_path / "build"
    build.mkdir()
    sync_plan(store, plan_posts(loaded, build_dir=build, today=START.date()), clock.now())
    accounts = Accounts(store.engine)
    accounts.add("vera", "viewer", PASSWORDS["vera"], by="test", now=START)
    accounts.add("tomo", "approver", PASSWORDS["tomo"], by="test", now=START, channels=["embassy-tokyo"])
    accounts.add("ada", "admin", PASSWORDS["ada"], by="test", now=START)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Rig(url, store, accounts, clock, build, inbox, REPO / "calendar.yaml", loaded)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def login(client, name: str, password: str | None = None):  # type: ignore[no-untyped-def]
    """Log in through the form, as a browser would; returns the login response."""
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_of(page.text), "name": name,
                                       "password": password if password is not None else PASSWORDS[name], "next": "/"},
                       follow_redirects=False)


def waiting(store: Store, channel: str) -> list[str]:
    return [p.id for p in store.all_posts(state="planned") if p.channel_id == channel]


# -- calendar editing: a copy of the sample calendar in a git repository of its own --------------

def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


def make_edit_rig(tmp_path: Path) -> Rig:
    """Like make_rig, on a copy of the sample calendar committed in its own git repository (the
    console writes to it), with an editor of embassy-tokyo (kenji) beside the three accounts."""
    folder = tmp_path / "campaign"
    (folder / "assets").mkdir(parents=True)
    (folder / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (folder / "templates").symlink_to(REPO / "templates")
    path = folder / "calendar.yaml"
    path.write_bytes((REPO / "calendar.yaml").read_bytes())
    git(folder, "init", "-q")
    git(folder, "add", "calendar.yaml")
    git(folder, "commit", "-q", "-m", "The sample calendar")
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    clock = FakeClock(START)
    loaded = load_calendar(path, today=START.date())
    build = tmp_path / "build"
    build.mkdir()
    sync_plan(store, plan_posts(loaded, build_dir=build, today=START.date()), clock.now())
    accounts = Accounts(store.engine)
    accounts.add("vera", "viewer", PASSWORDS["vera"], by="test", now=START)
    accounts.add("tomo", "approver", PASSWORDS["tomo"], by="test", now=START, channels=["embassy-tokyo"])
    accounts.add("ada", "admin", PASSWORDS["ada"], by="test", now=START)
    accounts.add("kenji", "editor", PASSWORDS["kenji"], by="test", now=START, channels=["embassy-tokyo"])
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return Rig(url, store, accounts, clock, build, inbox, path, loaded)


@pytest.fixture(name="rig")
def edit_rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The edit rig as the `rig` fixture of a module that imports it: the app and server
    fixtures then serve the copy in git."""
    made = make_edit_rig(tmp_path)
    yield made
    made.store.close()


def form_fields(html: str) -> list[tuple[str, str]]:
    """What a browser submits for the page's edit form as it stands (no button pressed)."""
    class Fields(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[tuple[str, str]] = []
            self.inside = self.done = False
            self.select: str | None = None
            self.options: list[tuple[str, bool]] = []
            self.textarea: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
            a = dict(attrs)
            if tag == "form" and "edit-form" in (a.get("class") or "") and not self.done:
                self.inside = True
            if not self.inside or "disabled" in a:
                return
            if tag == "input" and a.get("name"):
                kind = a.get("type", "text")
                if kind in ("checkbox", "radio"):
                    if "checked" in a:
                        self.found.append((a["name"], a.get("value", "on")))
                elif kind not in ("submit", "button"):
                    self.found.append((a["name"], a.get("value") or ""))
            elif tag == "select":
                self.select, self.options = a.get("name"), []
            elif tag == "option" and self.select is not None:
                self.options.append((a.get("value") or "", "selected" in a))
            elif tag == "textarea" and a.get("name"):
                self.textarea = [a["name"], ""]

        def handle_endtag(self, tag: str) -> None:
            if tag == "form" and self.inside:
                self.inside, self.done = False, True
            elif tag == "select" and self.select is not None:
                chosen = [v for v, on in self.options if on] or [v for v, _ in self.options[:1]]
                self.found.append((self.select, chosen[0] if chosen else ""))
                self.select = None
            elif tag == "textarea" and self.textarea is not None:
                self.found.append((self.textarea[0], self.textarea[1]))
                self.textarea = None

        def handle_data(self, data: str) -> None:
            if self.textarea is not None:
                self.textarea[1] += data

    parser = Fields()
    parser.feed(html)
    return parser.found


# -- the review scenario's ends: one digest email on a real SMTP server, then the dispatcher ------

class _QuietLog:
    def event(self, event: str, message: str = "", **fields) -> None:  # type: ignore[no-untyped-def]
        pass


def digest_mails(store: Store, clock: FakeClock, calendar, console_url: str):  # type: ignore[no-untyped-def]
    """One notify pass with `calendar` told to e-mail the approver of embassy-tokyo (tomo) and
    an admin (ines, failures): what a real SMTP server on loopback (aiosmtpd) received, as
    (recipients, subject + body), and the calendar with its notifications."""
    # imported here: only the two review scenarios send mail (aiosmtpd is a test dependency)
    import socket
    from email import message_from_bytes
    from email.policy import default as email_policy

    from aiosmtpd.controller import Controller

    from campaign.calendar.models import EmailServer, Notifications, Recipient
    from scheduler.notify.job import NotifyJob

    mails: list = []

    class Handler:
        async def handle_DATA(self, smtp, session, envelope):  # type: ignore[no-untyped-def] # noqa: N802
            message = message_from_bytes(envelope.content, policy=email_policy)
            mails.append((envelope.rcpt_tos, message["Subject"] + "\n" + message.get_content()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    calendar = calendar.model_copy(update={"notifications": Notifications(
        console=console_url, email=EmailServer(host="127.0.0.1", port=port, security="none", sender="campaign@example.org"),
        recipients=[Recipient(email="tomo@example.org", approves=["embassy-tokyo"]),
                    Recipient(email="ines@example.org", failures=True)])})
    try:
        NotifyJob(store, clock, lambda: calendar, _QuietLog()).run_once()
    finally:
        smtp.stop()
    return mails, calendar


def publish_on_emulators(store: Store, clock: FakeClock, calendar, build: Path, outbox: Path,  # type: ignore[no-untyped-def]
                         post_ids: list[str]) -> tuple[list, list]:
    """The daemon's dispatcher, on the campaign clock, publishes `post_ids` to the emulators:
    the posts as the store has them after, and what embassy-tokyo's emulator received."""
    # imported here: only the two review scenarios publish; the other console tests need none of it
    from emulators import Sandbox
    from scheduler.daemon import DispatchConfig, Dispatcher
    from scheduler.daemon.publishers import PublisherPool
    from testkit.scheduler import render_stand_ins

    posts = store.posts_by_id(post_ids)
    render_stand_ins(posts, build)
    dispatch_clock = FakeClock(clock.now())
    sandbox = Sandbox(calendar, build)
    pool = PublisherPool(lambda: calendar, sandbox=sandbox, outbox_dir=outbox, timeout=10, options={"poll_interval": 0.02})
    dispatcher = Dispatcher(store, dispatch_clock, pool, calendar=calendar, config=DispatchConfig(build_dir=build))
    try:
        for post in posts:
            dispatch_clock.set(max(post.scheduled_at, dispatch_clock.now()))
            dispatcher.run_once()
        return store.posts_by_id(post_ids), sandbox.received("embassy-tokyo")
    finally:
        dispatcher.close()
        pool.close()
        sandbox.stop()


def wait_until_serving(base: str, server: subprocess.Popen, log_path: Path, *, timeout: float) -> None:
    """Wait until a real `web` process answers /healthz; fail with its log if it dies or is late."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/healthz", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, log_path.read_text()
        time.sleep(0.2)
