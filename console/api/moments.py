"""`/api/v1/moments`: read the calendar's moments, add one, change one (and a testimonial's
quotes and alt text).

Thin: a write is `scheduler.edits.apply`, the function the console's forms call, so the same
changes give the same `calendar.yaml` (written by the round-trip writer, checked as `validate`
checks, committed where the folder is a git repository, scheduled at once). A read gives each
moment's `etag`; a write with `If-Match` naming an older one is refused (412). Problems come
back as 422 with `validate`'s messages and their lines; a moment naming a channel outside an
editor's is 403 with the reason. `?dry_run=true` says what the save would do, writing nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from campaign.calendar.writer import Draft, StaleCalendar
from campaign.errors import CalendarError
from console.accounts import Account
from console.api.auth import Caller, check_if_match, etag, needs
from console.api.errors import COMMON_RESPONSES, ApiError, Problem, invalid
from scheduler import edits
from scheduler.actions import ActionError, NotAllowed

router = APIRouter(tags=["moments"], responses=COMMON_RESPONSES)
Editor = Annotated[Account, Depends(needs("editor"))]

Hashtags = list[str] | dict[str, list[str]]
Link = str | dict[str, str]


class MomentFields(BaseModel):
    """A moment's keys as `calendar.yaml` writes them (README, "The calendar"). The calendar's own
    checks judge the values (422 with each problem's line), as `validate` does."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, examples=["Belgian trade mission to Osaka"])
    titles: dict[str, str] | None = Field(None, description="Per language, e.g. {\"ja\": \"…\"}.")
    date: dt.date | None = Field(None, description="One day; or `start` and `end`.")
    start: dt.date | None = None
    end: dt.date | None = None
    recurrence: Literal["yearly"] | None = None
    pillar: str | None = Field(None, examples=["innovation"])
    channels: list[str] | None = Field(None, examples=[["embassy-tokyo"]])
    languages: list[str] | None = Field(None, description="Narrows the channels' languages.")
    testimonials: list[str] | None = None
    media: Literal["photo", "clip", "auto"] | None = None
    template: str | None = None
    hashtags: Hashtags | None = Field(None, description="One list, or one per language.")
    link: Link | None = Field(None, description="One link, or one per language.")


class MomentIn(MomentFields):
    id: str = Field(examples=["trade-mission-osaka-2027"])


class MomentPatch(MomentFields):
    """Only the keys given change; `null` removes an optional key. `id` renames the moment."""

    id: str | None = None


class Moment(MomentIn):
    etag: str = Field(description="Send it back as `If-Match` with a write to refuse it if the moment changed since.")


class MomentList(BaseModel):
    moments: list[Moment]
    calendar_hash: str = Field(description="SHA-256 of calendar.yaml as read.")


class ImpactOut(BaseModel):
    """What the save does (or would do) to the store, post ids per kind."""

    sentence: str = Field(examples=["adds 4 posts, moves 2, cancels 1 (already approved: 1)"])
    added: list[str] = []
    moved: list[str] = []
    changed: list[str] = []
    cancelled: list[str] = []
    approved: list[str] = Field([], description="Moved, changed or cancelled posts that had been approved.")
    not_applied: list[str] = Field([], description="Already published or in flight: the change does not reach them.")


class Saved(BaseModel):
    message: str
    saved: bool = Field(description="False for a dry run, or when the calendar already said that.")
    commit: str | None = Field(None, description="The git commit of the save, where the calendar's folder is a repository.")
    diff: str = Field(description="The change to calendar.yaml, as a unified diff.")
    impact: ImpactOut
    moment: Moment | None = None


class QuotesPatch(BaseModel):
    """Quotes and alt text per language; `null` (or "") removes that language's text."""

    model_config = ConfigDict(extra="forbid")

    quote: dict[str, str | None] | None = None
    alt_text: dict[str, str | None] | None = None


_WRITES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such moment."},
    409: {"model": Problem, "description": "The file changed while saving (try again), or the change cannot be made."},
    412: {"model": Problem, "description": "`If-Match` names an older ETag: the moment changed since it was read."},
}


def moment_etag(data: dict[str, Any]) -> str:
    return etag(json.dumps(data, sort_keys=True, default=str))


def _calendar(request: Request) -> tuple[Any, Draft]:
    console = request.app.state.console
    path = console.config.calendar.resolve()
    try:
        return console, Draft.open(path)
    except CalendarError as error:
        raise invalid(error.problems, "calendar.yaml cannot be read as it stands: fix it first") from None


def _moment(draft: Draft, moment_id: str) -> dict[str, Any]:
    found = edits._entry(draft.get(()), "moments", moment_id)
    if found is None:
        raise ApiError(404, f"there is no moment {moment_id} in {draft.path.name}")
    return found


def _out(data: dict[str, Any]) -> Moment:
    return Moment(**data, etag=moment_etag(data))


def _save(request: Request, me: Account, change: edits.Change, dry_run: bool, moment_id: str | None) -> Saved:
    console = request.app.state.console
    path = console.config.calendar.resolve()
    who = edits.Editor(me.name, me.role, None if me.role == "admin" else me.channels)
    now = console.clock.now()
    try:
        if dry_run:
            seen = edits.preview(console.store, path, [change], who=who, now=now, build=console.config.build)
            if not seen.valid:
                raise CalendarError(seen.problems, seen.warnings)
            impact, message, commit, diff, saved = seen.impact, f"would save: {seen.impact.sentence()}", None, seen.diff, False
        else:
            done = edits.apply(console.store, path, [change], who=who, now=now, build=console.config.build, base_hash=None)
            impact, message, commit, diff, saved = (done.impact, done.outcome.message, done.commit, done.saved.diff,
                                                    done.saved.changed)
    except NotAllowed as error:
        raise ApiError(403, str(error)) from None
    except CalendarError as error:
        raise invalid(error.problems, "the calendar would not validate with this change: nothing was written") from None
    except StaleCalendar as error:
        raise ApiError(409, str(error)) from None
    except ActionError as error:
        raise ApiError(404 if str(error).startswith("there is no") else 409, str(error)) from None
    assert impact is not None
    moment = None
    if moment_id is not None and not dry_run:
        moment = _out(_moment(Draft.open(path), moment_id))
    return Saved(message=message, saved=saved, commit=commit, diff=diff, moment=moment,
                 impact=ImpactOut(sentence=impact.sentence(), added=impact.added, moved=impact.moved,
                                  changed=impact.changed, cancelled=impact.cancelled, approved=impact.approved,
                                  not_applied=impact.not_applied))


@router.get("/moments", response_model=MomentList, summary="List the moments",
            description="Every moment of calendar.yaml, as the file writes it, each with its ETag.")
def list_moments(request: Request, me: Caller) -> MomentList:
    _console, draft = _calendar(request)
    return MomentList(moments=[_out(m) for m in draft.get(("moments",), []) or []], calendar_hash=draft.base_hash)


@router.get("/moments/{moment_id}", response_model=Moment, summary="Read one moment",
            responses={404: {"model": Problem, "description": "No such moment."}})
def read_moment(request: Request, response: Response, me: Caller, moment_id: str) -> Moment:
    _console, draft = _calendar(request)
    out = _out(_moment(draft, moment_id))
    response.headers["ETag"] = out.etag
    return out


@router.post("/moments", response_model=Saved, status_code=201, summary="Add a moment",
             description="Add a moment to calendar.yaml (checked as `validate` checks it, committed, scheduled at "
                         "once). Editors may name only their own channels.", responses=_WRITES)
def add_moment(request: Request, response: Response, me: Editor, body: MomentIn,
               dry_run: Annotated[bool, Query(description="Say what it would do; write nothing.")] = False) -> Saved:
    data = body.model_dump(exclude_none=True)
    out = _save(request, me, edits.Change("moments", None, data), dry_run, None if dry_run else body.id)
    if out.moment is not None:
        response.headers["ETag"] = out.moment.etag
        response.headers["Location"] = f"{request.scope.get('root_path', '')}/moments/{body.id}"
    if dry_run:
        response.status_code = 200
    return out


@router.patch("/moments/{moment_id}", response_model=Saved, summary="Change a moment",
              description="Change the keys given (`null` removes an optional key). Send `If-Match: ETAG` from a "
                          "read: 412 if the moment changed since.", responses=_WRITES)
def change_moment(request: Request, response: Response, me: Editor, moment_id: str, body: MomentPatch,
                  dry_run: Annotated[bool, Query(description="Say what it would do; write nothing.")] = False) -> Saved:
    _console, draft = _calendar(request)
    old = _moment(draft, moment_id)
    check_if_match(request, moment_etag(old))
    given = body.model_dump(exclude_unset=True)
    new = {**old, **{k: v for k, v in given.items() if v is not None}}
    for key in [k for k, v in given.items() if v is None]:
        new.pop(key, None)
    new_id = str(new.get("id") or moment_id)
    out = _save(request, me, edits.Change("moments", moment_id, new), dry_run, None if dry_run else new_id)
    if out.moment is not None:
        response.headers["ETag"] = out.moment.etag
    return out


@router.patch("/testimonials/{testimonial_id}/quotes", response_model=Saved, summary="Change quotes and alt text",
              description="A testimonial's quote and alt text per language (editors: in their channels' languages).",
              responses=_WRITES)
def change_quotes(request: Request, me: Editor, testimonial_id: str, body: QuotesPatch,
                  dry_run: Annotated[bool, Query(description="Say what it would do; write nothing.")] = False) -> Saved:
    _console, draft = _calendar(request)
    old = edits._entry(draft.get(()), "testimonials", testimonial_id)
    if old is None:
        raise ApiError(404, f"there is no testimonial {testimonial_id} in {draft.path.name}")
    check_if_match(request, moment_etag(old))
    new = dict(old)
    for key, given in body.model_dump(exclude_unset=True).items():
        texts = dict(old.get(key) or {})
        for lang, text in (given or {}).items():
            if text:
                texts[lang] = text
            else:
                texts.pop(lang, None)
        if texts:
            new[key] = texts
        else:
            new.pop(key, None)
    return _save(request, me, edits.Change("testimonials", testimonial_id, new), dry_run, None)
