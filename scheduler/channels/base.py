"""The interface every platform publisher implements, and the few errors it may raise.

Like an httpx transport: the daemon knows only `Publisher`; each platform module turns
a post into that platform's HTTP calls and its answers into one of these outcomes.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class OutgoingMedia:
    path: Path  # the rendered file on disk
    kind: str  # "photo" or "clip"
    mime_type: str  # "image/jpeg", "video/mp4"
    alt_text: str
    width: int
    height: int
    public_url: str | None = None  # where platforms that fetch by URL (Instagram) find it
    #: path relative to the build folder ("aiko-tanaka/feed_4x5.ja.jpg"); Instagram builds
    #: `media_base_url + "/" + relative_path` from it when `public_url` is not set.
    relative_path: str | None = None


@dataclass(frozen=True)
class OutgoingPost:
    post_id: str
    idempotency_key: str
    channel_id: str
    account: str
    language: str
    text: str
    link: str | None = None
    media: tuple[OutgoingMedia, ...] = ()
    scheduled_at: dt.datetime | None = None


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str | None
    extra: dict[str, str] = field(default_factory=dict)


class PublishError(Exception):
    """Base of publisher errors. Messages never contain credentials."""

    def __init__(self, message: str, *, platform_code: str | None = None) -> None:
        super().__init__(message)
        self.platform_code = platform_code


class TransientError(PublishError):
    """Try again later with backoff (5xx, time-outs, connection errors before sending)."""


class RateLimited(PublishError):
    """Try again after `retry_after` seconds, read from the platform's own signal."""

    def __init__(self, message: str, retry_after: float, *, platform_code: str | None = None) -> None:
        super().__init__(message, platform_code=platform_code)
        self.retry_after = retry_after


class PermanentError(PublishError):
    """The post itself must be fixed (too long, bad media, policy); the message says what."""


class AuthError(PublishError):
    """Credentials are missing, expired or lack permission; the message names the account."""


class OutcomeUnknown(PublishError):
    """The request may have created the post (connection dropped after sending) and this
    platform offers no way to check: hold the post as "unknown, check" for a human."""


@dataclass(frozen=True)
class ChannelProblem:
    """Something that stops (or may stop) a channel from publishing, found before any post."""

    message: str  # what is wrong and how to fix it, naming the channel's account
    #: True when no post can go out until a person fixes it (credentials, API version);
    #: False when it may pass by itself (platform unreachable) or affects only some posts.
    blocking: bool = True


class Publisher(abc.ABC):
    """Publishes posts to one channel (one account on one platform)."""

    platform: str = ""
    #: True when `find_existing` can answer; False when a post in doubt must be held for a human.
    can_find_existing: bool = False
    #: Seconds during which re-sending the creating request cannot duplicate the post
    #: (Mastodon keeps an Idempotency-Key 1 h; Bluesky's own record key: forever); None: never safe.
    idempotency_window_seconds: float | None = None

    @abc.abstractmethod
    def publish(self, post: OutgoingPost) -> PublishResult:
        """Publish the post with its media; raise a `PublishError` subclass on failure."""

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        """The post already published under this idempotency key, if the platform can tell.

        Raises `OutcomeUnknown` on platforms that cannot tell (see `can_find_existing`).
        """
        raise OutcomeUnknown(f"{self.platform} cannot tell whether post {post.post_id} was already published")

    def check(self) -> list[ChannelProblem]:
        """Before a campaign: are the credentials present and accepted (the platform's own
        "who am I" call), is the API version served? Empty when the channel can publish."""
        return []

    def close(self) -> None:
        """Release sessions and connections."""
