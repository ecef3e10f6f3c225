"""LinkedIn publisher (REST, versioned): images and videos via initializeUpload, PUT(s),
finalize, status polling, then POST /rest/posts with `LinkedIn-Version` (from config) and
`X-Restli-Protocol-Version: 2.0.0`.

Commentary uses LinkedIn's "little text" format: reserved characters must be escaped or
the text is silently cut. No idempotency key: a lost answer to /rest/posts is `OutcomeUnknown`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from campaign.platforms import PLATFORMS
from scheduler.platforms.http import HttpPublisher
from scheduler.platforms.base import (
    AuthError,
    ChannelProblem,
    OutcomeUnknown,
    OutgoingMedia,
    OutgoingPost,
    PermanentError,
    PublishError,
    PublishResult,
    RateLimited,
    StepLedger,
    TokenExpired,
    TransientError,
)

from campaign.api_versions import LINKEDIN_DEFAULT_VERSION, linkedin_version_problem
from scheduler.platforms.linkedin.text import linkedin_escape  # the planner owns LinkedIn's little-text rules

#: LinkedIn's 422 for a repeated text names the post that already carries it.
_DUPLICATE_OF = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)")
#: LinkedIn answers 429 on its daily limits without any header saying when they reset: wait an hour.
DEFAULT_RATE_WAIT = 3600.0


class LinkedInPublisher(HttpPublisher):
    platform = "linkedin"
    can_find_existing = False
    DEFAULTS = {"base_url": "https://api.linkedin.com/rest", "version": LINKEDIN_DEFAULT_VERSION}

    @property
    def owner(self) -> str:
        return self.account if self.account.startswith("urn:") else f"urn:li:organization:{self.account}"

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": "Bearer " + self.credentials.require("TOKEN"),
            "LinkedIn-Version": str(self.api["version"]),
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def auth_headers(self) -> dict[str, str]:
        return self._headers

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        status = response.status_code
        try:
            body = response.json()
            message = self.scrub(str(body.get("message") or body))
            code = str(body.get("serviceErrorCode") or body.get("code") or status)
        except (ValueError, AttributeError):
            message, code = self.body_text(response, 200), str(status)
        if status == 426:  # NONEXISTENT_VERSION: every call of this channel fails until its version is changed
            raise AuthError(f"LinkedIn no longer serves API version {self.api['version']} for {self.who} ({message}) — set "
                            f"api.version of channel {self.channel_id} in calendar.yaml to a supported version "
                            f"(e.g. \"{LINKEDIN_DEFAULT_VERSION}\")", platform_code=code)
        if status == 429:
            raise RateLimited(f"LinkedIn limit reached for {self.who}: {message}", DEFAULT_RATE_WAIT, platform_code=code)
        if status == 401 and code in ("65602", "EXPIRED_ACCESS_TOKEN"):  # expired, not revoked: a renewal can cure it
            raise TokenExpired(f"the LinkedIn token of {self.who} has expired — connect the channel again in the console "
                               f"or store a new TOKEN", platform_code=code)
        if status == 401:
            raise AuthError(f"the LinkedIn token of {self.who} is expired or revoked — authorise again and store the new TOKEN",
                            platform_code=code)
        if status == 403:
            raise AuthError(f"{self.who} lacks a LinkedIn permission: {message}", platform_code=code)
        if status >= 500:
            raise TransientError(f"LinkedIn had a temporary problem (HTTP {status}): {message}", platform_code=code)
        raise PermanentError(f"LinkedIn refused the request for {self.who} (HTTP {status}): {message}", platform_code=code)

    def check(self) -> list[ChannelProblem]:
        problems = []
        found = linkedin_version_problem(str(self.api["version"]), self.clock.now().date())
        if found:
            severity, message = found
            problems.append(ChannelProblem(f"channel {self.channel_id}: {message}", blocking=severity == "error"))
            if severity == "error":
                return problems
        if self.owner.startswith("urn:li:organization:"):
            path, what = f"/organizations/{quote(self.owner.rsplit(':', 1)[-1])}", "organization lookup"
        else:
            path, what = "/me", "who am I"
        _, asked = self.ask(lambda: self.json(self.request("GET", self.url("base_url", path), what=what, headers=self._headers)),
                             what="the token")
        return problems + asked

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        text = post.text if not post.link or post.link in post.text else f"{post.text}\n{post.link}"
        payload: dict[str, Any] = {
            "author": self.owner,
            "commentary": linkedin_escape(text),
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if post.media:
            media = post.media[0]
            urn = ledger.once("media:0", lambda: self._upload_video(media) if media.kind == "clip" else self._upload_image(media))
            if media.kind == "clip" and ledger.get("media:0:ready") is None:
                self.poll(lambda: self._video_ready(urn), what=f"video {urn}", ledger=ledger)
                ledger.record("media:0:ready", "1")
            payload["content"] = {"media": {"id": urn, "altText": media.alt_text[:4086]}
                                  if media.kind != "clip" else {"id": urn, "title": post.text.split("\n", 1)[0][:200]}}
        try:
            response = self.request("POST", self.url("base_url", "/posts"), creates=True, what="the post", ledger=ledger,
                                    json=payload, headers=self._headers)
        except PermanentError as error:
            existing = _DUPLICATE_OF.search(str(error))
            if existing is None:
                raise
            return self._already_published(existing.group(1), payload["commentary"], error)
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise TransientError("LinkedIn accepted the post but sent no x-restli-id; check the page before retrying")
        return PublishResult(urn, f"https://www.linkedin.com/feed/update/{urn}")

    def _already_published(self, urn: str, commentary: str, refusal: PermanentError) -> PublishResult:
        """LinkedIn refused the post as a duplicate of `urn` (HTTP 422): if that post is this
        account's with this very text, it is ours (an earlier attempt whose answer was lost, a
        crash after sending): published, with that id. Never "failed": a person would re-post it."""
        url = f"https://www.linkedin.com/feed/update/{urn}"
        try:
            found = self.request("GET", self.url("base_url", f"/posts/{quote(urn, safe='')}"), what="the existing post",
                                 headers=self._headers).json()
        except (PublishError, ValueError) as error:
            raise OutcomeUnknown(f"LinkedIn says {self.who} already has this text as {urn}, which could not be read "
                                 f"({error}) — look at {url}: if it is this post, mark it published") from refusal
        if isinstance(found, dict) and found.get("author") == self.owner and found.get("commentary") == commentary:
            return PublishResult(urn, url)
        raise PermanentError(f"{refusal} — that post is not this one (another author or text): change this "
                             "post's text, LinkedIn refuses the same text twice within about a day",
                             platform_code=refusal.platform_code) from refusal

    def _upload_image(self, media: OutgoingMedia) -> str:
        blob = self.read_media(media.path, limit=PLATFORMS["linkedin"].image_max_bytes)
        body = self.json(self.request("POST", self.url("base_url", "/images"), what="image initializeUpload",
                                      params={"action": "initializeUpload"}, headers=self._headers,
                                      json={"initializeUploadRequest": {"owner": self.owner}}))
        value = body["value"]
        self.send_chunk(lambda: self.request("PUT", value["uploadUrl"], what="image upload", data=blob,
                                             headers={**self._headers, "Content-Type": "application/octet-stream"}),
                        what="image upload")
        return value["image"]

    def _upload_video(self, media: OutgoingMedia) -> str:
        blob = self.read_media(media.path, limit=PLATFORMS["linkedin"].video_max_bytes)
        body = self.json(self.request("POST", self.url("base_url", "/videos"), what="video initializeUpload",
                                      params={"action": "initializeUpload"}, headers=self._headers,
                                      json={"initializeUploadRequest": {"owner": self.owner, "fileSizeBytes": len(blob),
                                                                        "uploadCaptions": False, "uploadThumbnail": False}}))
        value = body["value"]
        etags: list[str] = []
        for part in value["uploadInstructions"]:
            first, last = int(part["firstByte"]), int(part["lastByte"])

            def send(part: dict[str, Any] = part, first: int = first, last: int = last) -> requests.Response:
                return self.request("PUT", part["uploadUrl"], what=f"video part at byte {first}", data=blob[first : last + 1],
                                    headers={**self._headers, "Content-Type": "application/octet-stream"})

            response = self.send_chunk(send, what=f"video part at byte {first}")
            etag = response.headers.get("ETag")
            if not etag:
                raise TransientError(f"LinkedIn sent no ETag for the video part at byte {first}; the upload will be retried")
            etags.append(etag)
        video = value["video"]
        self.request("POST", self.url("base_url", "/videos"), what="video finalizeUpload", params={"action": "finalizeUpload"},
                     headers=self._headers,
                     json={"finalizeUploadRequest": {"video": video, "uploadToken": value.get("uploadToken", ""),
                                                     "uploadedPartIds": etags}})
        return video  # processing is polled by `publish`

    def _video_ready(self, video: str) -> bool | None:
        body = self.json(self.request("GET", self.url("base_url", f"/videos/{quote(video, safe='')}"), what="video status",
                                      headers=self._headers))
        status = body.get("status")
        if status == "AVAILABLE":
            return True
        if status in ("PROCESSING_FAILED", "FAILED"):
            reason = body.get("processingFailureReason") or "no reason given"
            raise PermanentError(f"LinkedIn could not process the video for {self.who}: {self.scrub(str(reason))}")
        return None
