"""The sample campaign, planned by the real planner, published through the emulators with a
FakeClock: every post once, at its time (or held per its rules), nothing twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.clock import FakeClock
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.daemon.publishers import PublisherPool
from scheduler.plan import plan_posts
from scheduler.store import states, sync_plan
from testkit.scheduler import render_stand_ins

pytestmark = pytest.mark.slow  # real daemon processes

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date(2026, 11, 1)


def test_sample_campaign_through_the_emulators(sqlite_store, tmp_path):
    import time
    from emulators import Sandbox

    t0 = time.monotonic()

    loaded = load_calendar(ROOT / "calendar.yaml", today=TODAY)
    build = tmp_path / "build"
    plan = plan_posts(loaded, build_dir=build, today=TODAY)
    render_stand_ins(plan.posts, build)
    print(f"stand-ins rendered in {time.monotonic() - t0:.1f} s")
    sync_plan(sqlite_store, plan, dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    sqlite_store.approve(by="chancellery", now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), channel_id="be-linkedin")
    clock = FakeClock(dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    sandbox = Sandbox(loaded.calendar, build)
    pool = PublisherPool(lambda: loaded.calendar, sandbox=sandbox, outbox_dir=tmp_path / "outbox", timeout=10,
                          options={"poll_interval": 0.02})
    dispatcher = Dispatcher(sqlite_store, clock, pool, calendar=loaded.calendar,
                            config=DispatchConfig(build_dir=build))
    try:
        while (due := sqlite_store.next_due_at()) is not None:
            clock.set(max(due, clock.now()))
            dispatcher.run_once()
        final = sqlite_store.all_posts()
        published = [p for p in final if p.state == states.PUBLISHED]
        settled = (states.PUBLISHED, states.FAILED, states.UNKNOWN, states.MISSED)
        assert all(p.state in settled for p in final), {p.id: p.state for p in final if p.state not in settled}
        # Every planned post fits its platform's rules and its own account (be-x and embassy-tokyo
        # post the same English caption; Bluesky's caption is at the limit once the link is long).
        assert len(published) == len(final), [(p.id, p.state, p.last_error) for p in final if p.state != states.PUBLISHED]
        assert all(p.published_at == p.scheduled_at for p in published)  # each at its time
        remote = [p.remote_id for p in published]
        assert len(remote) == len(set(remote))
        for channel in loaded.calendar.channels:
            if channel.platform.value == "outbox":
                continue
            received = sandbox.received(channel.id)
            assert {e["account"] for e in received} <= {channel.account}
            # never twice, never elsewhere: each account holds exactly what the store calls published on its channel
            assert sorted(e["id"] for e in received) == sorted(p.remote_id for p in published if p.channel_id == channel.id)
    finally:
        pool.close()
        sandbox.stop()
