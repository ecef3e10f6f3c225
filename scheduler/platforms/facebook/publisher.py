"""Facebook Page publisher (Graph API): text, photo (multipart `source` or `url`) and video.

Video follows Meta's current Video API (the graph-video host's `upload_phase` flow is
deprecated): the Resumable Upload API stores the file under the app (`APP_ID`, with a
`USER_TOKEN` of someone who has a role on the app and manages the Page), its file handle is
published on the Page with the Page token (`TOKEN`), then processing is polled. Each step is
its own function, so an interrupted publish can resume at the step it reached: an upload
session continues from the `file_offset` Meta reports instead of from byte 0.

Duplicates: Facebook has no idempotency key, and refuses only a repeated *status* (code
506); a repeated photo or video is posted again. So a lost answer is `OutcomeUnknown`, and
the dispatcher never re-sends after "create sent" without the ledger saying the create was
refused. A video's upload session and its finished id go into the step ledger: a retry (a
500 on the status check) checks the status again instead of uploading a second copy.
"""

from __future__ import annotations

from typing import Any

from campaign.api_versions import graph_version_problem
from scheduler.platforms.graph import GraphPublisher
from scheduler.platforms.base import (
    CREATE_ANSWERED, ChannelProblem, OutgoingMedia, OutgoingPost, PermanentError, PublishResult, StepLedger, TransientError,
)
from scheduler.platforms.credentials import env_prefix
from campaign.platforms import PLATFORMS


class FacebookPublisher(GraphPublisher):
    platform = "facebook"
    can_find_existing = False
    def check(self) -> list[ChannelProblem]:
        return self.version_problems() + self._check_credentials()

    def version_problems(self) -> list[ChannelProblem]:
        """Meta still answers an expired Graph version (as the oldest available one): warn, do not stop."""
        found = graph_version_problem(str(self.api["version"]), self.clock.now().date())
        return [ChannelProblem(f"channel {self.channel_id}: {found[1]}", blocking=False)] if found else []

    def _check_credentials(self) -> list[ChannelProblem]:
        me, problems = self.ask(lambda: self.json(self.request("GET", self._graph("me"), what="who am I", headers=self._auth,
                                                               params={"fields": "id,name,username"})), what="the Page token")
        if me is None:
            return problems
        problems = self.acting_as(self.account, me.get("id"), me.get("username"), me.get("name"))
        missing = [name for name in ("APP_ID", "USER_TOKEN") if not self.credentials.get(name)]
        if missing:
            names = ", ".join(env_prefix(self.channel_id) + n for n in missing)
            problems.append(ChannelProblem(f"clips cannot be published on {self.who}: Meta's Resumable Upload API needs the app id "
                                           f"and a user token of a Page admin — set {names}", blocking=False))
        else:
            _, user = self.ask(lambda: self.request("GET", self._graph("me"), what="who am I (user token)",
                                                    headers={"Authorization": "Bearer " + self.credentials.require("USER_TOKEN")}),
                               what="the USER_TOKEN")
            problems += [ChannelProblem(p.message + " (clips only)", blocking=False) for p in user]
        return problems

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        if not post.media:
            return self._feed(post, ledger)
        media = post.media[0]
        if media.kind == "clip":
            return self._video(post, media, ledger)
        return self._photo(post, media, ledger)

    def _message(self, post: OutgoingPost) -> str:
        return post.text if not post.link or post.link in post.text else f"{post.text}\n\n{post.link}"

    def _feed(self, post: OutgoingPost, ledger: StepLedger) -> PublishResult:
        data: dict[str, Any] = {"message": post.text}
        if post.link:
            data["link"] = post.link
        body = self.json(self.request("POST", self._graph(f"{self.account}/feed"), creates=True, what="the post", data=data, headers=self._auth,
                                      ledger=ledger))
        return PublishResult(body["id"], f"https://www.facebook.com/{body['id']}")

    def _photo(self, post: OutgoingPost, media: OutgoingMedia, ledger: StepLedger) -> PublishResult:
        data = {"message": self._message(post), "alt_text_custom": media.alt_text, "published": "true"}
        files = None
        if media.public_url:
            data["url"] = media.public_url
        else:
            blob = self.read_media(media.path, limit=PLATFORMS["facebook"].image_max_bytes)
            files = {"source": (media.path.name, blob, media.mime_type)}
        response = self.request("POST", self._graph(f"{self.account}/photos"), creates=True, what="the photo post", ledger=ledger,
                                data=data, files=files, headers=self._auth)
        body = self.json(response)
        remote = body.get("post_id") or body["id"]
        return PublishResult(remote, f"https://www.facebook.com/{remote}", {"photo_id": str(body["id"])})

    def _video(self, post: OutgoingPost, media: OutgoingMedia, ledger: StepLedger) -> PublishResult:
        video_id = ledger.get(CREATE_ANSWERED)
        if video_id is None:  # not finished yet: upload (a retry starts a new session) and finish
            video_id = self._upload_video(post, media, ledger)
        if ledger.get("video:ready") is None:  # the video is on the Page; wait for processing
            self.poll(lambda: self._video_ready(video_id), what=f"video {video_id}", ledger=ledger)
            ledger.record("video:ready", "1")
        return PublishResult(video_id, f"https://www.facebook.com/{self.account}/videos/{video_id}", {"video_id": video_id})

    def _upload_video(self, post: OutgoingPost, media: OutgoingMedia, ledger: StepLedger) -> str:
        blob = self.read_media(media.path, limit=PLATFORMS["facebook"].video_max_bytes)
        resumed = ledger.get("upload_session") is not None
        session = ledger.once("upload_session", lambda: self.start_upload_session(media, len(blob)))
        handle = ledger.once("file_handle", lambda: self.upload_file(session, blob, self.upload_offset(session) if resumed else 0))
        video_id = self.publish_video(post, handle, ledger)
        ledger.create_answered(video_id)  # the video is on the Page from here: never upload it again
        return video_id

    # ---- the video steps, each resumable on its own ------------------------------------------
    @property
    def _user_auth(self) -> dict[str, str]:
        """The Resumable Upload API takes a *user* access token, sent as `OAuth <token>`."""
        return {"Authorization": "OAuth " + self.credentials.require("USER_TOKEN")}

    def start_upload_session(self, media: OutgoingMedia, size: int) -> str:
        """Step 1: an upload session under the app; returns its id ("upload:...")."""
        app_id = self.credentials.require("APP_ID")
        body = self.json(self.request("POST", self._graph(f"{app_id}/uploads"), what="video upload session",
                                      headers={"Authorization": "Bearer " + self.credentials.require("USER_TOKEN")},
                                      params={"file_name": media.path.name, "file_length": str(size), "file_type": media.mime_type}))
        return str(body["id"])

    def upload_offset(self, session: str) -> int:
        """How many bytes Meta holds for `session` (where an interrupted upload resumes)."""
        body = self.json(self.request("GET", self._graph(session), what="video upload offset", headers=self._user_auth))
        return int(body.get("file_offset", 0))

    def upload_file(self, session: str, blob: bytes, offset: int = 0) -> str:
        """Step 2: send the bytes from `offset`; on a lost or failed transfer ask Meta how far
        it got and go on from there. Returns the file handle `h`."""
        for attempt in range(self.chunk_retries + 1):
            try:
                body = self.json(self.request("POST", self._graph(session), what=f"video upload from byte {offset}",
                                              headers={**self._user_auth, "file_offset": str(offset)}, data=blob[offset:]))
                if body.get("h"):
                    return str(body["h"])
                offset = int(body.get("file_offset", offset))
            except TransientError as exc:
                if attempt == self.chunk_retries:
                    raise TransientError(f"the video upload failed {attempt + 1} times: {exc}") from None
                self.clock.sleep(max(self.poll_interval, 0.01) * 2 ** attempt)
                offset = self.upload_offset(session)
        raise TransientError(f"Meta did not return a file handle for {session} after {self.chunk_retries + 1} uploads")

    def publish_video(self, post: OutgoingPost, handle: str, ledger: StepLedger | None = None) -> str:
        """Step 3: publish the uploaded file on the Page (Page token); returns the video id."""
        body = self.json(self.request("POST", self._graph(f"{self.account}/videos"), creates=True, what="the video post",
                                      ledger=ledger, headers=self._auth, data={
                                          "title": post.text.split("\n", 1)[0][:100], "description": self._message(post),
                                          "fbuploader_video_file_chunk": handle}))
        return str(body["id"])

    def _video_ready(self, video_id: str) -> bool | None:
        body = self.json(self.request("GET", self._graph(video_id), what="video status", headers=self._auth,
                                      params={"fields": "status"}))
        status = body.get("status", {})
        state = status.get("video_status")
        if state == "ready":
            return True
        if state == "error":
            detail = status.get("processing_phase", {}).get("errors") or status.get("error") or "no detail given"
            raise PermanentError(f"Facebook could not process the video on {self.who}: {self.scrub(str(detail))} — check the clip's codec and length")
        return None
