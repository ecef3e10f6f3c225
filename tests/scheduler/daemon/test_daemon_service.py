"""The APScheduler-driven daemon: jobs rebuilt from the store, a due post leaves within ~1 s,
heartbeat row and file, calendar change re-syncs, stop finishes cleanly."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

from campaign.clock import SystemClock
from schedkit import LedgerPublisher, make_post, receipts
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.store import states

ROOT = Path(__file__).resolve().parents[3]


def test_daemon_publishes_due_posts_promptly_and_reloads(sqlite_store, tmp_path):
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)
    plans = {"posts": [make_post("soon", at=soon, grace_seconds=600)]}
    planner_calls = []

    def planner(loaded, *, build_dir, today):
        planner_calls.append(today)
        return list(plans["posts"])

    ledger = tmp_path / "ledger.jsonl"
    publisher = LedgerPublisher(ledger)
    config = DaemonConfig(calendar_path=calendar, interval_seconds=30, sweep_seconds=1, inbox_seconds=60,
                          heartbeat_file=tmp_path / "campaign.heartbeat", inbox_dir=tmp_path / "inbox")
    daemon = Daemon(sqlite_store, SystemClock(), lambda _c: publisher, config, planner=planner)
    daemon.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sqlite_store.get(plans["posts"][0].id).state != states.PUBLISHED:
            time.sleep(0.05)
        row = sqlite_store.get(plans["posts"][0].id)
        assert row.state == states.PUBLISHED
        assert (row.published_at - soon).total_seconds() < 1.0  # armed wake-up, not the 30 s tick
        assert (tmp_path / "campaign.heartbeat").read_text().startswith(str(dt.datetime.now(dt.timezone.utc).year))
        assert sqlite_store.heartbeats()[0]["worker"] == daemon.worker

        # the calendar changes on disk: the sweep reloads and re-syncs (a new post appears)
        plans["posts"] = plans["posts"] + [make_post("later", at=soon + dt.timedelta(days=1))]
        os.utime(calendar, (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sqlite_store.get(plans["posts"][1].id) is None:
            time.sleep(0.05)
        assert sqlite_store.get(plans["posts"][1].id).state == states.DUE
        assert len(planner_calls) >= 2
    finally:
        daemon.stop()
    assert receipts(ledger) == {plans["posts"][0].id: 1}
