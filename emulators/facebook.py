"""Facebook Page emulator: /feed, /photos (multipart `source` or `url`), video status, 506 on
a repeated message, GET /me, and video as Meta documents it today: the Resumable Upload API
(POST /{app-id}/uploads with a *user* token -> "upload:<session>"; POST /upload:<session> with
`Authorization: OAuth <user token>` and a `file_offset` header, the bytes as the body -> file
handle `h`; GET /upload:<session> -> the `file_offset` to resume from), then POST
/{page-id}/videos with the Page token and `fbuploader_video_file_chunk=<h>`. The deprecated
graph-video `upload_phase` flow is refused.

Only a repeated *status* (a /feed text post) is refused with code 506 ("Duplicate status
message"); Facebook posts a repeated photo or video again (client libraries report duplicate
photos and reels after retried requests), so the emulator does too."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import requests

from campaign.platforms import PLATFORMS
from emulators import media, metrics
from emulators.base import Job
from emulators.wire import DROP, Reject, Reply, Request, require
from emulators.graph import GraphEmulator


class FacebookEmulator(GraphEmulator):
    platform = "facebook"
    audience = 12_000  # typical lifetime impressions of one post (emulators.metrics)
    insights_permission = "read_insights or pages_read_engagement"
    #: The MIME types the Resumable Upload API accepts (Meta's upload guide).
    UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")

    def __init__(self, *, upload_chunk: int = 1024 * 1024, app_id: str = "438200000000001", **options: Any) -> None:
        self.upload_chunk = upload_chunk
        self.app_id = app_id
        self._user_tokens: dict[str, str] = {}  # user token -> the person (a Page admin with a role on the app)
        self._sessions: dict[str, dict[str, Any]] = {}
        self._handles: dict[str, dict[str, Any]] = {}
        self._video_jobs: dict[str, dict[str, Any]] = {}
        super().__init__(**options)
        self.user_token = self.add_user()

    def add_user(self, name: str = "page-admin", *, token: str | None = None) -> str:
        """A person with a role on the app; their *user* access token starts uploads."""
        token = token or f"sandbox-facebook-user-{self.next_id()}-{base64.urlsafe_b64encode(name.encode()).decode().rstrip('=')}"
        with self._lock:
            self._user_tokens[token] = name
        return token

    def action_of(self, request: Request) -> str:
        if "/upload:" in request.path:
            return "chunk" if request.method == "POST" else "status"
        if request.path.endswith("/uploads"):
            return "upload"
        if request.path.endswith(("/photos", "/feed", "/videos")):
            return "create"
        return "status" if request.method == "GET" else "other"

    def dispatch(self, request: Request) -> Reply | object:
        if "/upload:" in request.path and request.method == "POST" and self.take("cut_upload", "chunk") is not None:
            # An interrupted upload: half of the bytes arrive, then the connection drops.
            with self._lock:
                self.requests.append((request.method, request.path))
            session = self._sessions.get(request.path.rsplit("/", 1)[-1])
            offset = request.headers.get("file_offset", "")
            if session is not None and offset.isdigit() and int(offset) == len(session["data"]):
                session["data"].extend(request.body[: len(request.body) // 2])
            return DROP
        return super().dispatch(request)

    def credentials_of(self, account: str, token: str) -> dict[str, str]:
        # clips: Meta's Resumable Upload API stores them under the app, with a user token
        return {"TOKEN": token, "APP_ID": self.app_id, "USER_TOKEN": self.user_token}

    def figures(self, request: Request) -> Reply:
        return metrics.facebook(self, request)

    def route(self, request: Request) -> Reply | object:
        parts = self.split(request)
        if len(parts) == 1 and parts[0].startswith("upload:"):
            return self._upload(parts[0], request)
        if len(parts) == 2 and parts[1] == "uploads":
            return self._start_session(parts[0], request)
        if request.method == "GET" and parts == ["me"]:
            return self._me(request)
        account = self.authorize(request)
        if request.method == "POST" and len(parts) == 2 and parts[1] in ("feed", "photos", "videos"):
            self.require_owner(account, parts[0])
            return getattr(self, "_" + parts[1])(parts[0], request)
        if request.method == "GET" and len(parts) == 1 and parts[0] in self._video_jobs:
            return self._status(parts[0])
        raise Reject(400, f"Unsupported {request.method} request. Object with ID '{parts[0]}' does not exist", code=100, subcode=33)

    def _me(self, request: Request) -> Reply:
        """Who a token acts as: a Page token is the Page, a user token the person."""
        token = request.bearer() or request.field("access_token")
        if token in self._user_tokens:
            name = self._user_tokens[token]
            return Reply(200, {"id": str(int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)), "name": name})
        page = self.authorize(request)
        return Reply(200, {"id": page, "name": page, "username": page})

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

    # ---- the Resumable Upload API --------------------------------------------------------
    def _user(self, token: str | None) -> str:
        user = self._user_tokens.get(token or "")
        if user is not None:
            return user
        if self.account_for(token) is not None:
            raise Reject(400, "(#200) The Resumable Upload API needs a User access token; a Page token cannot start uploads",
                         code=200, type="OAuthException")
        raise Reject(400, "Invalid OAuth access token - Cannot parse access token", code=190, type="OAuthException")

    def _start_session(self, app_id: str, request: Request) -> Reply:
        require(request.method == "POST", f"Unsupported {request.method} request", code=100)
        user = self._user(request.bearer() or request.field("access_token"))
        require(app_id == self.app_id, f"(#100) Application {app_id} does not exist or you have no role on it", code=100)
        length = int(request.field("file_length") or 0)
        file_type = request.field("file_type") or ""
        require(length > 0, "(#100) The parameter file_length is required", code=100)
        require(file_type in self.UPLOAD_TYPES, f"(#100) file_type must be one of {', '.join(self.UPLOAD_TYPES)}", code=100)
        session = "upload:" + base64.urlsafe_b64encode(f"session-{self.next_id()}".encode()).decode().rstrip("=")
        self._sessions[session] = {"user": user, "length": length, "type": file_type, "name": request.field("file_name") or "",
                                   "data": bytearray(), "handle": None}
        return Reply(200, {"id": session})

    def _upload(self, session_id: str, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        user = self._user(auth[6:].strip() if auth.lower().startswith("oauth ") else None)
        session = self._sessions.get(session_id)
        require(session is not None and session["user"] == user, "(#100) Invalid upload session id", code=100)
        assert session is not None
        received = len(session["data"])
        if request.method == "GET":
            return Reply(200, {"id": session_id, "file_offset": received})
        require(request.method == "POST", f"Unsupported {request.method} request", code=100)
        offset = request.headers.get("file_offset", "")
        require(offset.isdigit(), "(#100) The file_offset header is required", code=100)
        require(int(offset) == received, f"(#100) file_offset {offset} does not match the {received} bytes received; "
                                         "GET the upload session for the offset to resume from", code=100)
        room = session["length"] - received
        require(0 < len(request.body) <= room, f"(#100) the body must hold 1-{room} bytes", code=100)
        session["data"].extend(request.body)
        if len(session["data"]) < session["length"]:
            return Reply(200, {"id": session_id, "file_offset": len(session["data"])})
        if session["handle"] is None:
            session["handle"] = "4:" + base64.b64encode(f"{session_id}:{self.next_id()}".encode()).decode()
            self._handles[session["handle"]] = session
        return Reply(200, {"h": session["handle"]})

    def _videos(self, page: str, request: Request) -> Reply | object:
        require(not request.field("upload_phase"), "(#100) upload_phase uploads on graph-video.facebook.com are deprecated: "
                "upload with the Resumable Upload API and publish its file handle", code=100)
        handle = request.field("fbuploader_video_file_chunk")
        if handle:
            session = self._handles.get(handle)
            require(session is not None, "(#100) The uploaded file handle is invalid or expired", code=100)
            assert session is not None
            require(session["type"] == "video/mp4", "(#352) The file handle is not a video", code=352)
            return self._publish_video(page, bytes(session["data"]), str(7000 + self.next_id()), request)
        files = request.form()[1]
        require("source" in files, "(#100) Publish a video with fbuploader_video_file_chunk (a Resumable Upload API file "
                "handle) or upload it as `source`", code=100)
        return self._publish_video(page, files["source"].data, str(7000 + self.next_id()), request)

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
