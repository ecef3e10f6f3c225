"""The daemon and a store that goes away: it backs off, logs once, keeps every post, publishes
each exactly once when the store is back, and stops with one clear line (exit 3) only when
the store cannot come back by itself."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from campaign.clock import SystemClock
from testkit.scheduler import LedgerPublisher, make_post, receipts
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.daemon.logs import EventLog
from scheduler.daemon.store_outage import OutagePolicy
from scheduler.store import Store, states

pytestmark = pytest.mark.slow  # real daemon processes

ROOT = Path(__file__).resolve().parents[3]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def events(self, name: str) -> list[str]:
        return [line for line in self.lines if line.startswith(name + ":")]


def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, posts, policy: OutagePolicy):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("scheduler.store.engine.BUSY_TIMEOUT_MS", 200)  # a lock is felt in 0.2 s, not 30
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    store = Store(f"sqlite:///{tmp_path / 'campaign.db'}")
    logger = logging.getLogger(f"outage-test-{tmp_path.name}")
    handler = Lines()
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    ledger = tmp_path / "ledger.jsonl"
    publisher = LedgerPublisher(ledger)
    config = DaemonConfig(calendar_path=calendar, interval_seconds=0.5, sweep_seconds=0.5, heartbeat_file=None,
                          inbox_dir=None, store_outage=policy)
    daemon = Daemon(store, SystemClock(), lambda _c: publisher, config, planner=lambda loaded, **_: list(posts),
                    log=EventLog(logger))
    return store, daemon, handler, ledger


def test_a_locked_store_is_ridden_out_and_the_post_goes_out_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posts: list = []
    store, daemon, log, ledger = setup(tmp_path, monkeypatch, posts, OutagePolicy(first_backoff=0.2, max_backoff=0.5))
    post = make_post("during-lock", at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5), grace_seconds=600)
    posts.append(post)
    daemon.start()
    assert store.get(post.id).state == states.DUE
    holder = sqlite3.connect(tmp_path / "campaign.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a backup tool holding the file
    try:
        time.sleep(3)
        assert receipts(ledger) == {}
        assert len(log.events("store_unavailable")) == 1, log.lines  # logged once, not every tick
        assert "locked by another process" in log.events("store_unavailable")[0]
    finally:
        holder.rollback()
        holder.close()
    try:
        deadline = time.monotonic() + 10
        # The channel's worker publishes while the pass that claimed the post is still finishing:
        # wait for both the post and the "store back" line, in either order.
        while time.monotonic() < deadline and not (store.get(post.id).state == states.PUBLISHED and log.events("store_back")):
            time.sleep(0.1)
        assert store.get(post.id).state == states.PUBLISHED
        assert log.events("store_back"), "\n".join(log.lines)
        assert not [line for line in log.lines if "Traceback" in line or line.startswith("dispatch_error")]
    finally:
        daemon.stop()
        store.close()
    assert receipts(ledger) == {post.id: 1}
    assert daemon.exit_code == 0


def test_a_store_that_cannot_come_back_stops_the_daemon_with_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    store, daemon, log, ledger = setup(tmp_path, monkeypatch, [make_post("later", at=later)],
                                       OutagePolicy(first_backoff=0.1, max_backoff=0.2, permanent_grace=1.0))

    def wipe() -> None:  # someone restores an empty database over the running store
        # After the daemon has started, not after a fixed sleep: under load its start (the first
        # sync) can take longer than any sleep, and a store wiped during start is another case.
        deadline = time.monotonic() + 60
        while not log.events("started") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        with sqlite3.connect(tmp_path / "campaign.db") as conn:
            for table in ("audit", "attempts", "posts"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")

    threading.Thread(target=wipe, daemon=True).start()
    started = time.monotonic()
    code = daemon.run_forever()
    store.close()
    assert code == 3
    assert time.monotonic() - started < 20
    gave_up = log.events("store_gave_up")
    assert len(gave_up) == 1 and "stopping (exit 3)" in gave_up[0] and "No post was lost" in gave_up[0]
    assert receipts(ledger) == {}
