"""sync_plan: add, update, cancel, drift; idempotent; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

from testkit.scheduler import START, make_post, month_of_posts
from scheduler.store import states, sync_plan


def test_sync_adds_then_changes_nothing_the_second_time(store):
    plan = month_of_posts(30) + [make_post("launch", "be-linkedin", START, needs_approval=True)]
    first = sync_plan(store, plan, START)
    assert len(first.added) == 31 and first.unchanged == 0
    before = [(p.id, p.state, p.content_hash) for p in store.all_posts()]
    second = sync_plan(store, plan, START)
    assert (second.added, second.updated, second.cancelled, second.drift, second.unchanged) == ([], [], [], [], 31)
    assert [(p.id, p.state, p.content_hash) for p in store.all_posts()] == before
    assert store.get(plan[-1].id).state == states.PLANNED  # needs approval
    assert store.get(plan[0].id).state == states.DUE


def test_changes_update_unpublished_posts_and_report_drift_on_published(store):
    keep, change, approved, published, removed = (make_post(n, at=START + dt.timedelta(hours=i), needs_approval=(n == "ap"))
                                                   for i, n in enumerate(["keep", "change", "ap", "pub", "gone"]))
    sync_plan(store, [keep, change, approved, published, removed], START)
    store.approve(by="chancellery", now=START, post_id=approved.id)
    claim = _claim(store, published.id)
    store.record_published(claim, START, "remote-1", "https://x.example/1")

    edited = [keep, dataclasses.replace(change, caption="new words"), dataclasses.replace(approved, caption="edited"),
              dataclasses.replace(published, caption="too late")]
    report = sync_plan(store, edited, START)
    assert report.updated == [change.id, approved.id]
    assert report.cancelled == [removed.id]
    assert [pid for pid, _ in report.drift] == [published.id]
    assert "already published" in report.drift[0][1]
    assert report.unapproved == [approved.id]
    assert store.get(change.id).caption == "new words"
    assert store.get(approved.id).state == states.PLANNED
    assert store.get(published.id).caption == published.caption and store.get(published.id).state == states.PUBLISHED
    assert store.get(removed.id).state == states.CANCELLED
    actions = {(row["action"], row["target"]) for row in store.audit_rows()}
    assert ("approval-withdrawn", approved.id) in actions and ("cancel", removed.id) in actions
    # and once more: nothing left to do
    again = sync_plan(store, edited, START)
    assert (again.added, again.updated, again.cancelled) == ([], [], [])

    # a cancelled post that comes back is planned again
    back = sync_plan(store, edited + [removed], START)
    assert back.updated == [removed.id] and store.get(removed.id).state == states.DUE


def test_removed_published_post_is_drift_not_cancelled(store):
    post = make_post("pub")
    sync_plan(store, [post], START)
    store.record_published(_claim(store, post.id), START, "r", None)
    report = sync_plan(store, [], START)
    assert report.cancelled == [] and "removed from the calendar" in report.drift[0][1]
    assert store.get(post.id).state == states.PUBLISHED


def test_sync_of_many_posts_uses_bulk_statements(sqlite_store):
    plan = month_of_posts(3000)
    assert len(sync_plan(sqlite_store, plan, START).added) == 3000
    assert sync_plan(sqlite_store, plan, START).unchanged == 3000


def _claim(store, post_id):
    claim = store.claim_next("tester:1:x", START + dt.timedelta(days=400), lease_seconds=60,
                             skip_channels=())
    while claim.post.id != post_id:  # publish others out of the way is not wanted: release instead
        back = states.APPROVED if claim.post.needs_approval else states.DUE
        store.record_outcome(claim, START, state=back, outcome="released", error_class=None, message="test",
                             next_attempt_at=START + dt.timedelta(days=500))
        claim = store.claim_next("tester:1:x", START + dt.timedelta(days=400), lease_seconds=60)
    return claim
