"""YouTube publisher (Data API v3): a resumable upload of the clip, its caption tracks, then
processing as a state.

1. `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status,localizations` with the
   video resource (title, description and `defaultLanguage` in the post's language, the channel's
   first; `localizations`: a title and description per language the post carries; `privacyStatus`)
   answers the session URL in `Location`: it goes into the step ledger at once (`upload_session`),
   so an interrupted upload resumes in that session and never makes a second video;
2. the bytes go to the session URL in chunks (`Content-Range: bytes A-B/TOTAL`, multiples of
   256 KiB); a `308` with `Range` says what arrived; after a failure (or a restart) the publisher
   asks with `Content-Range: bytes */TOTAL` and sends from there; the last chunk answers the video
   (`video`, and the ledger's create-answered step);
3. each approved subtitle file becomes a caption track (`captions.insert`, multipart/related),
   recorded per language (`caption:<lang>`);
4. processing (`videos.list?part=status,processingDetails`) is a `processing` state: with a
   durable ledger the daemon checks again on a later pass.

A quota error (403 `quotaExceeded`, `uploadLimitExceeded`) lasts until midnight Pacific time:
`RateLimited` until then pauses the channel. A project Google has not audited uploads private
videos only: the channel's `api: {audited: true}` says it has; otherwise every video is sent
private, and `check` says so. A vertical clip of 3 minutes or less is a Short (its URL says so).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import requests

from assets.probe import probe
from campaign.platforms import PLATFORMS
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
from scheduler.platforms.http import HttpPublisher
from scheduler.platforms.youtube.text import title_of

PACIFIC = ZoneInfo("America/Los_Angeles")
#: Google's resumable upload takes chunks in multiples of 256 KiB (all but the last).
CHUNK_GRANULARITY = 256 * 1024
#: A resumable session lives a week at Google; re-sending inside it cannot make a second video.
SESSION_LIFETIME = 6 * 86400.0
QUOTA_REASONS = ("quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded")
SHORT_MAX_SECONDS = 180.0


def seconds_to_pacific_midnight(now: dt.datetime) -> float:
    """Seconds from `now` until the next midnight in America/Los_Angeles, when YouTube's quota resets."""
    local = now.astimezone(PACIFIC)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=PACIFIC)
    return max(1.0, (midnight - now).total_seconds())


class YouTubePublisher(HttpPublisher):
    platform = "youtube"
    can_find_existing = False
    safe_create_retry = True  # the session URL in the ledger answers whether the video exists
    idempotency_window_seconds = SESSION_LIFETIME
    DEFAULTS = {"base_url": "https://www.googleapis.com"}

    # ---- errors -------------------------------------------------------------------------------
    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        status = response.status_code
        message, reason = self._error(response)
        if status == 403 and reason in QUOTA_REASONS:
            wait = seconds_to_pacific_midnight(self.clock.now())
            what = "the daily upload limit" if reason == "uploadLimitExceeded" else "the project's daily API quota"
            raise RateLimited(f"YouTube: {self.who} reached {what} ({reason}); it resets at midnight Pacific time",
                              wait, platform_code=f"403/{reason}")
        if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            raise RateLimited(f"YouTube rate limit for {self.who}: {message}", _retry_after(response, 60.0),
                              platform_code=f"{status}/{reason}")
        if status == 401:
            raise AuthError(f"the YouTube access token of {self.who} is expired or revoked (Google access tokens last 1 hour) — "
                            "store a fresh TOKEN", platform_code="401")
        if status == 403:
            raise AuthError(f"{self.who} may not do this ({reason}: {message}) — the token needs the youtube.upload and "
                            "youtube.force-ssl scopes of the channel's owner", platform_code=f"403/{reason}")
        if status >= 500:
            raise TransientError(f"YouTube had a temporary problem (HTTP {status}): {message}", platform_code=str(status))
        raise PermanentError(f"YouTube refused the request for {self.who} (HTTP {status}, {reason}): {message}",
                             platform_code=f"{status}/{reason}")

    def _error(self, response: requests.Response) -> tuple[str, str]:
        try:
            error = response.json().get("error") or {}
        except (ValueError, AttributeError):
            return self.body_text(response, 200), ""
        if not isinstance(error, dict):
            return self.scrub(str(error)), ""
        errors = error.get("errors") or [{}]
        return self.scrub(str(error.get("message") or "")), str(errors[0].get("reason") or "")

    # ---- check ----------------------------------------------------------------------------------
    @property
    def audited(self) -> bool:
        return str(self.api.get("audited") or "").lower() in ("true", "1", "yes")

    def check(self) -> list[ChannelProblem]:
        body, problems = self.ask(lambda: self.read("/youtube/v3/channels", what="who am I",
                                                    params={"part": "snippet", "mine": "true"}), what="the token")
        if body is None:
            return problems
        items = body.get("items") or []
        if not items:
            return [ChannelProblem(f"the token of channel {self.channel_id} belongs to a Google account without a YouTube "
                                   f"channel — store the token of {self.account}'s owner")]
        snippet = items[0].get("snippet") or {}
        problems = self.acting_as(self.account, items[0].get("id"), snippet.get("customUrl"), snippet.get("title"))
        if not self.audited:
            problems.append(ChannelProblem(
                f"the API project of {self.who} is not audited: YouTube keeps every video it uploads private, so posts "
                "will be private — ask Google for the API audit, then set `api: {audited: true}` on the channel",
                blocking=False, note=True))
        return problems

    # ---- publish --------------------------------------------------------------------------------
    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        clips = [m for m in post.media if m.kind == "clip"]
        if len(clips) != 1 or len(post.media) != 1:
            raise PermanentError(f"YouTube takes one video per post; {post.post_id} carries "
                                 f"{', '.join(m.kind for m in post.media) or 'no media'} — give the moment `media: clip`")
        clip = clips[0]
        video_id = ledger.get("video")
        if video_id is None:
            video_id = self._upload(post, clip, ledger)
        for language, path in clip.captions:
            ledger.once(f"caption:{language}", lambda language=language, path=path: self._caption(video_id, language, path))
        if ledger.get("processed") is None:
            self.poll(lambda: self._processed(video_id), what=f"video {video_id}", ledger=ledger)
            ledger.record("processed", "1")
        short = ledger.get("short") == "1"
        url = f"https://www.youtube.com/shorts/{video_id}" if short else f"https://www.youtube.com/watch?v={video_id}"
        return PublishResult(video_id, url, extra={"privacy": ledger.get("privacy") or "", "short": "1" if short else "0"})

    def is_short(self, clip: OutgoingMedia) -> bool:
        """A vertical (or square) clip of 3 minutes or less: YouTube shows it as a Short."""
        if clip.height < clip.width:
            return False
        try:
            seconds = probe(clip.path, decode_first_frame=False).duration
        except Exception as exc:  # noqa: BLE001 - a file that cannot be read is refused below, when uploaded
            raise PermanentError(f"cannot read the rendered clip {clip.path.name}: {exc} — render the assets again") from None
        return seconds <= SHORT_MAX_SECONDS

    def _upload(self, post: OutgoingPost, clip: OutgoingMedia, ledger: StepLedger) -> str:
        data = self.read_media(clip.path, limit=PLATFORMS["youtube"].video_max_bytes)
        total = len(data)
        session = ledger.get("upload_session")
        if session is None:
            ledger.record("short", "1" if self.is_short(clip) else "0")
            privacy = "public" if self.audited else "private"
            ledger.record("privacy", privacy)
            session = self._start_session(post, clip, total, privacy)
            ledger.record("upload_session", session)  # the moment it exists: a resume never opens a second one
            offset, video = 0, None
        else:
            offset, video = self._progress(session, total, ledger)
        ledger.create_sent()  # from the first byte on, the video may come to exist
        failures = 0
        size = max(CHUNK_GRANULARITY, self.chunk_size // CHUNK_GRANULARITY * CHUNK_GRANULARITY)
        while video is None:
            piece = data[offset: offset + size]
            last = offset + len(piece) - 1
            try:
                headers = {**self.auth_headers(), "Content-Range": f"bytes {offset}-{last}/{total}", "Content-Type": clip.mime_type}
                response = self.request("PUT", session, what=f"video bytes {offset}-{last}", ledger=ledger, creates=True,
                                        data=piece, allow_redirects=False, headers=headers)
            except PermanentError:  # YouTube refused the bytes (not a video it reads, too large): no video exists
                ledger.forget("upload_session")
                ledger.create_refused()
                raise
            except TransientError:
                failures += 1
                if failures > self.chunk_retries:
                    raise
                self.clock.sleep(max(self.poll_interval, 0.01) * 2 ** (failures - 1))
                offset, video = self._progress(session, total, ledger)  # ask the session where it stopped
                continue
            offset, video = self._answer(response, total)
        ledger.create_answered(video)
        ledger.record("video", video)
        return video

    def _start_session(self, post: OutgoingPost, clip: OutgoingMedia, total: int, privacy: str) -> str:
        text = {"title": title_of(post.text), "description": post.text}
        localizations = {post.language: text, **{language: {"title": title_of(caption), "description": caption}
                                                  for language, caption in post.localizations}}
        resource = {"snippet": {**text, "defaultLanguage": post.language, "categoryId": "22"},
                    "status": {"privacyStatus": privacy, "selfDeclaredMadeForKids": False},
                    "localizations": localizations}
        response = self.request(
            "POST", self.url("base_url", "/upload/youtube/v3/videos"), what="the upload session",
            params={"uploadType": "resumable", "part": "snippet,status,localizations"},
            data=json.dumps(resource).encode("utf-8"),
            headers={**self.auth_headers(), "Content-Type": "application/json; charset=UTF-8",
                     "X-Upload-Content-Length": str(total), "X-Upload-Content-Type": clip.mime_type})
        location = response.headers.get("Location")
        if not location:
            raise TransientError(f"YouTube opened no upload session for {self.who} (no Location in its answer) — retry later")
        return location

    def _progress(self, session: str, total: int, ledger: StepLedger) -> tuple[int, str | None]:
        """(next byte to send, the video id when complete), asked of the session itself."""
        try:
            response = self.request("PUT", session, what="the upload's progress", data=b"", allow_redirects=False,
                                    headers={**self.auth_headers(), "Content-Range": f"bytes */{total}"})
        except PermanentError as error:
            if (error.platform_code or "").startswith(("404", "410")):  # expired before any video existed
                ledger.forget("upload_session")
                ledger.create_refused()
                raise TransientError(f"the YouTube upload session of {self.who} expired before the video was complete; "
                                     "a new upload starts on the next attempt") from None
            raise
        return self._answer(response, total)

    def _answer(self, response: requests.Response, total: int) -> tuple[int, str | None]:
        if response.status_code == 308:
            held = response.headers.get("Range", "")
            return (int(held.rsplit("-", 1)[-1]) + 1 if held else 0), None
        video = self.json(response).get("id")
        if not video:
            raise TransientError(f"YouTube ended the upload for {self.who} without a video id — retry later")
        return total, str(video)

    def _caption(self, video_id: str, language: str, path: Any) -> str:
        try:
            track = path.read_bytes()
        except OSError as exc:
            raise PermanentError(f"cannot read the subtitle file {path}: {exc.strerror} — render the assets again") from None
        boundary = uuid.uuid4().hex
        metadata = json.dumps({"snippet": {"videoId": video_id, "language": language, "name": "", "isDraft": False}})
        body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n"
                f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode("utf-8") + track + \
               f"\r\n--{boundary}--\r\n".encode("utf-8")
        response = self.request("POST", self.url("base_url", "/upload/youtube/v3/captions"), what=f"the {language} captions",
                                params={"part": "snippet", "uploadType": "multipart"}, data=body,
                                headers={**self.auth_headers(), "Content-Type": f"multipart/related; boundary={boundary}"})
        return str(self.json(response).get("id"))

    def _processed(self, video_id: str) -> bool | None:
        body = self.read("/youtube/v3/videos", what="video processing", params={"part": "status,processingDetails", "id": video_id})
        items = body.get("items") or []
        if not items:
            return None  # not listed yet
        status = items[0].get("status") or {}
        processing = (items[0].get("processingDetails") or {}).get("processingStatus")
        if status.get("uploadStatus") in ("failed", "rejected") or processing in ("failed", "terminated"):
            why = status.get("failureReason") or status.get("rejectionReason") or \
                (items[0].get("processingDetails") or {}).get("processingFailureReason") or "no reason given"
            raise PermanentError(f"YouTube could not process video {video_id} of {self.who}: {why} — check the clip and "
                                 "delete the failed video in YouTube Studio")
        if status.get("uploadStatus") == "processed" or processing == "succeeded":
            return True
        return None


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.strip().isdigit() else default
