"""Shared by the console tests: a store planned from the sample calendar, three accounts, logging in."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from campaign.calendar.loader import LoadedCalendar, load_calendar
from campaign.clock import FakeClock
from console.accounts import Accounts
from scheduler.plan import plan_posts
from scheduler.store import Store, sync_plan

REPO = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
#: Channels that need approval in the test calendar (the sample has only be-linkedin).
APPROVAL_CHANNELS = ("be-linkedin", "embassy-tokyo")
PASSWORDS = {"vera": "viewer-pass-123", "tomo": "approver-pass-123", "ada": "admin-pass-1234"}


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
