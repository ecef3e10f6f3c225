"""Jobs handed to the daemon from outside (the notifier): they run on their own schedule, a
hanging or failing one never delays a post, and its errors are logged."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from campaign.clock import SystemClock
from testkit.scheduler import LedgerPublisher, make_post, receipts
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.store import states

ROOT = Path(__file__).resolve().parents[3]


class Log:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def event(self, event: str, message: str = "", **fields) -> None:  # type: ignore[no-untyped-def]
        self.events.append((event, message))


def test_a_hanging_or_failing_side_job_never_delays_a_post(sqlite_store, tmp_path) -> None:
    calendar = ROOT / "calendar.yaml"  # read only
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1.5)
    post = make_post("soon", at=soon, grace_seconds=600)
    ledger = tmp_path / "ledger.jsonl"
    publisher = LedgerPublisher(ledger)
    config = DaemonConfig(calendar_path=calendar, interval_seconds=30, sweep_seconds=30, heartbeat_file=None,
                          inbox_dir=None)
    log = Log()
    daemon = Daemon(sqlite_store, SystemClock(), lambda _c: publisher, config, planner=lambda loaded, **_: [post],
                    log=log)  # type: ignore[arg-type]
    release = threading.Event()
    calls = {"hang": 0, "fail": 0}

    def hang() -> None:  # an SMTP server that never answers
        calls["hang"] += 1
        release.wait(15)

    def fail() -> None:
        calls["fail"] += 1
        raise ConnectionRefusedError("webhook down")

    daemon.add_job("notify", 0.5, hang)
    daemon.add_job("other", 0.5, fail)
    daemon.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sqlite_store.get(post.id).state != states.PUBLISHED:
            time.sleep(0.05)
        published = sqlite_store.get(post.id)
        assert published.state == states.PUBLISHED
        assert (published.published_at - soon).total_seconds() < 1.0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and calls["fail"] < 2:
            time.sleep(0.05)
        assert calls["hang"] == 1 and calls["fail"] >= 2  # it ran, and ran again: the daemon did not stop
        assert ("other_error", "ConnectionRefusedError: webhook down") in log.events
    finally:
        release.set()
        daemon.stop()
    assert receipts(ledger) == {post.id: 1}
