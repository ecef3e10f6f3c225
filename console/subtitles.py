"""Console pages for subtitles: the clip plays beside its cues; correct and approve the spoken
language first, then translate each language the calendar needs cue by cue, keeping the approved
timing, with the style guide's checks live per cue (htmx) and the reading speed shown.

Thin over `scheduler.subtitle_review`, which the CLI uses too. Who may save and approve a
language: an approver (or admin) with a channel that posts in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from assets.probe import probe
from assets.speech.drafts import APPROVED, DRAFT, clip_languages
from assets.speech.styleguide import DEFAULT_FPS, Check, check_cue, reading_speed, rules_for
from assets.subtitles import Cue, read_subtitles
from campaign.languages import RIGHT_TO_LEFT
from console.accounts import Account
from console.app import _back, _error, _form, _now, page, render
from scheduler import subtitle_review
from scheduler.actions import ActionError, NotAllowed

#: Who may correct, translate and approve subtitles: an approver, or an editor (when the role table
#: has that row), of a channel that posts in the language; admins have every role's rights.
SUBTITLE_ROLES = ("approver", "editor")


@dataclass
class Column:
    """One language of one clip: its state and one text per cue of the spoken language."""

    review: subtitle_review.Review
    texts: list[str]
    checks: list[list[Check]] = field(default_factory=list)
    speeds: list[float] = field(default_factory=list)
    editable: bool = False
    rtl: bool = False


def _cues_of(inbox: Path, row: subtitle_review.Review) -> list[Cue]:
    name = row.file if row.state == APPROVED else row.draft if row.state == DRAFT else None
    if not name:
        return []
    return list(read_subtitles(inbox / name).cues)


def _onto(cues: list[Cue], timing: list[Cue]) -> list[str]:
    """Another timing's text (Whisper's English machine draft) put on the spoken cues by time:
    each cue takes the text whose middle falls in it, for the translator to start from."""
    texts = []
    for n, cue in enumerate(timing):
        until = timing[n + 1].start if n + 1 < len(timing) else float("inf")
        start = cue.start if n else float("-inf")
        texts.append(" ".join(c.text.replace("\n", " ") for c in cues if start <= (c.start + c.end) / 2 < until))
    return texts


def _fps(clip: Path) -> float:
    try:
        return probe(clip, decode_first_frame=False).fps or DEFAULT_FPS
    except Exception:  # noqa: BLE001 - an unreadable clip still shows its cues
        return DEFAULT_FPS


def _may_edit(me: Account, calendar: Any, language: str) -> bool:
    return _has_role(me) and subtitle_review.may_approve(calendar, language, me.scope)


def _has_role(me: Account) -> bool:
    return any(me.can(role) for role in SUBTITLE_ROLES)


def clip_view(console: Any, me: Account, testimonial_id: str) -> dict[str, Any] | None:
    calendar = console.calendar()
    if calendar is None:
        return None
    testimonial = next((t for t in calendar.testimonials if t.id == testimonial_id and t.clip), None)
    if testimonial is None:
        return None
    inbox = console.config.inbox
    languages = clip_languages(calendar, testimonial) or [testimonial.spoken_language]
    spoken_row = subtitle_review.review(console.store, calendar, inbox, testimonial, testimonial.spoken_language)
    timing = _cues_of(inbox, spoken_row)
    fps = _fps(inbox / (testimonial.clip or ""))
    columns: list[Column] = []
    for language in languages:
        row = spoken_row if language == testimonial.spoken_language else subtitle_review.review(
            console.store, calendar, inbox, testimonial, language)
        own = timing if row is spoken_row else _cues_of(inbox, row)
        texts = [c.text for c in own] if len(own) == len(timing) else _onto(own, timing)
        rules = rules_for(language)
        column = Column(row, texts, rtl=language in RIGHT_TO_LEFT)
        for n, cue in enumerate(timing):
            nxt = timing[n + 1].start if n + 1 < len(timing) else None
            column.checks.append(check_cue(texts[n], cue.start, cue.end, rules, next_start=nxt, fps=fps) if texts[n] else [])
            column.speeds.append(reading_speed(texts[n], cue.end - cue.start, rules))
        spoken_ready = spoken_row.state == APPROVED
        column.editable = (not (row.state == APPROVED and row.dropped) and _may_edit(me, calendar, language)
                           and (row is spoken_row or spoken_ready))
        columns.append(column)
    return dict(testimonial=testimonial, timing=timing, columns=columns, fps=fps, spoken=spoken_row,
                rules={c.review.language: rules_for(c.review.language) for c in columns})


async def subtitles_page(request: Request, console: Any, me: Account) -> Response:
    calendar = console.calendar()
    rows = subtitle_review.overview(console.store, calendar, console.config.inbox) if calendar else []
    return render(request, console, "subtitles.html.j2", me, rows=rows)


async def clip_page(request: Request, console: Any, me: Account) -> Response:
    view = clip_view(console, me, request.path_params["testimonial"])
    if view is None:
        return _error(request, console, me, 404, f"No clip called {request.path_params['testimonial']} in the calendar.")
    return render(request, console, "subtitle_clip.html.j2", me, **view)


async def clip_file(request: Request, console: Any, me: Account) -> Response:
    calendar = console.calendar()
    testimonial = next((t for t in (calendar.testimonials if calendar else []) if t.id == request.path_params["testimonial"]), None)
    inbox = console.config.inbox.resolve()
    if testimonial is None or not testimonial.clip:
        return PlainTextResponse("no such clip", status_code=404)
    path = (inbox / testimonial.clip).resolve()
    if inbox not in path.parents or not path.is_file():
        return PlainTextResponse("the clip is not in the inbox", status_code=404)
    return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, no-cache"})


def _cues_from_form(form: dict[str, str], timing: list[Cue], spoken: bool) -> list[Cue]:
    cues = []
    for n, cue in enumerate(timing, 1):
        text = "\n".join(line.strip() for line in form.get(f"text-{n}", "").replace("\r\n", "\n").split("\n") if line.strip())
        start, end = cue.start, cue.end
        if spoken:  # the spoken language may retime its cues; translations keep them
            try:
                start = float(form.get(f"start-{n}", start))
                end = float(form.get(f"end-{n}", end))
            except ValueError:
                raise ActionError(f"cue {n}: times are seconds, like 1.25") from None
        cues.append(Cue(start, end, text, n))
    return cues


async def save_action(request: Request, console: Any, me: Account) -> Response:
    form = await _form(request)
    testimonial_id, language = request.path_params["testimonial"], form.get("language", "")
    if not _has_role(me):
        return _error(request, console, me, 403, f"Only {' or '.join(SUBTITLE_ROLES)}s edit subtitles; you are a {me.role}.")
    view = clip_view(console, me, testimonial_id)
    if view is None:
        return _error(request, console, me, 404, f"No clip called {testimonial_id} in the calendar.")
    try:
        cues = _cues_from_form(form, view["timing"], language == view["testimonial"].spoken_language)
        outcome = subtitle_review.save(console.store, console.calendar(), console.config.inbox, testimonial_id=testimonial_id,
                                       language=language, cues=cues, by=me.name, now=_now(console), channels=me.scope)
    except NotAllowed as error:
        return _error(request, console, me, 403, str(error))
    except ActionError as error:
        return _back(request, f"Not done: {error}")
    if form.get("then") == "approve":
        return await _approve(request, console, me, testimonial_id, language, prefix=outcome.message + "; ")
    return _back(request, outcome.message)


async def approve_action(request: Request, console: Any, me: Account) -> Response:
    form = await _form(request)
    return await _approve(request, console, me, request.path_params["testimonial"], form.get("language", ""))


async def _approve(request: Request, console: Any, me: Account, testimonial_id: str, language: str, prefix: str = "") -> Response:
    if not _has_role(me):
        return _error(request, console, me, 403, f"Only {' or '.join(SUBTITLE_ROLES)}s approve subtitles; you are a {me.role}.")
    try:
        outcome = subtitle_review.approve(console.store, console.calendar(), console.config.inbox, testimonial_id=testimonial_id,
                                          language=language, by=me.name, now=_now(console), channels=me.scope)
    except NotAllowed as error:
        return _error(request, console, me, 403, str(error))
    except ActionError as error:
        return _back(request, f"Not done: {prefix}{error}")
    return _back(request, prefix + outcome.message)


async def check_fragment(request: Request, console: Any, me: Account) -> Response:
    """htmx, as a person types: the style guide's verdict on one cue and its reading speed."""
    form = await _form(request)
    language = form.get("language", "")
    rules = rules_for(language)
    text = form.get(form.get("field", ""), "") if form.get("field", "").startswith("text-") else ""
    text = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip())
    try:
        start, end = float(form.get("start", "0")), float(form.get("end", "0"))
        nxt = float(form["next_start"]) if form.get("next_start") else None
        fps = float(form.get("fps") or DEFAULT_FPS)
    except ValueError:
        return PlainTextResponse("times are seconds", status_code=400)
    found = check_cue(text, start, end, rules, next_start=nxt, fps=fps) if text else []
    return render(request, console, "_cue_check.html.j2", me, checks=found, text=text,
                  speed=reading_speed(text, end - start, rules), rules=rules)


def routes() -> list[Route]:
    """Registered by console/app.py; each handler wrapped with the console's session, CSRF and role checks."""
    return [
        Route("/subtitles", page("viewer")(subtitles_page), methods=["GET"]),
        Route("/subtitles/check", page("viewer", post=True)(check_fragment), methods=["POST"]),
        Route("/subtitles/{testimonial}", page("viewer")(clip_page), methods=["GET"]),
        Route("/subtitles/{testimonial}/clip.mp4", page("viewer")(clip_file), methods=["GET"]),
        Route("/subtitles/{testimonial}/save", page("viewer", post=True)(save_action), methods=["POST"]),
        Route("/subtitles/{testimonial}/approve", page("viewer", post=True)(approve_action), methods=["POST"]),
    ]
