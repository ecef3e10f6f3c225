"""CLI: `subtitles draft TESTIMONIAL`, `subtitles status`, `subtitles approve TESTIMONIAL --language LANG`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from application.cli_support import DEFAULT_CALENDAR, EXIT_BAD_INPUT, CalendarOption, load_or_exit, store_clock_or_exit
from application.commands.scheduler import ByOption, DbOption, _store, _who, store_errors
from assets.pipeline import DEFAULT_INBOX
from assets.speech.drafts import make_draft
from assets.speech.model import SpeechUnavailable
from campaign.errors import AssetError
from scheduler import subtitle_review
from scheduler.actions import ActionError
from scheduler.store.engine import resolve_url, sqlite_file

app = typer.Typer(help="Subtitles from the clips' speech: draft, status, approve (per language).", no_args_is_help=True)
InboxOption = Annotated[Path, typer.Option("--inbox", help="Folder where designers drop clips and subtitles.")]


def _existing_store(db: str | None):  # type: ignore[no-untyped-def]
    """The store if there is one: a draft is written without it, and recorded in it when it exists."""
    path = sqlite_file(resolve_url(db))
    if path is not None and not path.exists():
        return None
    return _store(db)


@app.command("draft")
@store_errors
def draft(testimonial: Annotated[str, typer.Argument(help="The testimonial whose clip is transcribed.")],
          calendar: CalendarOption = DEFAULT_CALENDAR, inbox: InboxOption = DEFAULT_INBOX,
          translate: Annotated[bool, typer.Option("--translate", help="English machine draft from another spoken language (Whisper's translate task).")] = False,
          by: ByOption = None, db: DbOption = None) -> None:
    """Transcribe the clip's speech offline into `<clip>.<lang>.draft.srt` beside it in the inbox (never burned in)."""
    loaded = load_or_exit(calendar)
    clips = {t.id: t for t in loaded.calendar.testimonials if t.clip}
    if testimonial not in clips:
        try:
            subtitle_review._testimonial(loaded.calendar, testimonial, "")
        except ActionError as error:
            print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    model = loaded.calendar.speech_model
    try:
        result = make_draft(inbox, clips[testimonial], translate=translate,
                            model_dir=(loaded.root / model) if model else None)
    except SpeechUnavailable as error:
        print(f"cannot transcribe: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except AssetError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    origin = subtitle_review.MACHINE if result.machine_translation else subtitle_review.TRANSCRIBED
    store = _existing_store(db)
    if store is not None:
        subtitle_review.record_draft(store, testimonial_id=testimonial, language=result.language, origin=origin,
                                     file=result.path.name, by=_who(by), now=store_clock_or_exit(store).now())
    mark = " — MACHINE DRAFT (Whisper's translation): check every cue against the speech" if result.machine_translation else ""
    print(f"wrote {result.path} ({len(result.cues)} cues, {result.language}){mark}")
    for problems, cue in zip(subtitle_review.checks(list(result.cues), result.language), result.cues):
        for problem in problems:
            print(f"  {result.path.name}:{cue.line}: {problem.kind}: {problem.message}")
    name = clips[testimonial].subtitles.get(result.language)
    if name and (inbox / name).is_file():
        print(f"note: {name} is in the inbox and wins over this draft (a dropped file needs no approval)")
    else:
        print(f"approve it in the console, or: python run.py subtitles approve {testimonial} --language {result.language}")


@app.command("status")
@store_errors
def status(calendar: CalendarOption = DEFAULT_CALENDAR, inbox: InboxOption = DEFAULT_INBOX, db: DbOption = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Per clip and language: subtitles approved (by whom, or dropped), draft, or missing."""
    loaded = load_or_exit(calendar, quiet_warnings=as_json)
    rows = subtitle_review.overview(_existing_store(db), loaded.calendar, inbox)
    if as_json:
        print(json.dumps([{"testimonial": r.testimonial_id, "language": r.language, "state": r.state, "file": r.file,
                           "draft": r.draft, "dropped": r.dropped, "origin": r.origin, "approved_by": r.approved_by,
                           "approved_at": r.approved_at.isoformat() if r.approved_at else None} for r in rows], indent=2))
        return
    if not rows:
        print("no clip is posted by the calendar")
    for r in rows:
        print(f"{r.testimonial_id:<22} {r.language:<3} subtitles: {r.state:<8} {r.who}")


@app.command("approve")
@store_errors
def approve(testimonial: Annotated[str, typer.Argument()],
            language: Annotated[str, typer.Option("--language", help="The language whose draft becomes the subtitles.")],
            calendar: CalendarOption = DEFAULT_CALENDAR, inbox: InboxOption = DEFAULT_INBOX,
            by: ByOption = None, db: DbOption = None) -> None:
    """The draft becomes the language's subtitles (the render burns them in); audited."""
    loaded = load_or_exit(calendar)
    try:
        store = _store(db)
        outcome = subtitle_review.approve(store, loaded.calendar, inbox, testimonial_id=testimonial, language=language,
                                          by=_who(by), now=store_clock_or_exit(store).now())
    except ActionError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    print(outcome.message)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="subtitles")
