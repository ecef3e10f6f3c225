"""Subtitles per clip and language: draft, edit, approve — one function per thing a person does.

Shared by the CLI (`python run.py subtitles ...`), the console and the daemon. The files live in
the inbox (`assets.speech.drafts`): approving writes the cues to the file the calendar names
under `subtitles:`, and the render picks it up like a designer's drop. The store says who
approved which version (the SHA-256 of what was written) and the audit trail keeps every step;
a file in its place with another hash was dropped by a designer, and wins without approval.
Editing an approved language takes it back to draft: its file leaves the inbox until approved again.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from assets.speech.drafts import APPROVED, DRAFT, MISSING, clip_languages, make_draft, subtitle_state, write_srt
from assets.speech.model import SpeechUnavailable
from assets.speech.styleguide import Check, check_cue, rules_for
from assets.subtitles import Cue, read_subtitles
from campaign.calendar.models import Calendar, Testimonial
from campaign.errors import AssetError
from scheduler.actions import ActionError, NotAllowed, Outcome
from scheduler.store import Store
from scheduler.store.rows import from_db, to_db
from scheduler.store.schema import audit, subtitle_reviews

TRANSCRIBED, MACHINE, TRANSLATED, EDITED = "transcribed", "machine translation", "translated", "edited"


@dataclass(frozen=True)
class Review:
    """What a person sees for one clip and language."""

    testimonial_id: str
    language: str
    spoken: bool
    state: str  # approved | draft | missing
    file: str | None
    draft: str
    dropped: bool  # the approved file was dropped by a designer (no approval needed)
    origin: str | None
    approved_by: str | None
    approved_at: dt.datetime | None

    @property
    def label(self) -> str:
        return f"subtitles: {self.state}"

    @property
    def who(self) -> str:
        if self.state != APPROVED:
            return f"{self.origin} draft" if self.origin else ""
        if self.dropped:
            return "dropped by a designer"
        return f"approved by {self.approved_by}" if self.approved_by else "approved"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _row(store: Store, testimonial_id: str, language: str) -> dict[str, Any] | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(subtitle_reviews).where(subtitle_reviews.c.testimonial_id == testimonial_id,
                                                           subtitle_reviews.c.language == language)).mappings().first()
    return dict(row) if row else None


def review(store: Store | None, calendar: Calendar, inbox: Path, testimonial: Testimonial, language: str) -> Review:
    state = subtitle_state(inbox, testimonial, language)
    row = _row(store, testimonial.id, language) if store is not None else None
    dropped = False
    if state.state == APPROVED:
        assert state.file
        dropped = row is None or row["approved_sha256"] != sha256_of(inbox / state.file)
    return Review(testimonial.id, language, language == testimonial.spoken_language, state.state, state.file, state.draft,
                  dropped, row["origin"] if row else None, None if dropped or not row else row["approved_by"],
                  None if dropped or not row else from_db(row["approved_at"]))


def overview(store: Store | None, calendar: Calendar, inbox: Path) -> list[Review]:
    """Every clip the calendar posts, in every language it posts it in."""
    return [review(store, calendar, inbox, t, lang) for t in calendar.testimonials if t.clip
            for lang in clip_languages(calendar, t)]


def may_approve(calendar: Calendar, language: str, channels: Collection[str] | None) -> bool:
    """A person may approve a language if a channel in their scope posts in it (None: every channel)."""
    if channels is None:
        return True
    return any(c.id in channels and language in c.languages for c in calendar.channels)


def _testimonial(calendar: Calendar, testimonial_id: str, language: str) -> Testimonial:
    clips = {t.id: t for t in calendar.testimonials if t.clip}
    if testimonial_id not in clips:
        close = difflib.get_close_matches(testimonial_id, list(clips), n=3)
        hint = f" — did you mean {', '.join(close)}?" if close else f" — testimonials with a clip: {', '.join(sorted(clips)) or 'none'}"
        raise ActionError(f"no testimonial with a clip called {testimonial_id!r} in the calendar{hint}")
    testimonial = clips[testimonial_id]
    languages = clip_languages(calendar, testimonial)
    if language not in languages:
        raise ActionError(f"the calendar posts {testimonial_id}'s clip in {', '.join(languages) or 'no language'}, not {language!r} "
                          "— add a moment in that language, or pick one of those")
    if language not in testimonial.subtitles:
        raise ActionError(f"{testimonial_id} has no `{language}:` under subtitles in the calendar — add "
                          f"`{language}: {Path(testimonial.clip or '').stem}.{language}.srt` there first")
    return testimonial


def _upsert(conn: Any, testimonial_id: str, language: str, values: dict[str, Any]) -> None:
    where = (subtitle_reviews.c.testimonial_id == testimonial_id, subtitle_reviews.c.language == language)
    if conn.execute(select(subtitle_reviews.c.state).where(*where)).first() is None:
        conn.execute(insert(subtitle_reviews).values(testimonial_id=testimonial_id, language=language, **values))
    else:
        conn.execute(update(subtitle_reviews).where(*where).values(**values))


def _audit(conn: Any, now: dt.datetime, by: str, action: str, target: str, detail: str) -> None:
    conn.execute(insert(audit).values(at=to_db(now), actor=by, action=action, target=target, detail=detail))


def record_draft(store: Store, *, testimonial_id: str, language: str, origin: str, file: str, by: str,
                 now: dt.datetime) -> None:
    """A new draft was written (by `subtitles draft` or the daemon)."""
    with store.engine.begin() as conn:
        _upsert(conn, testimonial_id, language, dict(state=DRAFT, origin=origin, updated_by=by, updated_at=to_db(now)))
        _audit(conn, now, by, "subtitles draft", f"{testimonial_id}:{language}", f"{origin}: {file}")


def save(store: Store, calendar: Calendar, inbox: Path, *, testimonial_id: str, language: str, cues: list[Cue], by: str,
         now: dt.datetime, channels: Collection[str] | None = None) -> Outcome:
    """Save edited or translated cues as the language's draft; an approved language goes back to draft."""
    testimonial = _testimonial(calendar, testimonial_id, language)
    if not may_approve(calendar, language, channels):
        raise NotAllowed(f"none of your channels posts in {language}: ask an approver of one that does")
    current = review(store, calendar, inbox, testimonial, language)
    if current.state == APPROVED and current.dropped:
        raise ActionError(f"{current.file} was dropped in the inbox by a designer and wins — replace that file to change them")
    empty = [str(n) for n, cue in enumerate(cues, 1) if not cue.text.strip()]
    if empty:
        raise ActionError(f"cue {', '.join(empty)} has no text — write every cue before saving")
    spoken = review(store, calendar, inbox, testimonial, testimonial.spoken_language)
    if language != testimonial.spoken_language and spoken.state != APPROVED:
        raise ActionError(f"approve the {testimonial.spoken_language} subtitles first: translations keep their timing")
    write_srt(inbox / current.draft, cues)
    origin = EDITED if language == testimonial.spoken_language else TRANSLATED
    target = f"{testimonial_id}:{language}"
    with store.engine.begin() as conn:
        _upsert(conn, testimonial_id, language, dict(state=DRAFT, origin=origin, updated_by=by, updated_at=to_db(now)))
        _audit(conn, now, by, "subtitles edit", target, f"{len(cues)} cues saved to {current.draft}")
        if current.state == APPROVED and current.file:
            (inbox / current.file).unlink(missing_ok=True)  # back to draft: the render waits for a new approval
            _audit(conn, now, by, "subtitles back to draft", target, f"{current.file} withdrawn until approved again")
    again = " — it was approved: it is a draft again until someone approves it" if current.state == APPROVED else ""
    return Outcome(f"saved {len(cues)} cues for {testimonial_id} in {language}{again}")


def approve(store: Store, calendar: Calendar, inbox: Path, *, testimonial_id: str, language: str, by: str,
            now: dt.datetime, channels: Collection[str] | None = None) -> Outcome:
    """The draft becomes the language's subtitles: written where the calendar names them, audited."""
    testimonial = _testimonial(calendar, testimonial_id, language)
    if not may_approve(calendar, language, channels):
        raise NotAllowed(f"none of your channels posts in {language}: ask an approver of one that does")
    current = review(store, calendar, inbox, testimonial, language)
    if current.state == APPROVED:
        return Outcome(f"{testimonial_id} {language}: already {current.who}; nothing to approve")
    if current.state == MISSING:
        raise ActionError(f"no draft for {testimonial_id} in {language} ({current.draft} is not in {inbox}) — "
                          f"run `python run.py subtitles draft {testimonial_id}`, translate it in the console, or drop the SRT")
    if language != testimonial.spoken_language:
        spoken = review(store, calendar, inbox, testimonial, testimonial.spoken_language)
        if spoken.state != APPROVED:
            raise ActionError(f"approve the {testimonial.spoken_language} subtitles of {testimonial_id} first: translations keep their timing")
    report = read_subtitles(inbox / current.draft)
    if not report.ok:
        raise ActionError(f"the draft cannot be approved: {report.reason()} — correct it in the console")
    assert current.file
    write_srt(inbox / current.file, report.cues)
    digest = sha256_of(inbox / current.file)
    target = f"{testimonial_id}:{language}"
    with store.engine.begin() as conn:
        row = conn.execute(select(subtitle_reviews.c.origin).where(subtitle_reviews.c.testimonial_id == testimonial_id,
                                                                   subtitle_reviews.c.language == language)).first()
        _upsert(conn, testimonial_id, language, dict(state=APPROVED, origin=row[0] if row else TRANSCRIBED,
                                                     approved_sha256=digest, approved_by=by, approved_at=to_db(now),
                                                     updated_by=by, updated_at=to_db(now)))
        _audit(conn, now, by, "subtitles approve", target, f"{current.file} sha256 {digest[:16]} ({len(report.cues)} cues)")
    return Outcome(f"approved {testimonial_id} subtitles in {language}: {current.file} is in the inbox; the render burns it in")


def checks(cues: list[Cue], language: str, fps: float = 24.0) -> list[list[Check]]:
    """The style guide's verdict on every cue (what the console shows beside each one)."""
    rules = rules_for(language)
    return [check_cue(cue.text, cue.start, cue.end, rules, next_start=cues[n + 1].start if n + 1 < len(cues) else None, fps=fps)
            for n, cue in enumerate(cues)]


def draft_missing(store: Store, calendar: Calendar, inbox: Path, *, now: dt.datetime, root: Path | None = None,
                  tried: set[tuple[str, int]] | None = None) -> list[str]:
    """Draft every clip in the inbox that has no subtitles in its spoken language (the daemon's job).

    `tried` remembers clips (name, mtime) whose speech could not be drafted, so a bad clip is not
    transcribed again at every pass. Raises SpeechUnavailable when there is no engine or model.
    """
    done: list[str] = []
    for testimonial in calendar.testimonials:
        if not testimonial.clip or not (inbox / testimonial.clip).is_file():
            continue
        state = subtitle_state(inbox, testimonial, testimonial.spoken_language)
        if state.state != MISSING:
            continue
        key = (testimonial.clip, (inbox / testimonial.clip).stat().st_mtime_ns)
        if tried is not None and key in tried:
            continue
        model = calendar.speech_model
        try:
            draft = make_draft(inbox, testimonial, model_dir=(root / model) if model and root else model)
        except SpeechUnavailable:
            raise
        except AssetError as error:
            if tried is not None:
                tried.add(key)
            done.append(f"{testimonial.clip}: no draft — {error}")
            continue
        record_draft(store, testimonial_id=testimonial.id, language=draft.language, origin=TRANSCRIBED,
                     file=draft.path.name, by="daemon", now=now)
        done.append(f"{draft.path.name}: {len(draft.cues)} cues drafted from the speech, waiting for approval")
    return done
