"""Facebook Page emulator: /feed, /photos (multipart `source` or `url`), /videos (chunked
start/transfer/finish, or one-shot `source`), video status, 506 on a repeated status message.

Only a repeated *status* (a /feed text post) is refused with code 506 ("Duplicate status
message"); Facebook posts a repeated photo or video again (client libraries report duplicate
photos and reels after retried requests), so the emulator does too."""

from __future__ import annotations

from typing import Any

import requests

from assets.specs import PLATFORMS
from scheduler.emulators import media
from scheduler.emulators.base import DROP, Job, Reject, Reply, Request, require
from scheduler.emulators.graph import GraphEmulator


class FacebookEmulator(GraphEmulator):
    platform = "facebook"

    def __init__(self, *, upload_chunk: int = 1024 * 1024, **options: Any) -> None:
        self.upload_chunk = upload_chunk
        self._sessions: dict[str, dict[str, Any]] = {}
        self._video_jobs: dict[str, dict[str, Any]] = {}
        super().__init__(**options)

    def action_of(self, request: Request) -> str:
        if request.path.endswith("/videos"):
            phase = request.field("upload_phase")
            return {"start": "upload", "transfer": "chunk", "finish": "create"}.get(phase or "", "create")
        if request.path.endswith(("/photos", "/feed")):
            return "create"
        return "status" if request.method == "GET" else "other"

    def route(self, request: Request) -> Reply | object:
        parts = self.split(request)
        account = self.authorize(request)
        if request.method == "POST" and len(parts) == 2 and parts[1] in ("feed", "photos", "videos"):
            self.require_owner(account, parts[0])
            return getattr(self, "_" + parts[1])(parts[0], request)
        if request.method == "GET" and len(parts) == 1 and parts[0] in self._video_jobs:
            return self._status(parts[0])
        raise Reject(400, f"Unsupported {request.method} request. Object with ID '{parts[0]}' does not exist", code=100, subcode=33)

    def _message(self, request: Request, *names: str) -> str:
        text = next((request.field(n) for n in names if request.field(n)), "") or ""
        require(len(text) <= PLATFORMS["facebook"].text_limit, "(#100) The message is too long", code=100)
        return text

    def _duplicate(self, page: str, text: str) -> None:
        same = next((p for p in self.published_by(page) if text and p["text"] == text and p.get("kind") == "status"), None)
        if same is not None:
            self.refuse_duplicate(page, text, same, 400, "(#506) Duplicate status message", code=506)

    def _create(self, page: str, kind: str, text: str, media_list: list[dict[str, Any]], alt: str | None = None,
                object_id: str | None = None) -> dict[str, Any]:
        with self._lock:  # check and record at once, per Page
            if kind == "status":
                self._duplicate(page, text)
            number = self.next_id()
            post_id = object_id or f"{page}_{1000 + number}"
            return self.record({"id": post_id, "object_id": str(5000 + number), "url": f"https://www.facebook.com/{post_id}",
                                "text": text, "language": None, "languages": [], "alt_texts": [alt] if alt else [],
                                "media": media_list, "account": page, "kind": kind})

    def _feed(self, page: str, request: Request) -> Reply | object:
        text = self._message(request, "message")
        require(text or request.field("link"), "(#100) Missing message or attachment", code=100)
        entry = self._create(page, "status", text, [])
        return DROP if self.take("drop_after_create", "create") is not None else Reply(200, {"id": entry["id"]})

    def _photos(self, page: str, request: Request) -> Reply | object:
        text = self._message(request, "message", "caption")
        fields, files = request.form()
        if "source" in files:
            data = files["source"].data
        elif request.field("url"):
            try:
                answer = requests.get(request.field("url"), timeout=5)
                answer.raise_for_status()
                data = answer.content
            except requests.RequestException:
                raise Reject(400, "(#324) Missing or invalid image file: the url could not be fetched", code=324) from None
        else:
            raise Reject(400, "(#324) Requires upload file", code=324)
        info = self._checked(data)
        require(info.kind == "image", "(#324) The file is not an image", code=324)
        entry = self._create(page, "photo", text, [info.as_dict()], request.field("alt_text_custom"))
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"id": entry["object_id"], "post_id": entry["id"]})

    def _checked(self, data: bytes) -> media.MediaInfo:
        try:
            info = media.probe(data)
            media.check("facebook", info)
        except Reject as exc:
            raise Reject(400, f"(#100) {exc.message}", code=100) from None
        return info

    def _videos(self, page: str, request: Request) -> Reply | object:
        phase = request.field("upload_phase")
        if phase == "start":
            size = int(request.field("file_size") or 0)
            require(size > 0, "(#100) file_size is required for upload_phase=start", code=100)
            video_id, session_id = str(7000 + self.next_id()), f"sess{self.next_id()}"
            self._sessions[session_id] = {"page": page, "size": size, "data": bytearray(), "video_id": video_id}
            return Reply(200, {"video_id": video_id, "upload_session_id": session_id, "start_offset": "0",
                               "end_offset": str(min(size, self.upload_chunk))})
        if phase in ("transfer", "finish"):
            session = self._sessions.get(request.field("upload_session_id") or "")
            require(session and session["page"] == page, "(#100) Invalid upload_session_id", code=100)
            assert session is not None
            if phase == "transfer":
                return self._transfer(session, request)
            require(len(session["data"]) == session["size"], "(#6000) There was a problem uploading your video: not all bytes were sent",
                    code=6000)
            return self._publish_video(page, bytes(session["data"]), session["video_id"], request)
        fields, files = request.form()
        require("source" in files, "(#100) Upload the video as `source` or use upload_phase=start", code=100)
        return self._publish_video(page, files["source"].data, str(7000 + self.next_id()), request)

    def _transfer(self, session: dict[str, Any], request: Request) -> Reply:
        offset = int(request.field("start_offset") or -1)
        require(offset == len(session["data"]), f"(#6001) start_offset {offset} does not match the expected {len(session['data'])}",
                code=6001)
        files = request.form()[1]
        require("video_file_chunk" in files, "(#100) video_file_chunk is required", code=100)
        chunk = files["video_file_chunk"].data
        window = min(session["size"], offset + self.upload_chunk) - offset
        require(0 < len(chunk) <= window, f"(#6001) the chunk must hold 1-{window} bytes", code=6001)
        session["data"].extend(chunk)
        start = len(session["data"])
        return Reply(200, {"start_offset": str(start), "end_offset": str(min(session["size"], start + self.upload_chunk))})

    def _publish_video(self, page: str, data: bytes, video_id: str, request: Request) -> Reply | object:
        info = self._checked(data)
        require(info.kind == "video", "(#352) The video file you selected is in a format that we don't support.", code=352)
        text = request.field("description") or ""
        entry = self._create(page, "video", text, [info.as_dict()], object_id=video_id)
        entry_id = entry["id"]
        self._video_jobs[video_id] = {"job": self.new_job(), "post": entry_id}
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"success": True, "id": video_id})

    def _status(self, video_id: str) -> Reply:
        job: Job = self._video_jobs[video_id]["job"]
        state = job.step()
        status = {"done": "ready", "processing": "processing", "failed": "error"}[state]
        body: dict[str, Any] = {"id": video_id, "status": {"video_status": status, "processing_progress": 100 if state == "done" else 50}}
        if state == "failed":
            body["status"]["processing_phase"] = {"status": "error", "errors": [{"code": 1363008, "message": job.reason}]}
        return Reply(200, body)
