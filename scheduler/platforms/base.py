"""The interface every platform publisher implements, and the few errors it may raise.

Like an httpx transport: the daemon knows only `Publisher`; each platform module turns
a post into that platform's HTTP calls and its answers into one of these outcomes.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


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
    #: (language, file) of each approved subtitle file of a clip, for platforms that take caption tracks
    captions: tuple[tuple[str, Path], ...] = ()


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
    #: (language, text) of the other languages the post carries (platforms with `languages_in_one_post`).
    localizations: tuple[tuple[str, str], ...] = ()


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


class TokenExpired(AuthError):
    """The platform said the access token expired (not revoked): a channel whose token renews
    itself renews it once and publishes again; one that cannot is paused as for AuthError."""


class ReconnectNeeded(AuthError):
    """The channel's connection is lost for good (its refresh token was refused): the channel
    was already paused with the reason (scheduler.connections); an admin connects it again."""


class Pending(PublishError):
    """Nothing failed: the platform is still working on the post (video processing, an
    Instagram container). The ledger holds every step done so far; publish again after
    `check_after` seconds and the publisher continues from there. Slow work is a state,
    never a wait that holds up other channels."""

    def __init__(self, message: str, check_after: float, *, platform_code: str | None = None) -> None:
        super().__init__(message, platform_code=platform_code)
        self.check_after = check_after


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
    #: True for something a person should know that does not stop publishing (YouTube: an unaudited
    #: project's videos are private): `check` prints it and still counts the channel ready.
    note: bool = False
class ClaimLost(Exception):
    """This daemon no longer owns the post (its lease was taken over): stop, change nothing."""


#: Ledger step names the dispatcher itself reads.
CREATE_SENT = "create_sent"  # the request that creates the post is about to go out (ISO time)
CREATE_ANSWERED = "create_answered"  # the platform confirmed the create; later steps (processing) remain
CREATED = "created"  # the post is out with this remote id: publishing is complete


class StepLedger:
    """What a publish has already done on the platform, one named step at a time (media id,
    container id, upload session, "create sent", the created post). The dispatcher gives a
    ledger backed by the store, so a retry or a restarted daemon resumes from the last step
    that completed instead of redoing it; a bare `StepLedger()` keeps steps in memory."""

    def __init__(self, steps: dict[str, str] | None = None, *, save: Callable[[str, str | None], None] | None = None,
                 durable: bool = False, now: Callable[[], dt.datetime] | None = None) -> None:
        self._steps = dict(steps or {})
        self._save = save
        self._lock = threading.Lock()
        #: True when steps survive this process (then publishers may answer `Pending`).
        self.durable = durable
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._steps.get(name)

    def steps(self) -> dict[str, str]:
        with self._lock:
            return dict(self._steps)

    def record(self, name: str, value: str) -> None:
        """Keep a step's result the moment it exists (raises `ClaimLost` if the post is no longer ours)."""
        if self._save is not None:
            self._save(name, value)
        with self._lock:
            self._steps[name] = value

    def forget(self, name: str) -> None:
        if self.get(name) is None:
            return
        if self._save is not None:
            self._save(name, None)
        with self._lock:
            self._steps.pop(name, None)

    def once(self, name: str, make: Callable[[], str]) -> str:
        """The step's recorded result, or run `make` and record what it returns."""
        found = self.get(name)
        if found is not None:
            return found
        value = str(make())
        self.record(name, value)
        return value

    def create_sent(self) -> None:
        """Called just before the request that creates the post: from now on a lost answer
        means the post may exist. Keeps the first time (an idempotency window runs from it)."""
        if self.get(CREATE_SENT) is None:
            self.record(CREATE_SENT, self._now().isoformat())

    def create_answered(self, remote_id: str) -> None:
        """The create request was answered: the post exists as `remote_id`, and what remains
        (processing) is resumed, never re-sent."""
        self.record(CREATE_ANSWERED, remote_id)

    def create_refused(self) -> None:
        """The platform answered the create request with a refusal (4xx, 429): nothing was created."""
        self.forget(CREATE_SENT)

    @property
    def create_sent_at(self) -> dt.datetime | None:
        value = self.get(CREATE_SENT)
        return dt.datetime.fromisoformat(value) if value else None


class Publisher(abc.ABC):
    """Publishes posts to one channel (one account on one platform)."""

    platform: str = ""
    #: True when `find_existing` can answer; False when a post in doubt must be held for a human.
    can_find_existing: bool = False
    #: Seconds during which re-sending the creating request cannot duplicate the post
    #: (Mastodon keeps an Idempotency-Key 1 h; Bluesky's own record key: forever); None: never safe.
    idempotency_window_seconds: float | None = None
    #: What the post it creates carries beyond the text (the rehearsal checks each against the plan):
    #: a clip's alt text, and the media's aspect ratio (Bluesky sends both).
    sends_clip_alt_text: bool = False
    sends_aspect_ratio: bool = False

    @classmethod
    def for_channel(cls, channel_id: str, account: str, credentials: Any, *, api: dict[str, str | None],
                    outbox_dir: Path, timeout: float, clock: Any, **options: Any) -> "Publisher":
        """Build the publisher of one channel: the registry calls this the same way for every platform
        (`credentials` is a `Credentials`, None when the platform needs none)."""
        raise NotImplementedError(f"{cls.__name__} does not say how to build it for a channel")

    @abc.abstractmethod
    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        """Publish the post with its media; raise a `PublishError` subclass on failure.

        Every step is kept in `ledger` (a bare in-memory `StepLedger()` when None): each remote
        object is recorded as it is created and reused on the next call; `ledger.create_sent()`
        is called just before the request that creates the post (`HttpPublisher.request(...,
        creates=True, ledger=ledger)` does it). Slow work is a state, never a wait: while the
        platform processes (video, containers) and the ledger is durable, raise `Pending` and
        the dispatcher calls `publish` again later, which continues from the ledger."""

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
