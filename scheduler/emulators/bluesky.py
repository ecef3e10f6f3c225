"""Bluesky emulator: a PDS (createSession, refreshSession, getServiceAuth, uploadBlob,
createRecord, getRecord) and the video service (app.bsky.video.uploadVideo, getJobStatus)
on one port. Strict on the lexicon: TID record keys, 300 graphemes, <= 3 langs, facet byte
ranges, image alt text, blobs that were uploaded; 429 with RateLimit-* (epoch reset)."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from assets.specs import PLATFORMS
from scheduler.channels.tid import is_tid
from scheduler.emulators import media, textcount
from scheduler.emulators.base import DROP, Emulator, Job, Reject, Reply, Request, epoch_in, require

COLLECTION = "app.bsky.feed.post"


class BlueskyEmulator(Emulator):
    platform = "bluesky"

    def __init__(self, *, identifier: str = "campaign.bsky.social", password: str | None = None, **options: Any) -> None:
        self.identifier = identifier
        self.password = password or options.pop("token", None) or f"sandbox-app-password-{secrets.token_urlsafe(8)}"
        self.did = "did:plc:" + hashlib.sha256(identifier.encode()).hexdigest()[:24]
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._service: set[str] = set()
        self._blobs: dict[str, dict[str, Any]] = {}
        self._jobs: dict[str, dict[str, Any]] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._refresh_fails = 0
        super().__init__(token=self.password, **options)

    def action_of(self, request: Request) -> str:
        name = request.path.rsplit("/", 1)[-1]
        return {"com.atproto.repo.createRecord": "create", "com.atproto.server.createSession": "auth",
                "com.atproto.server.refreshSession": "auth", "app.bsky.video.getJobStatus": "status",
                "com.atproto.repo.getRecord": "status"}.get(name, "upload")

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        return Reply(status, {"error": extra.get("error", "InvalidRequest"), "message": message}, headers=extra.get("headers", {}))

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        return self.error_reply(429, "Rate Limit Exceeded", error="RateLimitExceeded", headers={
            "RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(epoch_in(self.clock, retry_after)),
            "RateLimit-Policy": "5000;w=3600"})

    def _token(self, kind: str) -> str:
        return f"emu-{kind}-{secrets.token_urlsafe(16)}"

    def _session(self) -> dict[str, str]:
        access, refresh = self._token("access"), self._token("refresh")
        with self._lock:
            self._access.add(access)
            self._refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "did": self.did, "handle": self.identifier, "active": True}

    def _auth(self, request: Request, *, service: bool = False) -> None:
        token = request.bearer()
        require(token, "Authentication Required", 401, error="AuthenticationRequired")
        if service:
            require(token in self._service, "Bad token scope: a service auth token for the video service is required", 401,
                    error="InvalidToken")
            return
        require(token in self._access, "Token could not be verified", 400 if token in self._refresh else 401, error="InvalidToken")
        expired = self.take("expired_token")
        if expired is not None:
            with self._lock:
                self._access.discard(token)
                if expired.get("refresh_fails"):
                    self._refresh_fails += 1
            raise Reject(400, "Token has expired", error="ExpiredToken")

    def route(self, request: Request) -> Reply | object:
        require(request.path.startswith("/xrpc/"), "not an XRPC path", 404, error="MethodNotImplemented")
        nsid, method = request.path[len("/xrpc/"):], request.method
        handler = {
            ("POST", "com.atproto.server.createSession"): self._create_session,
            ("POST", "com.atproto.server.refreshSession"): self._refresh_session,
            ("GET", "com.atproto.server.getServiceAuth"): self._service_auth,
            ("POST", "com.atproto.repo.uploadBlob"): self._upload_blob,
            ("POST", "app.bsky.video.uploadVideo"): self._upload_video,
            ("GET", "app.bsky.video.getJobStatus"): self._job_status,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
            ("GET", "com.atproto.repo.getRecord"): self._get_record,
        }.get((method, nsid))
        require(handler, f"Method not implemented: {method} {nsid}", 501, error="MethodNotImplemented")
        return handler(request)

    def _create_session(self, request: Request) -> Reply:
        body = request.json()
        require(isinstance(body, dict) and body.get("identifier") and body.get("password"), "identifier and password are required")
        require(body["identifier"] in (self.identifier, self.did) and body["password"] == self.password,
                "Invalid identifier or password", 401, error="AuthenticationRequired")
        return Reply(200, self._session())

    def _refresh_session(self, request: Request) -> Reply:
        token = request.bearer()
        with self._lock:
            valid = token in self._refresh and self._refresh_fails == 0
            if self._refresh_fails:
                self._refresh_fails -= 1
            self._refresh.discard(token or "")
        require(valid, "Token has expired", 400, error="ExpiredToken")
        return Reply(200, self._session())

    def _service_auth(self, request: Request) -> Reply:
        self._auth(request)
        require(str(request.query.get("aud", "")).startswith("did:"), "aud must be a DID")
        require(request.query.get("lxm"), "lxm is required for the video service")
        token = self._token("service")
        with self._lock:
            self._service.add(token)
        return Reply(200, {"token": token})

    def _blob(self, data: bytes, mime: str) -> dict[str, Any]:
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:52]
        info = media.probe(data, mime)
        with self._lock:
            self._blobs[cid] = {"info": info, "mime": mime}
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}

    def _upload_blob(self, request: Request) -> Reply:
        self._auth(request)
        mime = request.content_type
        require(mime and mime != "application/octet-stream" or request.body, "Content-Type is required")
        if mime.startswith("image/"):
            require(len(request.body) <= PLATFORMS["bluesky"].image_max_bytes,
                    f"This file is too large. It is {len(request.body)} bytes but the maximum size is 1000000 bytes.", 400,
                    error="BlobTooLarge")
        return Reply(200, {"blob": self._blob(request.body, mime)})

    def _upload_video(self, request: Request) -> Reply:
        self._auth(request, service=True)
        require(request.query.get("did") == self.did, "did must be the uploader's DID")
        require(request.content_type == "video/mp4", "the video service takes video/mp4")
        info = media.probe(request.body)
        media.check("bluesky", info)
        job_id = f"job{self.next_id()}"
        blob = self._blob(request.body, "video/mp4")
        self._jobs[job_id] = {"job": self.new_job(), "blob": blob}
        return Reply(200, {"jobStatus": {"jobId": job_id, "did": self.did, "state": "JOB_STATE_CREATED", "progress": 0}})

    def _job_status(self, request: Request) -> Reply:
        entry = self._jobs.get(request.query.get("jobId", ""))
        require(entry, "job not found", 404, error="NotFound")
        assert entry is not None
        job: Job = entry["job"]
        state = job.step()
        status: dict[str, Any] = {"jobId": request.query["jobId"], "did": self.did,
                                  "state": {"processing": "JOB_STATE_ENCODING", "done": "JOB_STATE_COMPLETED",
                                            "failed": "JOB_STATE_FAILED"}[state]}
        if state == "done":
            status.update(progress=100, blob=entry["blob"])
        if state == "failed":
            status.update(error="Processing failed", message=job.reason)
        return Reply(200, {"jobStatus": status})

    def _create_record(self, request: Request) -> Reply | object:
        self._auth(request)
        body = request.json()
        require(isinstance(body, dict) and body.get("repo") in (self.did, self.identifier), "repo must be the session's DID")
        require(body.get("collection") == COLLECTION, f"collection must be {COLLECTION} here")
        rkey = body.get("rkey") or None
        require(rkey is None or is_tid(rkey), f"rkey {rkey!r} is not a valid TID", error="InvalidRecordKey")
        record = body.get("record") or {}
        entry = self._validate(record)
        with self._lock:
            rkey = rkey or f"3l{self.next_id():011d}"[:13]
            require(rkey not in self._records, f"Record already exists at {COLLECTION}/{rkey}", error="InvalidRequest")
            uri = f"at://{self.did}/{COLLECTION}/{rkey}"
            cid = "bafyrei" + hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest()[:52]
            self._records[rkey] = {"uri": uri, "cid": cid, "value": record}
        self.record({"id": uri, "url": f"https://bsky.app/profile/{self.identifier}/post/{rkey}", "rkey": rkey, "account": self.did,
                     **entry})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})

    def _validate(self, record: dict[str, Any]) -> dict[str, Any]:
        require(record.get("$type") == COLLECTION, "record/$type must be app.bsky.feed.post", error="InvalidRecord")
        text = record.get("text")
        require(isinstance(text, str), "Record/text is required", error="InvalidRecord")
        require(textcount.grapheme_length(text) <= 300, "Record/text must not be longer than 300 graphemes", error="InvalidRecord")
        require(len(text.encode("utf-8")) <= 3000, "Record/text must not be longer than 3000 bytes", error="InvalidRecord")
        require(isinstance(record.get("createdAt"), str), "Record/createdAt is required", error="InvalidRecord")
        langs = record.get("langs", [])
        require(isinstance(langs, list) and len(langs) <= 3, "Record/langs holds at most 3 languages", error="InvalidRecord")
        size = len(text.encode("utf-8"))
        for facet in record.get("facets", []):
            index = facet.get("index", {})
            start, end = index.get("byteStart"), index.get("byteEnd")
            require(isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size,
                    "Record/facets: byteStart/byteEnd must lie within the UTF-8 text", error="InvalidRecord")
            for feature in facet.get("features", []):
                kind = feature.get("$type")
                require(kind in ("app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag", "app.bsky.richtext.facet#mention"),
                        f"unknown facet feature {kind}", error="InvalidRecord")
        alts, media_list = [], []
        embed = record.get("embed")
        if embed:
            kind = embed.get("$type")
            if kind == "app.bsky.embed.images":
                images = embed.get("images", [])
                require(1 <= len(images) <= 4, "Record/embed/images holds 1-4 images", error="InvalidRecord")
                for image in images:
                    require(isinstance(image.get("alt"), str), "Record/embed/images/alt is required", error="InvalidRecord")
                    blob = self._known(image.get("image"))
                    alts.append(image["alt"])
                    media_list.append({**blob["info"].as_dict(), "aspect_ratio": image.get("aspectRatio")})
            elif kind == "app.bsky.embed.video":
                blob = self._known(embed.get("video"))
                require(blob["mime"] == "video/mp4", "Record/embed/video must be a video/mp4 blob", error="InvalidRecord")
                if embed.get("alt"):
                    alts.append(embed["alt"])
                media_list.append({**blob["info"].as_dict(), "aspect_ratio": embed.get("aspectRatio")})
            else:
                raise Reject(400, f"embed type {kind} is not supported by this emulator", error="InvalidRecord")
        return {"text": text, "language": (langs or [None])[0], "languages": langs, "alt_texts": alts, "media": media_list,
                "facets": record.get("facets", [])}

    def _known(self, blob: Any) -> dict[str, Any]:
        cid = ((blob or {}).get("ref") or {}).get("$link")
        require(cid in self._blobs, "the embedded blob was never uploaded", error="BlobNotFound")
        return self._blobs[cid]

    def _get_record(self, request: Request) -> Reply:
        require(request.query.get("collection") == COLLECTION, "collection is required")
        record = self._records.get(request.query.get("rkey", ""))
        require(record, f"Could not locate record: at://{self.did}/{COLLECTION}/{request.query.get('rkey')}", error="RecordNotFound")
        return Reply(200, record)
