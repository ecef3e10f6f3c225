"""The APScheduler-driven daemon: jobs rebuilt from the store, a due post leaves within ~1 s,
heartbeat row and file, calendar change re-syncs, stop finishes cleanly."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from campaign.clock import SystemClock
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.store import states
from scheduler.store.renders import render_progress
from testkit.scheduler import LedgerPublisher, make_post, receipts

pytestmark = pytest.mark.slow  # real daemon processes

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


def test_inbox_drop_is_rendered_and_recorded_in_the_store(sqlite_store, tmp_path):
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(ROOT / "assets" / "samples" / "raw" / "lukas-weber.jpg", inbox)
    (inbox / "holiday.jpg").write_bytes(b"not a testimonial")
    old = time.time() - 60  # settled: not a copy in progress
    for path in inbox.iterdir():
        os.utime(path, (old, old))
    config = DaemonConfig(calendar_path=calendar, heartbeat_file=None, inbox_dir=inbox)
    config.dispatch.build_dir = tmp_path / "build"
    daemon = Daemon(sqlite_store, SystemClock(), lambda _c: LedgerPublisher(tmp_path / "ledger"), config,
                    planner=lambda loaded, **_: [])
    daemon.load_and_sync()
    daemon._inbox_job()
    rendered = sorted(p.relative_to(tmp_path / "build").as_posix() for p in (tmp_path / "build").rglob("*.jpg"))
    assert rendered and all(p.startswith("lukas-weber/") for p in rendered)
    assert sorted(r["path"] for r in sqlite_store.asset_rows()) == rendered
    progress = render_progress(sqlite_store)  # what the console shows: each file done, by this process
    assert [(p.output, p.state, p.percent, p.tries) for p in progress] == [(path, "done", 100, 1) for path in rendered]
    assert (inbox / "rejected" / "holiday.jpg").is_file()  # told, not lost
    daemon._inbox_job()  # nothing changed in the inbox: nothing is rendered again
    assert len(sqlite_store.asset_rows()) == len(rendered)


def test_passes_longer_than_their_interval_never_overlap_nor_warn(sqlite_store, tmp_path, caplog):
    """Collection and dispatch passes that take longer than their interval (the demo: 0.5 s)
    run again right after, never beside themselves, and APScheduler never logs 'skipped: maximum
    number of running instances reached' (three times in the middle of the demo's progress
    before); a wake-up that comes during a pass is not lost."""
    import logging
    import threading

    config = DaemonConfig(calendar_path=ROOT / "calendar.yaml", interval_seconds=0.05, sweep_seconds=0.05,
                          heartbeat_file=None, inbox_dir=None, collect_seconds=0.05)
    from scheduler.results.collect import Collector

    collector = Collector(sqlite_store, SystemClock(), lambda _c: LedgerPublisher(tmp_path / "ledger"))
    daemon = Daemon(sqlite_store, SystemClock(), lambda _c: LedgerPublisher(tmp_path / "ledger"), config,
                    planner=lambda loaded, **_: [], collector=collector)
    overlaps: list[str] = []
    passes: dict[str, list[float]] = {"collect": [], "dispatch": []}

    def slow(name):  # type: ignore[no-untyped-def]
        running = threading.Lock()

        def run(*_args, **_kwargs):  # type: ignore[no-untyped-def]
            if not running.acquire(blocking=False):
                overlaps.append(name)
                return
            try:
                time.sleep(0.2)
                passes[name].append(time.monotonic())
            finally:
                running.release()
        return run

    daemon.collector.run_once = slow("collect")
    daemon.dispatcher.run_once = slow("dispatch")
    caplog.set_level(logging.DEBUG, logger="apscheduler")
    daemon.start()
    try:
        time.sleep(1.5)
        woken = len(passes["collect"]), len(passes["dispatch"])
        daemon.collect_soon()
        daemon.wakeup()
        time.sleep(0.5)
    finally:
        daemon.stop()
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert not skipped and not overlaps, skipped[:2]
    assert len(passes["collect"]) >= 4 and len(passes["collect"]) > woken[0]
    assert len(passes["dispatch"]) >= 4 and len(passes["dispatch"]) > woken[1]
