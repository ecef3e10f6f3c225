"""The daemon checks every channel when it starts (issue 11): a channel whose platform refuses
its credentials is paused with the reason, `status` shows it, nothing is lost; once fixed,
the next start resumes it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from campaign.clock import SystemClock
from testkit.scheduler import LedgerPublisher, make_post
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from scheduler.daemon import Daemon, DaemonConfig
from emulators import start_emulator
from scheduler.store.status import build_status, render_status

ROOT = Path(__file__).resolve().parents[3]


def test_daemon_start_pauses_a_channel_that_cannot_publish_and_resumes_it_once_fixed(sqlite_store, tmp_path):
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    x = start_emulator("x", token="the-right-token", account="Belgium")
    tokens = {"be-x": "a-revoked-token"}
    ledger = LedgerPublisher(tmp_path / "ledger.jsonl")

    def publishers(channel_id: str):
        if channel_id != "be-x":
            return ledger  # every other channel can publish
        daemon_calendar = daemon.loaded.calendar
        return publisher_for(daemon_calendar.channel("be-x"), credentials=Credentials("be-x", "x", {"TOKEN": tokens["be-x"]}),
                             api_overrides={"base_url": x.api_url}, timeout=5.0)

    config = DaemonConfig(calendar_path=calendar, interval_seconds=30, heartbeat_file=None, inbox_dir=None)
    later = make_post("later", channel="be-x", at=SystemClock().now() + dt.timedelta(days=2))
    daemon = Daemon(sqlite_store, SystemClock(), publishers, config, planner=lambda loaded, *, build_dir, today: [later])
    try:
        daemon.load_and_sync()
        reports = daemon.check_channels()
        assert [r.channel_id for r in reports if r.blocking] == ["be-x"]
        state = sqlite_store.channel_states()["be-x"]
        assert state["paused"] and state["paused_by"] == Daemon.CHECK_ACTOR and "token" in state["reason"]
        shown = render_status(build_status(sqlite_store, SystemClock().now()))
        assert "PAUSED be-x" in shown and "resume --channel be-x" in shown
        assert not sqlite_store.channel_states().get("be-facebook", {}).get("paused")
        assert sqlite_store.get(later.id).state == "due"  # the post waits; nothing is lost

        tokens["be-x"] = "the-right-token"  # the manager stores a working token and restarts
        assert not [r for r in daemon.check_channels() if r.blocking]
        assert not sqlite_store.channel_states()["be-x"]["paused"]
    finally:
        x.stop()


def test_a_pause_by_a_person_is_never_lifted_by_the_check(sqlite_store, tmp_path):
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    config = DaemonConfig(calendar_path=calendar, interval_seconds=30, heartbeat_file=None, inbox_dir=None)
    ledger = LedgerPublisher(tmp_path / "ledger.jsonl")
    daemon = Daemon(sqlite_store, SystemClock(), lambda _c: ledger, config, planner=lambda loaded, *, build_dir, today: [])
    daemon.load_and_sync()
    sqlite_store.pause("be-x", "crisis communication: hold everything", "press office", SystemClock().now())
    daemon.check_channels()
    assert sqlite_store.channel_states()["be-x"]["paused"]
