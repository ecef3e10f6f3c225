"""Plain values read from and written to the store, and the UTC conversions at its edge."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from campaign.post import MediaRef, PlannedPost

UTC = dt.timezone.utc


def to_db(moment: dt.datetime | None) -> dt.datetime | None:
    """Aware datetime -> naive UTC (the one representation every backend keeps exactly)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("the store only accepts timezone-aware datetimes")
    return moment.astimezone(UTC).replace(tzinfo=None)


def from_db(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def post_values(post: PlannedPost) -> dict[str, Any]:
    """The columns a plan decides (never state, attempts or remote ids)."""
    media = None
    if post.media is not None:
        m = post.media
        media = json.dumps({"testimonial_id": m.testimonial_id, "kind": m.kind, "variant": m.variant,
                            "language": m.language, "path": m.path, "alt_text": m.alt_text,
                            "width": m.width, "height": m.height}, ensure_ascii=False)
    return {
        "moment_id": post.moment_id,
        "occurrence": post.occurrence,
        "channel_id": post.channel_id,
        "platform": post.platform,
        "account": post.account,
        "language": post.language,
        "scheduled_at": to_db(post.scheduled_at),
        "local_time": post.local_time.isoformat(),
        "caption": post.caption,
        "link": post.link,
        "hashtags": json.dumps(list(post.hashtags), ensure_ascii=False),
        "media": media,
        "needs_approval": post.needs_approval,
        "grace_seconds": post.grace_seconds,
        "warnings": json.dumps(list(post.warnings), ensure_ascii=False),
        "content_hash": post.content_hash(),
        "idempotency_key": post.idempotency_key,
        "localizations": json.dumps(dict(post.localizations), ensure_ascii=False) if post.localizations else None,
    }


def localizations_of(row: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(language, caption) of the other languages a stored post carries (a store made before the
    column existed, or a post of one language: none)."""
    text = row.get("localizations")
    return tuple(json.loads(text).items()) if text else ()


def planned_from_row(row: Mapping[str, Any], zone: str | None = None) -> PlannedPost:
    """A `posts` row as the post the planner made (what the preview's card shows); `zone`, the
    channel's time zone, names the local time (the row keeps only its offset)."""
    media = json.loads(row["media"]) if row["media"] else None
    local = dt.datetime.fromisoformat(row["local_time"])
    if zone:
        local = local.astimezone(ZoneInfo(zone))
    return PlannedPost(
        id=row["id"], moment_id=row["moment_id"], occurrence=row["occurrence"], channel_id=row["channel_id"],
        platform=row["platform"], account=row["account"], language=row["language"],
        scheduled_at=from_db(row["scheduled_at"]),  # type: ignore[arg-type]
        local_time=local, caption=row["caption"], link=row["link"],
        hashtags=tuple(json.loads(row["hashtags"] or "[]")), media=MediaRef(**media) if media else None,
        needs_approval=bool(row["needs_approval"]), grace_seconds=row["grace_seconds"],
        warnings=tuple(json.loads(row["warnings"] or "[]")), localizations=localizations_of(row))


@dataclass(frozen=True)
class StoredPost:
    """One row of `posts`, with datetimes made aware again."""

    id: str
    moment_id: str
    occurrence: int
    channel_id: str
    platform: str
    account: str
    language: str
    scheduled_at: dt.datetime
    caption: str
    link: str | None
    hashtags: tuple[str, ...]
    media: MediaRef | None
    needs_approval: bool
    grace_seconds: int
    content_hash: str
    state: str
    state_reason: str | None
    idempotency_key: str
    remote_id: str | None
    remote_url: str | None
    attempts: int
    transient_failures: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    claimed_by: str | None
    claimed_until: dt.datetime | None
    published_at: dt.datetime | None
    local_time: dt.datetime | None = None  # the channel's local time the plan gave it (with its UTC offset)
    #: (language, caption) of the other languages it carries (`PlannedPost.localizations`).
    localizations: tuple[tuple[str, str], ...] = ()

    @property
    def grace_ends(self) -> dt.datetime:
        return self.scheduled_at + dt.timedelta(seconds=self.grace_seconds)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "StoredPost":
        media = json.loads(row["media"]) if row["media"] else None
        return cls(
            id=row["id"], moment_id=row["moment_id"], occurrence=row["occurrence"], channel_id=row["channel_id"],
            platform=row["platform"], account=row["account"], language=row["language"],
            scheduled_at=from_db(row["scheduled_at"]),  # type: ignore[arg-type]
            caption=row["caption"], link=row["link"], hashtags=tuple(json.loads(row["hashtags"] or "[]")),
            media=MediaRef(**media) if media else None, needs_approval=bool(row["needs_approval"]),
            grace_seconds=row["grace_seconds"], content_hash=row["content_hash"], state=row["state"],
            state_reason=row["state_reason"], idempotency_key=row["idempotency_key"], remote_id=row["remote_id"],
            remote_url=row["remote_url"], attempts=row["attempts"], transient_failures=row["transient_failures"],
            next_attempt_at=from_db(row["next_attempt_at"]), last_error=row["last_error"],
            claimed_by=row["claimed_by"], claimed_until=from_db(row["claimed_until"]),
            published_at=from_db(row["published_at"]),
            local_time=dt.datetime.fromisoformat(row["local_time"]) if row.get("local_time") else None,
            localizations=localizations_of(row),
        )


@dataclass(frozen=True)
class Claim:
    """A post this worker now owns (state publishing, lease held) and its attempt row."""

    post: StoredPost
    attempt_id: int
    worker: str
