"""`/api/v1/posts`: list and read posts, approve them, send them back with a comment, their comments.

Thin: each write is one `scheduler.actions` function, the same the console's buttons and the
CLI call. A read gives each post's `etag`; a write with `If-Match` is refused (412) when the
post changed since.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from console.api.auth import Approver, Caller, allowed_channel, check_if_match, etag
from console.api.errors import COMMON_RESPONSES, ApiError, Problem
from console.views import STATE_LABELS, channels_of, threads
from scheduler import actions
from scheduler.plan.preview import account_label
from scheduler.store import states
from scheduler.store.reads import PostFilter, find_posts
from scheduler.store.rows import StoredPost, from_db, planned_from_row

router = APIRouter(tags=["posts"], responses=COMMON_RESPONSES)

State = Literal[states.ALL]  # type: ignore[valid-type]


class MediaOut(BaseModel):
    kind: str = Field(description="photo or clip")
    variant: str
    path: str = Field(description="The rendered file, relative to the build folder.")
    alt_text: str | None = None


class PostOut(BaseModel):
    """One post as the store holds it."""

    id: str = Field(examples=["europe-day.2027.be-x.en"])
    moment: str
    channel: str
    platform: str
    account: str = Field(description="The account as the platform identifies it (may be a numeric id or a URN).")
    account_name: str = Field(description="The account as readers see it (the calendar's `name`), as the preview shows it.")
    language: str
    scheduled_at: dt.datetime = Field(description="When it goes out, UTC.")
    local_time: dt.datetime = Field(description="The same instant in the channel's time zone.")
    caption: str
    link: str | None = None
    hashtags: list[str] = []
    media: MediaOut | None = None
    needs_approval: bool
    state: State  # type: ignore[valid-type]
    state_label: str = Field(description="The state as the console shows it, e.g. 'waits for approval'.")
    state_reason: str | None = None
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    remote_url: str | None = None
    warnings: list[str] = []
    etag: str = Field(description="Send it back as `If-Match` with a write to refuse it if the post changed since.")


class PostList(BaseModel):
    total: int = Field(description="How many posts match the filters in all.")
    offset: int
    limit: int
    posts: list[PostOut]


class PostFilters(BaseModel):
    """Every filter narrows; dates are days in the campaign's time zone, `to` included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    state: State | None = Field(None, description="One state, e.g. planned (waits for approval).")  # type: ignore[valid-type]
    channel: str | None = Field(None, description="A channel id, e.g. embassy-tokyo.")
    moment: str | None = Field(None, description="A moment id.")
    language: str | None = Field(None, description="A language code, e.g. ja.")
    from_: dt.date | dt.datetime | None = Field(None, alias="from", description="From this day (or instant), included.")
    to: dt.date | dt.datetime | None = Field(None, description="To this day (included) or instant (excluded).")
    limit: int = Field(200, ge=1, le=1000)
    offset: int = Field(0, ge=0)


class SendBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=actions.MAX_COMMENT, description="Why, for whoever edits the calendar or the asset.")


class ActionOut(BaseModel):
    message: str = Field(description="What was done, in a sentence (as the console and the CLI say it).")
    posts: list[PostOut]


def post_etag(row: Any) -> str:
    """From a `posts` row: changes with every state change, re-plan or approval."""
    return etag(row["id"], row["state"], row["content_hash"], row["updated_at"], row["approved_by"], row["state_reason"])


def _zone(request: Request) -> tuple[Any, dict[str, Any]]:
    """The campaign's time zone (days in filters) and the calendar's channels (names, zones)."""
    calendar = request.app.state.console.calendar()
    return (ZoneInfo(calendar.campaign.timezone) if calendar else dt.timezone.utc), channels_of(calendar)


def post_out(row: Any, channels: dict[str, Any]) -> PostOut:
    """A `posts` row as the API shows it."""
    channel = channels.get(row["channel_id"])
    planned = planned_from_row(row, channel.timezone if channel else None)
    stored = StoredPost.from_row(row)
    media = planned.media
    return PostOut(
        id=stored.id, moment=stored.moment_id, channel=stored.channel_id, platform=stored.platform,
        account=stored.account, account_name=account_label(channel, stored.account), language=stored.language,
        scheduled_at=stored.scheduled_at, local_time=planned.local_time, caption=stored.caption, link=planned.link,
        hashtags=list(planned.hashtags),
        media=MediaOut(kind=media.kind, variant=media.variant, path=media.path, alt_text=media.alt_text) if media else None,
        needs_approval=stored.needs_approval, state=stored.state, state_label=STATE_LABELS.get(stored.state, stored.state),
        state_reason=stored.state_reason, approved_by=row["approved_by"], approved_at=from_db(row["approved_at"]),
        published_at=stored.published_at, remote_url=stored.remote_url, warnings=list(planned.warnings),
        etag=post_etag(row))


def _bounds(value: dt.date | dt.datetime | None, zone: Any, *, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    day = value + dt.timedelta(days=1) if end else value
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


@router.get("/posts", response_model=PostList, summary="List posts",
            description="Posts in time order, filtered by state, channel, moment, language and days.")
def list_posts(request: Request, me: Caller, filters: Annotated[PostFilters, Query()]) -> PostList:
    zone, channels = _zone(request)
    start, end = _bounds(filters.from_, zone, end=False), _bounds(filters.to, zone, end=True)
    if start and end and end <= start:
        raise ApiError(422, "`to` is before `from`", [{"field": "to", "message": "must be on or after `from`"}])
    store = request.app.state.console.store
    rows, total = find_posts(store, PostFilter(state=filters.state, channel=filters.channel, moment=filters.moment,
                                               language=filters.language, start=start, end=end),
                             limit=filters.limit, offset=filters.offset)
    return PostList(total=total, offset=filters.offset, limit=filters.limit, posts=[post_out(r, channels) for r in rows])


def _one(request: Request, post_id: str) -> tuple[Any, dict[str, Any]]:
    store = request.app.state.console.store
    rows, _ = find_posts(store, PostFilter(ids=[post_id]))
    if not rows:
        raise ApiError(404, f"there is no post {post_id} in the store")
    return rows[0], _zone(request)[1]


@router.get("/posts/{post_id}", response_model=PostOut, summary="Read one post",
            responses={404: {"model": Problem, "description": "No such post."}})
def read_post(request: Request, response: Response, me: Caller, post_id: str) -> PostOut:
    row, channels = _one(request, post_id)
    out = post_out(row, channels)
    response.headers["ETag"] = out.etag
    return out


def _write(request: Request, response: Response, me: Any, post_id: str, action: Any, **kwargs: Any) -> ActionOut:
    """Check channel and If-Match, run the action, answer with the post as it is now."""
    console = request.app.state.console
    row, channels = _one(request, post_id)
    allowed_channel(me, row["channel_id"], f"post {post_id}")
    check_if_match(request, post_etag(row))
    try:
        outcome = action(console.store, by=me.name, now=console.clock.now(), channels=me.scope, **kwargs)
    except actions.NotAllowed as error:
        raise ApiError(403, str(error)) from None
    except actions.ActionError as error:
        raise ApiError(409, str(error)) from None
    row, channels = _one(request, post_id)
    out = post_out(row, channels)
    response.headers["ETag"] = out.etag
    return ActionOut(message=outcome.message, posts=[out])


_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such post."},
    409: {"model": Problem, "description": "The post is not in a state this applies to (gone out, not waiting)."},
    412: {"model": Problem, "description": "`If-Match` names an older ETag: the post changed since it was read."},
}


@router.post("/posts/{post_id}/approve", response_model=ActionOut, summary="Approve a post",
             description="Approve a post waiting for approval (state `planned`). Approving an approved post "
                         "changes nothing. Send `If-Match: ETAG` from a read to refuse it if the post changed.",
             responses=_WRITE_RESPONSES)
def approve_post(request: Request, response: Response, me: Approver, post_id: str) -> ActionOut:
    row, _ = _one(request, post_id)
    allowed_channel(me, row["channel_id"], f"post {post_id}")
    check_if_match(request, post_etag(row))
    if row["state"] not in (states.PLANNED, states.APPROVED):
        raise ApiError(409, f"{post_id} is {STATE_LABELS.get(row['state'], row['state'])}: only posts waiting for "
                            "approval can be approved")
    return _write(request, response, me, post_id, actions.approve_posts, post_ids=[post_id])


@router.post("/posts/{post_id}/send-back", response_model=ActionOut, summary="Send a post back",
             description="Hold a post that has not gone out, with a comment for whoever edits the calendar or the "
                         "asset; it waits for approval again once its calendar entry or asset changes.",
             responses=_WRITE_RESPONSES)
def send_back_post(request: Request, response: Response, me: Approver, post_id: str, body: SendBackIn) -> ActionOut:
    return _write(request, response, me, post_id, actions.send_back, post=post_id, comment=body.comment)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=actions.MAX_COMMENT)


class CommentOut(BaseModel):
    at: dt.datetime
    by: str
    text: str
    sent_back: bool = Field(description="This comment sent the post back (and held it).")


@router.get("/posts/{post_id}/comments", response_model=list[CommentOut], summary="A post's comments",
            description="The post's thread, oldest first: comments and send-backs (each also in the audit trail).",
            responses={404: {"model": Problem, "description": "No such post."}})
def list_comments(request: Request, me: Caller, post_id: str) -> list[CommentOut]:
    _one(request, post_id)
    found = threads(request.app.state.console.store, [post_id]).get(post_id, [])
    return [CommentOut(at=c.at, by=c.who, text=c.text, sent_back=c.sent_back) for c in found]


@router.post("/posts/{post_id}/comments", response_model=ActionOut, status_code=201, summary="Comment on a post",
             description="Add to the post's thread; it changes nothing else (send-back is the comment that holds).",
             responses={404: {"model": Problem, "description": "No such post."}})
def add_comment(request: Request, response: Response, me: Caller, post_id: str, body: CommentIn) -> ActionOut:
    return _write(request, response, me, post_id, actions.comment, post=post_id, text=body.text)
