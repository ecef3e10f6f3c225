"""Mastodon publisher: v2 media upload (async processing polled via 206), then a status
with `language` and an `Idempotency-Key` header.

Mastodon keeps an Idempotency-Key for one hour (`idempotency_window_seconds`): re-sending
the same status within that hour returns the first one instead of creating a second (so a
lost answer is a plain `TransientError`). The dispatcher reads the window: a retry later
than that first calls `find_existing` (the account's recent statuses, matched on text and
language), so a retry hours later does not duplicate. Media ids go into the step ledger, so
a retry reuses them; a video still processing answers `Pending`.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import requests

from campaign.platforms import PLATFORMS
from scheduler.platforms.http import HttpPublisher
from scheduler.platforms.base import (
    AuthError,
    ChannelProblem,
    OutgoingMedia,
    OutgoingPost,
    PermanentError,
    PublishResult,
    RateLimited,
    StepLedger,
    TransientError,
)

#: Mastodon's default window is 5 min; used when a 429 has no readable X-RateLimit-Reset.
DEFAULT_RATE_WAIT = 300.0
IDEMPOTENCY_WINDOW = 3600.0


def _plain(content: str) -> str:
    """Mastodon returns HTML; compare on its text with whitespace collapsed."""
    text = re.sub(r"<br\s*/?>|</p>\s*<p>", "\n", content)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return " ".join(text.split())


def parse_reset(value: str | None, now: dt.datetime) -> float | None:
    if not value:
        return None
    try:
        reset = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if reset.tzinfo is None:
        reset = reset.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (reset - now).total_seconds())


class MastodonPublisher(HttpPublisher):
    platform = "mastodon"
    can_find_existing = True
    safe_create_retry = True
    idempotency_window_seconds = IDEMPOTENCY_WINDOW

    def __init__(self, channel_id: str, account: str, credentials: Any, **kwargs: Any) -> None:
        super().__init__(channel_id, account, credentials, **kwargs)
        if not self.api.get("base_url"):
            host = account.rsplit("@", 1)[-1] if account.count("@") >= 1 and "." in account.rsplit("@", 1)[-1] else None
            if not host:
                raise PermanentError(
                    f"channel {channel_id}: cannot tell the Mastodon server of {account!r} — write the account as "
                    "@name@server.example or set api.base_url"
                )
            self.api["base_url"] = f"https://{host}"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.credentials.require("TOKEN")}

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        status = response.status_code
        try:
            message = self.scrub(str(response.json().get("error") or response.text[:200]))
        except (ValueError, AttributeError):
            message = self.body_text(response, 200)
        if status == 429:
            wait = parse_reset(response.headers.get("X-RateLimit-Reset"), self.clock.now())
            raise RateLimited(f"Mastodon rate limit for {self.who}: {message}", DEFAULT_RATE_WAIT if wait is None else wait,
                              platform_code="429")
        if status == 401:
            raise AuthError(f"the Mastodon token of {self.who} is invalid or revoked — create a new one and store it as TOKEN",
                            platform_code="401")
        if status == 403:
            raise AuthError(f"{self.who} may not do this on Mastodon (missing write scopes?): {message}", platform_code="403")
        if status >= 500:
            raise TransientError(f"Mastodon had a temporary problem (HTTP {status}): {message}", platform_code=str(status))
        raise PermanentError(f"Mastodon refused the post for {self.who} (HTTP {status}): {message}", platform_code=str(status))

    def check(self) -> list[ChannelProblem]:
        me, problems = self.ask(lambda: self.json(self.request(
            "GET", self.url("base_url", "/api/v1/accounts/verify_credentials"), what="who am I", headers=self._auth)),
            what="the token")
        if me is None:
            return problems
        return self.acting_as(self.account.lstrip("@").split("@", 1)[0], me.get("username"), me.get("acct"))

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        # Every upload first (each once, even across retries and restarts), then wait for processing.
        media_ids = [self.media_once(ledger, i, lambda item=item: self._upload(item)) for i, item in enumerate(post.media[:4])]
        for i, media_id in enumerate(media_ids):  # still processing (video): poll, or come back later
            self.media_ready(ledger, i, lambda media_id=media_id: self._processed(media_id), what=f"media {media_id}")
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n\n{post.link}"
        data: list[tuple[str, str]] = [("status", text), ("visibility", "public"), ("language", post.language)]
        data += [("media_ids[]", media_id) for media_id in media_ids]
        response = self.request("POST", self.url("base_url", "/api/v1/statuses"), creates=True, what="the status", ledger=ledger,
                                data=data, headers={**self._auth, "Idempotency-Key": post.idempotency_key})
        body = self.json(response)
        return PublishResult(str(body["id"]), body.get("url"))

    def _upload(self, media: OutgoingMedia) -> tuple[str, bool]:
        """(media id, processed already); a 202 with url null is still processing."""
        spec = PLATFORMS["mastodon"]
        blob = self.read_media(media.path, limit=spec.video_max_bytes if media.kind == "clip" else spec.image_max_bytes)
        response = self.request(
            "POST", self.url("base_url", "/api/v2/media"), what="media upload", headers=self._auth,
            data={"description": media.alt_text[: spec.alt_text_limit or 1500]},
            files={"file": (media.path.name, blob, media.mime_type)},
        )
        body = self.json(response)
        return str(body["id"]), response.status_code != 202 and body.get("url") is not None

    def _processed(self, media_id: str) -> bool | None:
        try:
            response = self.request("GET", self.url("base_url", f"/api/v1/media/{media_id}"), what="media status", headers=self._auth)
        except PermanentError as exc:
            raise PermanentError(f"Mastodon could not process the media for {self.who}: {exc}") from None
        return True if response.status_code == 200 else None

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        me = self.json(self.request("GET", self.url("base_url", "/api/v1/accounts/verify_credentials"), what="account lookup",
                                    headers=self._auth))
        statuses = self.json(self.request("GET", self.url("base_url", f"/api/v1/accounts/{me['id']}/statuses"),
                                          what="recent statuses", headers=self._auth, params={"limit": "40"}))
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n\n{post.link}"
        wanted = " ".join(text.split())
        for status in statuses:
            if _plain(status.get("content", "")) == wanted and status.get("language") in (None, post.language):
                return PublishResult(str(status["id"]), status.get("url"))
        return None
