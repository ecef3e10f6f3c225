"""Sent back: held with the reviewer's comment until the calendar entry or the asset changes."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduler import actions
from campaign.post import MediaRef, PlannedPost
from scheduler.store import states, sync_plan

NOW = dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


def make_post(caption: str = "Hello", needs_approval: bool = True) -> PlannedPost:
    at = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.timezone.utc)
    return PlannedPost(id="m.2027.be-linkedin.en", moment_id="m", occurrence=2027, channel_id="be-linkedin",
                       platform="linkedin", account="org", language="en", scheduled_at=at, local_time=at,
                       caption=caption, link=None, hashtags=(),
                       media=MediaRef("aiko", "photo", "feed_4x5", "en", "aiko/feed_4x5.en.jpg", "alt", 1080, 1350),
                       needs_approval=needs_approval, grace_seconds=3600)


def test_a_sent_back_post_is_held_until_the_calendar_entry_changes(store) -> None:
    post = make_post()
    sync_plan(store, [post], NOW)
    outcome = actions.send_back(store, post=post.id, comment="wrong quote, ask Aiko", by="tomo", now=NOW)
    assert "held" in outcome.message
    held = store.get(post.id)
    assert held.state == states.SENT_BACK and held.state_reason == "wrong quote, ask Aiko"
    assert [(r["actor"], r["action"], r["detail"]) for r in store.audit_rows(post.id)] == [
        ("tomo", "send-back", "wrong quote, ask Aiko")]
    # the same plan again: still held, never claimable, never approvable
    assert sync_plan(store, [post], NOW).unchanged == 1
    assert store.get(post.id).state == states.SENT_BACK
    assert store.approve(by="x", now=NOW, post_id=post.id) == []
    assert store.claim_next("w", dt.datetime(2027, 2, 1, 8, 1, tzinfo=dt.timezone.utc), lease_seconds=60) is None
    # the calendar entry changes: waits for approval again, the comment kept in the audit trail
    report = sync_plan(store, [make_post(caption="Hello, fixed")], NOW)
    assert report.released == [post.id]
    assert store.get(post.id).state == states.PLANNED and store.get(post.id).state_reason is None
    assert "released" in [r["action"] for r in store.audit_rows(post.id)]


def test_a_sent_back_post_is_released_when_its_asset_is_rendered_again(store) -> None:
    post = make_post(needs_approval=False)
    sync_plan(store, [post], NOW)
    store.record_assets([{"path": post.media.path, "content_hash": "aaa"}], NOW)
    actions.send_back(store, post=post.id, comment="crop the face", by="ada", now=NOW)
    store.record_assets([{"path": post.media.path, "content_hash": "aaa"}], NOW)  # same file: still held
    assert store.get(post.id).state == states.SENT_BACK
    store.record_assets([{"path": "other/file.jpg", "content_hash": "bbb"}], NOW)  # another file
    assert store.get(post.id).state == states.SENT_BACK
    store.record_assets([{"path": post.media.path, "content_hash": "ccc"}], NOW)  # re-rendered
    assert store.get(post.id).state == states.DUE


def test_the_daemons_inbox_render_releases_a_sent_back_post(store) -> None:
    """The inbox job records what it rendered as the pipeline reports it: `output`, no hash."""
    post = make_post()
    sync_plan(store, [post], NOW)
    actions.send_back(store, post=post.id, comment="crop the face", by="ada", now=NOW)
    store.record_assets([{"output": post.media.path, "testimonial": "aiko", "variant": "feed_4x5", "language": "en"}], NOW)
    assert store.get(post.id).state == states.PLANNED
    assert [r["actor"] for r in store.audit_rows(post.id) if r["action"] == "released"] == ["render"]


def test_a_sent_back_post_leaves_with_its_calendar_entry(store) -> None:
    post = make_post()
    sync_plan(store, [post], NOW)
    actions.send_back(store, post=post.id, comment="drop it", by="ada", now=NOW)
    assert sync_plan(store, [], NOW).cancelled == [post.id]


def test_only_posts_that_have_not_gone_out_can_be_sent_back(store) -> None:
    post = make_post()
    sync_plan(store, [post], NOW)
    with pytest.raises(actions.ActionError, match="say why"):
        actions.send_back(store, post=post.id, comment="  ", by="ada", now=NOW)
    with pytest.raises(actions.ActionError, match="no post `nope` in the store"):
        actions.send_back(store, post="nope", comment="x", by="ada", now=NOW)
    with pytest.raises(actions.NotAllowed):
        actions.send_back(store, post=post.id, comment="x", by="tomo", now=NOW, channels=["embassy-tokyo"])
    actions.approve(store, by="ada", now=NOW, post=post.id)
    claim = store.claim_next("w", dt.datetime(2027, 2, 1, 8, 1, tzinfo=dt.timezone.utc), lease_seconds=60)
    store.record_published(claim, NOW, "r1", "https://example/1")
    with pytest.raises(actions.ActionError, match="is published"):
        actions.send_back(store, post=post.id, comment="too late", by="ada", now=NOW)


def test_approve_needs_exactly_one_target_and_respects_the_scope(store) -> None:
    post = make_post()
    other = dataclasses.replace(make_post(), id="m.2027.embassy-tokyo.en", channel_id="embassy-tokyo")
    sync_plan(store, [post, other], NOW)
    with pytest.raises(actions.ActionError, match="exactly one"):
        actions.approve(store, by="a", now=NOW)
    with pytest.raises(actions.ActionError, match="exactly one"):
        actions.approve(store, by="a", now=NOW, post=post.id, moment="m")
    with pytest.raises(actions.NotAllowed):
        actions.approve(store, by="tomo", now=NOW, channel="be-linkedin", channels=["embassy-tokyo"])
    done = actions.approve(store, by="tomo", now=NOW, moment="m", channels=["embassy-tokyo"])
    assert done.post_ids == (other.id,)
    assert store.get(post.id).state == states.PLANNED
