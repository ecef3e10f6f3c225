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


def make_rig(tmp_path: Path) -> Rig:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
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
    import os
    import subprocess

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


def form_fields(html: str) -> list[tuple[str, str]]:
    """What a browser submits for the page's edit form as it stands (no button pressed)."""
    from html.parser import HTMLParser

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
