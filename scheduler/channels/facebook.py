"""Facebook Page publisher (Graph API): text, photo (multipart `source` or `url`) and video
(chunked start/transfer/finish on the graph-video host, then status polling).

Duplicates: Facebook has no idempotency key, and refuses only a repeated *status* (code
506); a repeated photo or video is posted again. So a lost answer is `OutcomeUnknown`, and
the dispatcher never re-sends after "create sent" without the ledger saying the create was
refused. A video's upload session and its finished id go into the step ledger: a retry (a
500 on the status check) checks the status again instead of uploading a second copy.
"""

from __future__ import annotations

from typing import Any

import requests

from scheduler.channels._graph import raise_graph_error
from scheduler.channels._http import HttpPublisher
from scheduler.channels.base import CREATE_ANSWERED, OutgoingMedia, OutgoingPost, PermanentError, PublishResult, StepLedger
from assets.specs import PLATFORMS


class FacebookPublisher(HttpPublisher):
    platform = "facebook"
    can_find_existing = False
    uses_ledger = True
    DEFAULTS = {
        "base_url": "https://graph.facebook.com",
        "video_base_url": "https://graph-video.facebook.com",
        "version": "v21.0",
    }

    def _graph(self, path: str, *, video: bool = False) -> str:
        host = self.api["video_base_url"] if video else self.api["base_url"]
        return f"{host.rstrip('/')}/{self.api['version']}/{path.lstrip('/')}"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.credentials.require("TOKEN")}

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        raise_graph_error(self, response, creates=creates)

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
        url = self._graph(f"{self.account}/videos", video=True)
        start = self.json(self.request("POST", url, what="video upload start", headers=self._auth,
                                       data={"upload_phase": "start", "file_size": str(len(blob))}))
        session_id, video_id = start["upload_session_id"], str(start["video_id"])
        ledger.record("upload_session", session_id)
        begin, end = int(start["start_offset"]), int(start["end_offset"])
        while begin < end:
            stop = min(end, begin + self.chunk_size)
            piece = blob[begin:stop]

            def send(begin: int = begin, piece: bytes = piece) -> dict[str, Any]:
                return self.json(self.request(
                    "POST", url, what=f"video chunk at byte {begin}", headers=self._auth,
                    data={"upload_phase": "transfer", "upload_session_id": session_id, "start_offset": str(begin)},
                    files={"video_file_chunk": ("chunk", piece, "application/octet-stream")},
                ))

            answer = self.send_chunk(send, what=f"video chunk at byte {begin}")
            begin, end = int(answer["start_offset"]), int(answer["end_offset"])
        self.request("POST", url, creates=True, what="the video post", headers=self._auth, ledger=ledger, data={
            "upload_phase": "finish", "upload_session_id": session_id,
            "title": post.text.split("\n", 1)[0][:100], "description": self._message(post),
        })
        ledger.create_answered(video_id)  # the video is on the Page from here: never upload it again
        return video_id

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
