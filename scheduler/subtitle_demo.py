"""The demo's subtitle step: James Carter's clip dropped without its `.en.srt`, drafted from his
speech, approved, and rendered with those cues (the rest of the samples as shipped).

The samples are never changed: the demo works on a copy in `<work>/inbox`, made anew each run,
and records the draft and approval in `<work>/subtitles.db` (the audit trail of a real store).
Without the `[speech]` extra it says how to see it and renders the samples as they are.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from assets.speech.model import SpeechUnavailable
from assets.subtitles import read_subtitles
from campaign.calendar import LoadedCalendar
from scheduler import subtitle_review
from scheduler.store import Store

CLIP = "james-carter"


def speech_step(console: Any, loaded: LoadedCalendar, samples: Path, work: Path) -> Path:
    """The inbox the demo renders from: a copy of the samples with one clip subtitled from its speech."""
    calendar = loaded.calendar
    testimonial = next((t for t in calendar.testimonials if t.id == CLIP and t.clip), None)
    language = testimonial.spoken_language if testimonial else "en"
    shipped = testimonial.subtitles.get(language) if testimonial else None
    if testimonial is None or not shipped or not (samples / shipped).is_file():
        return samples
    inbox = work / "inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inbox.mkdir(parents=True)
    for path in sorted(samples.iterdir()):
        if path.is_file() and path.name != shipped:
            shutil.copy2(path, inbox / path.name)
    database = work / "subtitles.db"
    database.unlink(missing_ok=True)
    store = Store(f"sqlite:///{database}")
    now = dt.datetime.now(dt.timezone.utc)
    try:
        drafted = subtitle_review.draft_missing(store, calendar, inbox, now=now, root=loaded.root)
        draft = read_subtitles(inbox / f"{Path(testimonial.clip or '').stem}.{language}.draft.srt").cues
        subtitle_review.approve(store, calendar, inbox, testimonial_id=CLIP, language=language, by="rehearsal", now=now)
    except SpeechUnavailable as error:
        shutil.rmtree(inbox, ignore_errors=True)
        console.print(f"{CLIP}'s subtitles come as shipped: to see them drafted from the speech, {error}", highlight=False)
        return samples
    finally:
        store.close()
    quality = ""
    try:
        from assets.speech.figures import compare  # jiwer: a test and bench dependency

        figures = compare(draft, read_subtitles(samples / shipped).cues, language)
        quality = f", {figures.measure} {figures.error_rate:.0%} against the shipped {shipped}"
    except ImportError:
        pass
    console.print(f"{testimonial.clip} dropped without {shipped}: {'; '.join(drafted)}{quality}; approved as 'rehearsal' "
                  f"(audit in {database}); the render burns these cues in", highlight=False, soft_wrap=True)
    return inbox
