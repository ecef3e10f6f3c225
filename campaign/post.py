"""A planned post: the unit the planner produces, the store keeps and a publisher sends.

Its id derives from (moment, occurrence, channel, language), so planning twice yields the
same ids and a publish can carry a stable idempotency key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field


def post_id(moment_id: str, occurrence: int, channel_id: str, language: str) -> str:
    """Readable and deterministic, e.g. ``pride-marriage-equality.2027.be-instagram.nl``."""
    return f"{moment_id}.{occurrence}.{channel_id}.{language}"


def idempotency_key(post_id: str) -> str:
    """Stable key sent to platforms that deduplicate (Mastodon) and used to derive record keys."""
    return hashlib.sha256(post_id.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class MediaRef:
    """The rendered file a post carries (it may not be rendered yet at plan time)."""

    testimonial_id: str
    kind: str  # "photo" or "clip"
    variant: str
    language: str
    path: str  # relative to the build folder, e.g. "aiko-tanaka/feed_4x5.ja.jpg"
    alt_text: str
    width: int
    height: int


@dataclass(frozen=True)
class PlannedPost:
    id: str
    moment_id: str
    occurrence: int  # the year of a yearly moment's occurrence, else the year of its first day
    channel_id: str
    platform: str
    account: str
    language: str
    scheduled_at: dt.datetime  # aware, UTC
    local_time: dt.datetime  # aware, in the channel's time zone
    caption: str
    link: str | None
    hashtags: tuple[str, ...]
    media: MediaRef | None
    needs_approval: bool
    grace_seconds: int
    warnings: tuple[str, ...] = field(default=())
    #: Plan errors that make the post unpublishable as it stands (a caption over the platform's
    #: limit, alt text too long): it is stored as held with these reasons, never sent.
    problems: tuple[str, ...] = field(default=())
    #: (language, caption) of the channel's other languages, on a platform whose one post carries
    #: them all (`languages_in_one_post`: YouTube's `localizations`); `caption` is in `language`.
    localizations: tuple[tuple[str, str], ...] = field(default=())

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the post carries: its own first."""
        return (self.language, *(language for language, _ in self.localizations))

    @property
    def held(self) -> bool:
        return bool(self.problems)

    @property
    def idempotency_key(self) -> str:
        return idempotency_key(self.id)

    def content_hash(self) -> str:
        """What the store compares to tell a changed post from an unchanged one."""
        parts = [self.scheduled_at.isoformat(), self.caption, self.link or "", ",".join(self.hashtags),
                 self.media.path if self.media else "", self.media.alt_text if self.media else "",
                 str(self.needs_approval), str(self.grace_seconds)]
        if self.localizations:  # only then, as below
            parts.append("localizations:" + "\x1e".join(f"{lang}\x1d{text}" for lang, text in self.localizations))
        if self.problems:  # only then: the hashes of publishable posts stay what they were
            parts.append("held:" + "\x1e".join(self.problems))
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class PlanIssue:
    """Something the planner could not do, named so a manager can act (e.g. a post that cannot fit)."""

    severity: str  # "error" or "warning"
    moment_id: str
    channel_id: str | None
    language: str | None
    message: str
    post_id: str | None = None
