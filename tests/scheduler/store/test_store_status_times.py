"""`status` tells times as the channel lives them, and does not call a post due before its time."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from campaign.calendar.loader import load_calendar
from scheduler.plan.planner import plan_posts
from scheduler.store import states, sync_plan
from scheduler.store.status import build_status, render_status
from scheduler.store.store import Store

REPO = Path(__file__).resolve().parents[3]
UTC = dt.timezone.utc


def _sample_store(tmp_path: Path) -> Store:
    loaded = load_calendar(REPO / "calendar.yaml", today=dt.date(2026, 11, 22))
    store = Store(f"sqlite:///{tmp_path / 'status.db'}")
    sync_plan(store, plan_posts(loaded, build_dir=tmp_path).posts, dt.datetime(2026, 11, 22, tzinfo=UTC))
    return store


def test_posts_not_yet_due_count_as_scheduled(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    before = build_status(store, dt.datetime(2026, 12, 1, tzinfo=UTC))
    stored_due = before["store_states"]["totals"][states.DUE]  # the store's own states, kept apart in the JSON
    assert before["not_yet_due"]["total"] == stored_due == 65 - before["totals"].get(states.PLANNED, 0)
    # the JSON counts as the text does: none of them is due yet (it said "due" for all of them)
    assert states.DUE not in before["totals"] and before["totals"]["scheduled"] == stored_due
    assert all(states.DUE not in row for row in before["by_channel"].values())
    assert all(p["shown_state"] in ("scheduled", states.PLANNED) for p in before["next"])
    counts = render_status(before).splitlines()[1]
    assert counts.startswith("Posts: ") and " due" not in counts and f"{stored_due} scheduled" in counts
    # once the first posts' time has come, those (and only those) are due
    first = min(p.scheduled_at for p in store.all_posts() if p.state == states.DUE)
    during = build_status(store, first + dt.timedelta(minutes=1))
    due_now = sum(1 for p in store.all_posts() if p.state == states.DUE and p.scheduled_at <= first + dt.timedelta(minutes=1))
    assert due_now >= 1 and during["not_yet_due"]["total"] == stored_due - due_now
    counts = render_status(during).splitlines()[1]
    assert f"{due_now} due" in counts and f"{stored_due - due_now} scheduled" in counts
    assert (during["totals"][states.DUE], during["totals"]["scheduled"]) == (due_now, stored_due - due_now)
    assert during["next"][0]["shown_state"] == states.DUE


def test_next_posts_show_local_time_with_offset_and_utc(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    text = render_status(build_status(store, dt.datetime(2027, 3, 1, tzinfo=UTC)))
    lines = [line for line in text.splitlines() if "mission-japan-2027.2027.embassy-tokyo" in line]
    assert lines, text
    # Tokyo's 09:00 slot: local time with the channel's offset, then UTC with its date (00:00 UTC the same day)
    assert re.search(r"Mon 08 Mar 2027 09:00 \(UTC\+09:00\) · Mon 08 Mar 00:00 UTC", lines[0]), lines[0]
