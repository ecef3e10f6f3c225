"""Approval per clip and language: draft -> approved (audited) -> edited back to draft; a dropped file wins."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from assets.speech.drafts import subtitle_states
from assets.subtitles import Cue, read_subtitles
from scheduler import subtitle_review as review
from scheduler.actions import ActionError, NotAllowed
from scheduler.store import Store
from testkit.subtitles import ENGLISH_DRAFT, drop_clip, write_calendar

NOW = dt.datetime(2027, 5, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    loaded = write_calendar(tmp_path)
    inbox = tmp_path / "inbox"
    drop_clip(inbox)
    (inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    return loaded.calendar, inbox, Store(f"sqlite:///{tmp_path / 'store.db'}")


def states(calendar, inbox) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.language: s.state for s in subtitle_states(calendar, inbox)}


def dutch(cues: tuple[Cue, ...], texts: list[str]) -> list[Cue]:
    return [Cue(c.start, c.end, t, n) for n, (c, t) in enumerate(zip(cues, texts), 1)]


def test_approve_writes_the_calendars_file_and_the_audit_says_who(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    assert states(calendar, inbox) == {"en": "draft", "nl": "missing"}
    outcome = review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="maria", now=NOW)
    assert "approved" in outcome.message
    assert read_subtitles(inbox / "james-carter.en.srt").cues == read_subtitles(inbox / "james-carter.en.draft.srt").cues
    assert states(calendar, inbox)["en"] == "approved"
    row = review.review(store, calendar, inbox, calendar.testimonial("james-carter"), "en")
    assert (row.approved_by, row.dropped, row.who) == ("maria", False, "approved by maria")
    trail = [(a["actor"], a["action"], a["target"]) for a in store.audit_rows()]
    assert ("maria", "subtitles approve", "james-carter:en") in trail


def test_translation_waits_for_the_spoken_language_then_keeps_its_timing(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    cues = read_subtitles(inbox / "james-carter.en.draft.srt").cues
    texts = ["België zette ons vaccinonderzoek", "om in dosissen voor de wereld", "in enkele maanden."]
    with pytest.raises(ActionError, match="approve the en subtitles"):
        review.save(store, calendar, inbox, testimonial_id="james-carter", language="nl", cues=dutch(cues, texts), by="joost", now=NOW)
    review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="maria", now=NOW)
    review.save(store, calendar, inbox, testimonial_id="james-carter", language="nl", cues=dutch(cues, texts), by="joost", now=NOW)
    assert states(calendar, inbox)["nl"] == "draft"
    review.approve(store, calendar, inbox, testimonial_id="james-carter", language="nl", by="joost", now=NOW)
    approved = read_subtitles(inbox / "james-carter.nl.srt").cues
    assert [c.text for c in approved] == texts
    assert [(c.start, c.end) for c in approved] == [(c.start, c.end) for c in cues]


def test_editing_an_approved_language_takes_it_back_to_draft(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="maria", now=NOW)
    cues = list(read_subtitles(inbox / "james-carter.en.srt").cues)
    cues[2] = Cue(cues[2].start, cues[2].end, "within months.", 3)
    outcome = review.save(store, calendar, inbox, testimonial_id="james-carter", language="en", cues=cues, by="maria", now=NOW)
    assert "draft again" in outcome.message
    assert not (inbox / "james-carter.en.srt").exists()
    assert states(calendar, inbox)["en"] == "draft"
    assert "subtitles back to draft" in [a["action"] for a in store.audit_rows()]


def test_a_dropped_file_wins_and_needs_no_approval(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    (inbox / "james-carter.en.srt").write_text("1\n00:00:00,800 --> 00:00:05,500\nDesigner's own timing\n", encoding="utf-8")
    row = review.review(store, calendar, inbox, calendar.testimonial("james-carter"), "en")
    assert (row.state, row.dropped, row.who) == ("approved", True, "dropped by a designer")
    assert "nothing to approve" in review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en",
                                                  by="maria", now=NOW).message
    with pytest.raises(ActionError, match="dropped in the inbox by a designer"):
        review.save(store, calendar, inbox, testimonial_id="james-carter", language="en",
                    cues=list(read_subtitles(inbox / "james-carter.en.draft.srt").cues), by="maria", now=NOW)


def test_only_people_with_a_channel_in_that_language_approve_it(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    assert review.may_approve(calendar, "nl", ["nl-x"]) and not review.may_approve(calendar, "en", ["nl-x"])
    with pytest.raises(NotAllowed):
        review.approve(store, calendar, inbox, testimonial_id="james-carter", language="en", by="joost", now=NOW, channels=["nl-x"])


def test_unknown_testimonial_or_language_is_refused_with_a_suggestion(setup) -> None:  # type: ignore[no-untyped-def]
    calendar, inbox, store = setup
    with pytest.raises(ActionError, match="did you mean james-carter"):
        review.approve(store, calendar, inbox, testimonial_id="james-carte", language="en", by="m", now=NOW)
    with pytest.raises(ActionError, match="not 'fr'"):
        review.approve(store, calendar, inbox, testimonial_id="james-carter", language="fr", by="m", now=NOW)
