"""What the plan says reaches the store: a post it calls unpublishable is held, never sent; a post
it can no longer place (a blackout added after `schedule`) is cancelled with that reason, the
daemon says why, and `status` lists both under what needs a person. SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import shutil
from pathlib import Path


from testkit import plan as plankit

from campaign.clock import FakeClock
from testkit.scheduler import LedgerPublisher, receipts
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.plan import plan_posts
from scheduler.store import states, sync_plan
from scheduler.store.status import build_status, render_status

ROOT = Path(__file__).resolve().parents[3]
UTC = dt.timezone.utc
DAY = dt.date(2027, 5, 10)
AFTER = dt.datetime(2027, 5, 11, 0, 0, tzinfo=UTC)


def _plan(tmp_path: Path, *, title: str = "Europe Day", blackouts=None):  # type: ignore[no-untyped-def]
    cal = plankit.calendar([plankit.channel("be-x", platform="x", slots=("09:00", "15:00"))],
                           [plankit.moment("europe-day", channels=("be-x",), date=DAY, title=title)],
                           blackouts=blackouts)
    return plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))


def test_a_post_the_plan_calls_impossible_is_held_never_published(store, tmp_path: Path) -> None:
    plan = _plan(tmp_path, title="x" * 300)  # the caption is over X's 280
    assert plan.errors and plan.posts and plan.posts[0].held
    report = sync_plan(store, plan, AFTER - dt.timedelta(days=5))
    post = store.get(plan.posts[0].id)
    assert post.state == states.HELD and "280" in (post.state_reason or "")
    assert report.held == [post.id]
    assert store.claim_next("w", AFTER, lease_seconds=60) is None, "a held post is never claimed"
    status = build_status(store, AFTER)
    assert [p["id"] for p in status["needs_human"]["held"]] == [post.id]
    assert "HELD" in render_status(status) and "280" in render_status(status)
    # the calendar is fixed: the post becomes due again, and goes out
    fixed = _plan(tmp_path)
    again = sync_plan(store, fixed, AFTER - dt.timedelta(days=5))
    assert again.updated == [post.id] and store.get(post.id).state == states.DUE and store.get(post.id).state_reason is None
    assert store.claim_next("w", AFTER, lease_seconds=60) is not None


def test_the_daemon_publishes_nothing_held(sqlite_store, tmp_path: Path) -> None:
    calendar = _daemon_folder(tmp_path)
    ledger = tmp_path / "ledger.jsonl"
    config = DaemonConfig(calendar_path=calendar, heartbeat_file=tmp_path / "hb", inbox_dir=tmp_path / "no-inbox")
    daemon = Daemon(sqlite_store, FakeClock(AFTER), lambda _c: LedgerPublisher(ledger), config,
                    planner=lambda loaded, **_: _plan(tmp_path, title="y" * 300))
    daemon.load_and_sync()
    daemon.pass_once()
    assert receipts(ledger) == {}
    assert [p.state for p in sqlite_store.all_posts()] == [states.HELD]


def test_a_blackout_added_after_schedule_cancels_with_its_reason(store, tmp_path: Path) -> None:
    before = _plan(tmp_path)
    sync_plan(store, before, AFTER - dt.timedelta(days=5))
    blackout = [{"start": "2027-05-10 00:00", "end": "2027-05-11 00:00", "reason": "National mourning", "channels": "all"}]
    after = _plan(tmp_path, blackouts=blackout)
    assert after.posts == [] and after.errors
    report = sync_plan(store, after, AFTER - dt.timedelta(days=4))
    pid = before.posts[0].id
    assert report.cancelled == [pid]
    reason = report.cancel_reasons[pid]
    assert reason.startswith("could not be planned: ") and "National mourning" in reason
    assert "removed from the calendar" not in reason
    row = store.get(pid)
    assert row.state == states.CANCELLED and row.state_reason == reason
    status = build_status(store, AFTER)
    assert [p["id"] for p in status["needs_human"]["cannot_be_planned"]] == [pid]
    assert "National mourning" in render_status(status)
    assert ("cancel", pid) in {(r["action"], r["target"]) for r in store.audit_rows()}
    # a post really removed from the calendar is not something a person must look at
    removed = dataclasses.replace(before.posts[0], id="gone.2027.be-x.en")
    sync_plan(store, [*after.posts, removed], AFTER - dt.timedelta(days=4))
    sync_plan(store, after, AFTER - dt.timedelta(days=4))
    assert store.get(removed.id).state_reason == "removed from the calendar"
    assert [p["id"] for p in build_status(store, AFTER)["needs_human"]["cannot_be_planned"]] == [pid]


def _daemon_folder(tmp_path: Path) -> Path:
    calendar = tmp_path / "calendar.yaml"
    shutil.copy(ROOT / "calendar.yaml", calendar)
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates", dirs_exist_ok=True)
    return calendar


def test_the_daemon_logs_why_each_post_was_cancelled(sqlite_store, tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    calendar = _daemon_folder(tmp_path)
    plans = {"plan": _plan(tmp_path)}
    config = DaemonConfig(calendar_path=calendar, heartbeat_file=tmp_path / "hb", inbox_dir=tmp_path / "no-inbox")
    daemon = Daemon(sqlite_store, FakeClock(AFTER - dt.timedelta(days=5)), lambda _c: LedgerPublisher(tmp_path / "l"),
                    config, planner=lambda loaded, **_: plans["plan"])
    daemon.load_and_sync()
    plans["plan"] = _plan(tmp_path, blackouts=[{"start": "2027-05-10 00:00", "end": "2027-05-11 00:00",
                                                "reason": "National mourning", "channels": "all"}])
    with caplog.at_level(logging.INFO, logger="campaign.daemon"):
        daemon.load_and_sync()
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("cancelled:")]
    assert len(lines) == 1 and "National mourning" in lines[0] and "europe-day.2027.be-x.en" in lines[0]


def test_a_post_whose_render_was_refused_waits_with_the_reason(sqlite_store, tmp_path: Path) -> None:
    """The render pipeline removed a stale file and recorded why: the daemon says that, not "not rendered yet"."""
    import pytest

    from assets.manifest import Manifest
    from testkit.scheduler import make_post
    from scheduler.daemon.outgoing import MediaNotReady, to_outgoing
    from campaign.post import MediaRef

    build = tmp_path / "build"
    manifest = Manifest.load(build)
    manifest.refuse("ana/feed_4x5.en.jpg", "k", "the photo is 480x150: too small for feed_4x5 1080x1350", "rejected")
    manifest.save()
    media = MediaRef("ana", "photo", "feed_4x5", "en", "ana/feed_4x5.en.jpg", "Ana", 1080, 1350)
    post = dataclasses.replace(make_post("photo-day", "ig", AFTER, platform="instagram"), media=media)
    sync_plan(sqlite_store, [post], AFTER)
    with pytest.raises(MediaNotReady) as caught:
        to_outgoing(sqlite_store.get(post.id), build_dir=build)
    assert "refused by the render pipeline" in str(caught.value) and "too small for feed_4x5" in str(caught.value)
