"""The dispatcher with a FakeClock: a month on time, grace, every fault, approval, blackout, pause."""

from __future__ import annotations

import datetime as dt

import pytest

from campaign.clock import FakeClock
from testkit.scheduler import START, LedgerPublisher, make_post, month_of_posts, receipts
from scheduler.platforms.base import AuthError, OutcomeUnknown, PermanentError, RateLimited, TransientError
from scheduler.daemon import DispatchConfig, Dispatcher, RetryPolicy
from scheduler.store import states, sync_plan


def make(store, tmp_path, clock, *, faults=None, find=False, calendar=None, faulty_channel=None):
    """A dispatcher whose channels all share one ledger publisher; with `faulty_channel`, only that
    channel's publisher meets `faults` (channels publish on threads of their own, so a shared
    faults list would go to whichever channel's thread asks first)."""
    publisher = LedgerPublisher(tmp_path / "ledger.jsonl", faults=faults, can_find_existing=find)
    others = LedgerPublisher(tmp_path / "ledger.jsonl", can_find_existing=find) if faulty_channel else publisher
    dispatcher = Dispatcher(store, clock, lambda channel: others if channel != faulty_channel else publisher,
                            calendar=calendar, worker="test:0:a",
                            config=DispatchConfig(retry=RetryPolicy(base_seconds=60, cap_seconds=600, max_failures=3)),
                            rng=lambda: 1.0)
    return dispatcher, publisher


@pytest.mark.slow  # a whole month of passes (~4 s)
def test_a_month_goes_out_once_each_at_its_time(sqlite_store, tmp_path):
    plan = month_of_posts(90)
    sync_plan(sqlite_store, plan, START)
    clock = FakeClock(START - dt.timedelta(minutes=1))
    dispatcher, _ = make(sqlite_store, tmp_path, clock)
    while (due := sqlite_store.next_due_at()) is not None:
        clock.set(due)
        dispatcher.run_once()
    stored = {p.id: p for p in sqlite_store.all_posts()}
    assert all(p.state == states.PUBLISHED and p.published_at == p.scheduled_at for p in stored.values())
    assert receipts(tmp_path / "ledger.jsonl") == {p.id: 1 for p in plan}


def test_downtime_inside_grace_publishes_late_outside_grace_is_missed(store, tmp_path):
    inside, outside = make_post("inside", at=START, grace_seconds=3600), make_post("outside", at=START, grace_seconds=600, channel="be-fb")
    sync_plan(store, [inside, outside], START)
    clock = FakeClock(START + dt.timedelta(minutes=30))  # the daemon was down for 30 minutes
    dispatcher, _ = make(store, tmp_path, clock)
    report = dispatcher.run_once()
    assert report.published == [inside.id] and report.missed == [outside.id]
    assert store.get(inside.id).published_at == START + dt.timedelta(minutes=30)
    missed = store.get(outside.id)
    assert missed.state == states.MISSED and "grace of 10m ended 20m ago" in missed.state_reason
    assert outside.id not in receipts(tmp_path / "ledger.jsonl")


def test_transient_errors_back_off_then_fail(store, tmp_path):
    post = make_post("flaky", grace_seconds=86400)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    dispatcher, publisher = make(store, tmp_path, clock, faults=[TransientError("HTTP 503 from api.x.com")] * 3)
    waits = []
    for _ in range(2):
        dispatcher.run_once()
        row = store.get(post.id)
        assert row.state == states.RETRY_WAIT and "HTTP 503" in row.last_error
        waits.append((row.next_attempt_at - clock.now()).total_seconds())
        dispatcher.run_once()  # not yet due again: nothing happens
        assert len(publisher.calls) == len(waits)
        clock.set(row.next_attempt_at)
    assert waits == [60.0, 120.0]  # rng=1.0: the top of each jittered window, doubling
    dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == states.FAILED and "gave up after 3 attempts" in row.last_error
    outcomes = [a["outcome"] for a in store.attempt_rows(post.id)]
    assert outcomes == ["transient"] * 3


def test_backoff_jitter_stays_in_its_window():
    policy = RetryPolicy(base_seconds=10, cap_seconds=100)
    assert policy.delay(1, lambda: 0.0) == 5 and policy.delay(1, lambda: 1.0) == 10
    assert policy.delay(10, lambda: 1.0) == 100 and policy.delay(10, lambda: 0.0) == 50


def test_rate_limit_waits_exactly_and_holds_the_whole_channel(store, tmp_path):
    first, second = make_post("one", at=START), make_post("two", at=START + dt.timedelta(seconds=5))
    other = make_post("three", channel="be-facebook", at=START)
    sync_plan(store, [first, second, other], START)
    clock = FakeClock(START + dt.timedelta(seconds=10))
    dispatcher, publisher = make(store, tmp_path, clock, faults=[RateLimited("429 Too Many Requests", retry_after=900)],
                                 faulty_channel="be-x")
    report = dispatcher.run_once()
    row = store.get(first.id)
    assert row.state == states.RETRY_WAIT and row.next_attempt_at == clock.now() + dt.timedelta(seconds=900)
    assert "waiting 900 s" in row.last_error
    assert report.published == [other.id]  # another channel is not held
    assert store.get(second.id).state == states.DUE  # same channel: waits too
    clock.advance(899)
    assert dispatcher.run_once().published == []
    clock.advance(1)
    assert sorted(dispatcher.run_once().published) == sorted([first.id, second.id])


def test_permanent_error_fails_with_the_platforms_message(store, tmp_path):
    post = make_post("long")
    sync_plan(store, [post], START)
    dispatcher, _ = make(store, tmp_path, FakeClock(START),
                         faults=[PermanentError("Your Tweet text is too long (code 186)")])
    dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == states.FAILED and row.last_error == "x refused the post: Your Tweet text is too long (code 186)"
    assert store.attempt_rows(post.id)[0]["error_class"] == "PermanentError"


def test_auth_error_pauses_the_channel_and_keeps_the_post(store, tmp_path):
    post = make_post("auth", grace_seconds=86400)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    dispatcher, publisher = make(store, tmp_path, clock, faults=[AuthError("token expired for @be-x-account")])
    dispatcher.run_once()
    assert store.get(post.id).state == states.DUE
    paused = store.channel_states()["be-x"]
    assert paused["paused"] and "re-authorise the x account be-x-account (channel be-x)" in paused["reason"]
    clock.advance(60)
    assert dispatcher.run_once().published == []
    store.resume("be-x", "anna", clock.now())
    assert dispatcher.run_once().published == [post.id]


def test_outcome_unknown_is_held_for_a_human(store, tmp_path):
    post = make_post("doubt")
    sync_plan(store, [post], START)
    dispatcher, _ = make(store, tmp_path, FakeClock(START), faults=[OutcomeUnknown("connection dropped after sending")])
    dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == states.UNKNOWN and "connection dropped" in row.last_error
    assert store.resolve(post.id, published=False, by="anna", now=START)
    assert store.get(post.id).state == states.DUE


def test_approval_blackout_and_pause(store, tmp_path):
    from campaign.calendar.models import Calendar
    from campaign.calendar import load_calendar
    from pathlib import Path

    calendar: Calendar = load_calendar(Path(__file__).resolve().parents[3] / "calendar.yaml",
                                       today=dt.date(2026, 11, 1)).calendar
    in_blackout = dt.datetime(2027, 3, 22, 9, 0, tzinfo=dt.timezone.utc)  # commemoration, all channels
    before = in_blackout - dt.timedelta(days=20)
    gated = make_post("gated", "be-linkedin", before, needs_approval=True, grace_seconds=86400)
    dark = make_post("dark", "be-x", in_blackout, grace_seconds=86400 * 2)
    sync_plan(store, [gated, dark], before)
    clock = FakeClock(before)
    dispatcher, _ = make(store, tmp_path, clock, calendar=calendar)
    assert dispatcher.run_once().published == []  # awaiting approval
    store.pause(None, "crisis communication", "anna", clock.now())
    store.approve(by="chancellery", now=clock.now(), moment_id="gated")
    assert dispatcher.run_once().published == []  # everything paused
    store.resume(None, "anna", clock.now())
    assert dispatcher.run_once().published == [gated.id]
    clock.set(in_blackout)
    assert dispatcher.run_once().published == []  # blackout until 23 March 00:00 Brussels
    clock.set(dt.datetime(2027, 3, 22, 23, 0, tzinfo=dt.timezone.utc))
    assert dispatcher.run_once().published == [dark.id]


@pytest.mark.parametrize("find,found,expected", [(True, True, states.PUBLISHED), (True, False, states.PUBLISHED),
                                                 (False, None, states.UNKNOWN)])
def test_dead_claims_are_reconciled_never_blindly_retried(store, tmp_path, find, found, expected):
    post = make_post("crashed")
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    dead = store.claim_next("otherhost:1:dead", START, lease_seconds=60)
    assert store.save_step(dead, "create_sent", START.isoformat(), START)  # it got as far as sending
    ledger = tmp_path / "ledger.jsonl"
    if found:
        ledger.write_text(f'{{"post_id": "{post.id}", "key": "{post.idempotency_key}", "remote_id": "r1", "pid": 1}}\n')
    dispatcher, publisher = make(store, tmp_path, clock, find=find)
    assert dispatcher.run_once().published == []  # lease still valid: hands off
    clock.advance(61)
    dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == expected
    assert receipts(ledger)[post.id] == (1 if find else 0)
    if not find:
        assert "cannot tell" in row.last_error and "resolve" in row.last_error
    assert dead is not None


def test_a_dead_claim_that_never_sent_is_retried_and_says_what_happens(store, tmp_path):
    """Finding 7 and 8: no "create sent" in the ledger means the crash came before the platform
    saw anything, so the post is safely retried (not held), and the note says so."""
    post = make_post("crashed-early", grace_seconds=600)
    late = make_post("crashed-too-late", grace_seconds=60, channel="be-fb")
    sync_plan(store, [post, late], START)
    clock = FakeClock(START)
    for p in (post, late):
        assert store.claim_next("otherhost:1:dead", START, lease_seconds=60, channel=p.channel_id) is not None
    dispatcher, publisher = make(store, tmp_path, clock)  # a platform that cannot be searched
    clock.advance(61)
    dispatcher.run_once()
    assert store.get(post.id).state == states.PUBLISHED
    assert receipts(tmp_path / "ledger.jsonl") == {post.id: 1}
    missed = store.get(late.id)
    assert missed.state == states.MISSED
    assert "before the post was sent" in missed.state_reason and "published now" not in missed.state_reason
    notes = [a["message"] for a in store.attempt_rows(post.id)]
    assert any("back in the queue" in (m or "") for m in notes) or "before the post was sent" in str(notes)
