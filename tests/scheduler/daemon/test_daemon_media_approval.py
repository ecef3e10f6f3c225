"""`media_approval: true`: the daemon holds a post until a designer or admin approved its media,
the very file its render was made from; approving releases it, a replaced file takes it back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from assets.manifest import Manifest
from campaign.calendar import load_calendar
from campaign.clock import FakeClock
from campaign.post import MediaRef
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.store import states, sync_plan
from scheduler.store.media_approvals import HOLD_PREFIX, MediaApprovals
from testkit.scheduler import START, LedgerPublisher, make_post, receipts

ROOT = Path(__file__).resolve().parents[3]
OUTPUT = "lukas-weber/feed_4x5.en.jpg"


def calendar_with_media_approval():  # type: ignore[no-untyped-def]
    sample = load_calendar(ROOT / "calendar.yaml", today=dt.date(2026, 11, 1)).calendar
    channels = [c.model_copy(update={"media_approval": True}) if c.id == "be-instagram" else c for c in sample.channels]
    return sample.model_copy(update={"channels": channels})


def rendered(build: Path, source_sha256: str) -> None:
    """The render the post carries, recorded in the manifest as made from the source with this hash."""
    target = build / OUTPUT
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"\xff\xd8 a stand-in render")
    manifest = Manifest.load(build)
    manifest.record(OUTPUT, {"source_sha256": source_sha256, "bytes": target.stat().st_size})
    manifest.save()


def test_a_post_waits_for_its_media_approval_and_goes_after_it(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build = tmp_path / "build"
    rendered(build, "a" * 64)
    media = MediaRef("lukas-weber", "photo", "feed_4x5", "en", OUTPUT, "Lukas Weber", 1080, 1350)
    post = dataclasses.replace(make_post("europe-day", "be-instagram", platform="instagram", needs_approval=True),
                               media=media)
    other = make_post("no-media-approval", "be-x")
    sync_plan(store, [post, other], START)
    store.approve(by="tomo", now=START, post_id=post.id)  # the post itself is approved by an approver
    clock = FakeClock(START)
    publisher = LedgerPublisher(tmp_path / "ledger.jsonl")
    dispatcher = Dispatcher(store, clock, lambda _channel: publisher, calendar=calendar_with_media_approval(),
                            worker="test:0:a", config=DispatchConfig(build_dir=build))

    report = dispatcher.run_once()
    held = store.get(post.id)
    assert report.held == [post.id] and report.published == [other.id]
    assert held.state == states.HELD and held.state_reason.startswith(HOLD_PREFIX)
    assert "lukas-weber's photo waits for a designer or an admin" in held.state_reason
    assert post.id not in receipts(tmp_path / "ledger.jsonl")

    approvals = MediaApprovals(store.engine)
    released = approvals.approve("lukas-weber", "photo", "b" * 64, by="dora", now=START)  # another file than the render's
    assert released == [post.id] and store.get(post.id).state == states.APPROVED  # the approver's yes is kept
    dispatcher.run_once()
    again = store.get(post.id)
    assert again.state == states.HELD and "was replaced after dora approved it" in again.state_reason

    assert approvals.approve("lukas-weber", "photo", "a" * 64, by="dora", now=START) == [post.id]
    dispatcher.run_once()
    assert store.get(post.id).state == states.PUBLISHED
    assert receipts(tmp_path / "ledger.jsonl") == {post.id: 1, other.id: 1}
    actions = [(r["actor"], r["action"]) for r in store.audit_rows() if r["target"] in (post.id, "lukas-weber/photo")]
    assert ("dora", "media-approve") in actions and ("dora", "released") in actions


def test_a_replaced_file_takes_the_approval_back(store) -> None:  # type: ignore[no-untyped-def]
    approvals = MediaApprovals(store.engine)
    approvals.approve("lukas-weber", "photo", "a" * 64, by="dora", now=START)
    assert approvals.get("lukas-weber", "photo").approved_by == "dora"
    assert approvals.revoke("lukas-weber", "photo", by="ines", now=START, why="lukas-weber.jpg was replaced by a new upload")
    assert approvals.get("lukas-weber", "photo") is None
    assert not approvals.revoke("lukas-weber", "photo", by="ines", now=START, why="again")
    assert [r["action"] for r in store.audit_rows() if r["target"] == "lukas-weber/photo"] == ["media-approve", "media-unapprove"]
