"""X publisher (API v2): media upload (one-shot for images, initialize/append/finalize/status
for video), alt text via /2/media/metadata, then POST /2/tweets.

X has no idempotency key and no way to look a post up by one: a lost answer to
POST /2/tweets is `OutcomeUnknown`. A 403 "duplicate content" on a retry means the first
attempt went out, but X does not give its id: also `OutcomeUnknown`.
"""

from __future__ import annotations

from typing import Any

import requests

from campaign.platforms import PLATFORMS
from scheduler.platforms.http import HttpPublisher, seconds_until_epoch
from scheduler.platforms.base import (
    AuthError,
    ChannelProblem,
    OutcomeUnknown,
    OutgoingMedia,
    OutgoingPost,
    PermanentError,
    PublishResult,
    RateLimited,
    StepLedger,
    TransientError,
)

#: Seconds to wait on a 429 without an x-rate-limit-reset header (X's windows are 15 min).
DEFAULT_RATE_WAIT = 900.0


class XPublisher(HttpPublisher):
    platform = "x"
    can_find_existing = False
    DEFAULTS = {"base_url": "https://api.x.com"}

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.credentials.require("TOKEN")}

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        status = response.status_code
        detail = self._detail(response)
        if status == 429:
            wait = seconds_until_epoch(response.headers.get("x-rate-limit-reset"), self.clock.now().timestamp(), DEFAULT_RATE_WAIT)
            raise RateLimited(f"X rate limit for {self.who}: {detail}", wait, platform_code="429")
        if status == 401:
            raise AuthError(f"the X token of {self.who} is expired or revoked — authorise the app again and store the new TOKEN",
                            platform_code="401")
        if status == 403 and creates and "duplicate" in detail.lower():
            raise OutcomeUnknown(f"X refused the post as duplicate content: it probably went out already on {self.who}; check and mark it",
                                 platform_code="403")
        if status == 403:
            raise AuthError(f"{self.who} is not allowed to do this (needs tweet.write and media.write scopes): {detail}", platform_code="403")
        if status >= 500:
            raise TransientError(f"X had a temporary problem (HTTP {status}): {detail}", platform_code=str(status))
        raise PermanentError(f"X refused the request for {self.who} (HTTP {status}): {detail}", platform_code=str(status))

    def _detail(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return self.body_text(response, 200)
        if isinstance(body, dict):
            if body.get("detail") or body.get("title"):
                return self.scrub(str(body.get("detail") or body.get("title")))
            errors = body.get("errors")
            if isinstance(errors, list) and errors:
                return self.scrub("; ".join(str(e.get("message") or e.get("detail") or e) for e in errors))
        return self.body_text(response, 200)

    def check(self) -> list[ChannelProblem]:
        me, problems = self.ask(lambda: self.json(self.request("GET", self.url("base_url", "/2/users/me"), what="who am I",
                                                               headers=self._auth)), what="the token")
        if me is None:
            return problems
        data = me.get("data", {})
        return self.acting_as(self.account, data.get("username"), data.get("id"))

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        media_ids = [self._uploaded(item, index, ledger) for index, item in enumerate(post.media[:4])]
        text = post.text if not post.link or post.link in post.text else f"{post.text} {post.link}"
        payload: dict[str, Any] = {"text": text}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        response = self.request("POST", self.url("base_url", "/2/tweets"), creates=True, what="the post", ledger=ledger,
                                json=payload, headers=self._auth)
        tweet_id = str(self.json(response)["data"]["id"])
        return PublishResult(tweet_id, f"https://x.com/{self.account.lstrip('@')}/status/{tweet_id}")

    def _uploaded(self, media: OutgoingMedia, index: int, ledger: StepLedger) -> str:
        """The media id of one attachment: uploaded once, then polled until processed."""
        media_id = self.media_once(ledger, index, lambda: self._upload(media))
        self.media_ready(ledger, index, lambda: self._processed(media_id), what=f"video {media_id}")
        return media_id

    def _upload(self, media: OutgoingMedia) -> tuple[str, bool]:
        """(media id, processed already)."""
        spec = PLATFORMS["x"]
        ready = True
        if media.kind == "clip":
            media_id, ready = self._upload_video(self.read_media(media.path, limit=spec.video_max_bytes), media.mime_type)
        else:
            blob = self.read_media(media.path, limit=spec.image_max_bytes)
            body = self.json(self.request(
                "POST", self.url("base_url", "/2/media/upload"), what="image upload", headers=self._auth,
                data={"media_category": "tweet_image", "media_type": media.mime_type},
                files={"media": (media.path.name, blob, media.mime_type)},
            ))
            media_id = str(body["data"]["id"])
        if media.alt_text:
            self.request("POST", self.url("base_url", "/2/media/metadata"), what="alt text", headers=self._auth,
                         json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text[:1000]}}})
        return media_id, ready

    def _upload_video(self, blob: bytes, mime: str) -> tuple[str, bool]:
        init = self.json(self.request("POST", self.url("base_url", "/2/media/upload/initialize"), what="video upload initialize",
                                      headers=self._auth,
                                      json={"media_type": mime, "total_bytes": len(blob), "media_category": "tweet_video"}))
        media_id = str(init["data"]["id"])
        for index, _offset, piece in self.chunks(blob):
            def send(index: int = index, piece: bytes = piece) -> requests.Response:
                return self.request("POST", self.url("base_url", f"/2/media/upload/{media_id}/append"),
                                    what=f"video segment {index}", headers=self._auth,
                                    data={"segment_index": str(index)},
                                    files={"media": ("chunk", piece, "application/octet-stream")})
            self.send_chunk(send, what=f"video segment {index}")
        final = self.json(self.request("POST", self.url("base_url", f"/2/media/upload/{media_id}/finalize"),
                                       what="video upload finalize", headers=self._auth))
        return media_id, not final.get("data", {}).get("processing_info")

    def _processed(self, media_id: str) -> bool | None:
        body = self.json(self.request("GET", self.url("base_url", "/2/media/upload"), what="video status", headers=self._auth,
                                      params={"media_id": media_id, "command": "STATUS"}))
        info = body.get("data", {}).get("processing_info", {})
        state = info.get("state")
        if state == "succeeded" or not info:
            return True
        if state == "failed":
            error = info.get("error", {})
            raise PermanentError(f"X could not process the video for {self.who}: {self.scrub(str(error.get('message') or error or 'no detail'))}")
        return None
