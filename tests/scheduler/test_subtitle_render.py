"""The render and the plan follow the approval: a draft is never burned in, an approved file is
picked up like a drop, and editing an approved language withdraws its render until approved again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assets.manifest import refusal_reason
from assets.pipeline import render_all
from campaign.platforms import Variant
from assets.subtitles import Cue, read_subtitles
from scheduler import subtitle_review as review
from scheduler.plan import plan_posts
from scheduler.store import Store
from testkit.subtitles import ENGLISH_DRAFT, drop_clip, write_calendar

NOW = dt.datetime(2027, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
TINY = {"landscape_16x9": Variant("landscape_16x9", 256, 144, "tiny 16:9")}


@pytest.mark.slow  # renders a clip with its subtitles twice
def test_draft_approve_edit_and_approve_again(tmp_path: Path) -> None:
    loaded = write_calendar(tmp_path, languages=("en",))
    calendar, inbox, build = loaded.calendar, tmp_path / "inbox", tmp_path / "build"
    drop_clip(inbox)
    (inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    output = "james-carter/landscape_16x9.en.mp4"

    first = render_all(loaded, inbox, build, workers=1, variants=TINY, settle_seconds=0)
    assert not (build / output).exists() and not first.rejected
    assert "subtitles: draft" in (refusal_reason(build, output) or "")
    assert any(s.get("source") == "james-carter.en.draft.srt" and "never burned in" in s["reason"] for s in first.skipped)
    plan = plan_posts(loaded, build_dir=build)
    assert all("subtitles: draft" in (plan.media_refusal(p) or "") for p in plan.posts)  # the posts wait, saying why

    review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="maria", now=NOW)
    assert [r["output"] for r in render_all(loaded, inbox, build, workers=1, variants=TINY, settle_seconds=0).rendered] == [output]
    assert refusal_reason(build, output) is None

    cues = list(read_subtitles(inbox / "james-carter.en.srt").cues)
    cues[2] = Cue(cues[2].start, cues[2].end, "within months.", 3)
    review.save(store, calendar, inbox, testimonial_id="james-carter", language="en", cues=cues, by="maria", now=NOW)
    render_all(loaded, inbox, build, workers=1, variants=TINY, settle_seconds=0)
    assert not (build / output).exists()  # the old subtitles must not go out while the new ones wait
    review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="maria", now=NOW)
    again = render_all(loaded, inbox, build, workers=1, variants=TINY, settle_seconds=0)
    assert [r["output"] for r in again.rendered] == [output]
    store.close()
