"""Bluesky emulator: a PDS (createSession, refreshSession, getServiceAuth, uploadBlob,
createRecord, getRecord) and the video service (app.bsky.video.uploadVideo, getJobStatus)
on one port. Strict on the lexicon: TID record keys, 300 graphemes, <= 3 langs, facet byte
ranges, image alt text, blobs that were uploaded; 429 with RateLimit-* (epoch reset).

Each account is a repo (handle, app password, DID): sessions, blobs, video jobs and records
belong to the repo that made them, so a record key conflicts only within one repo."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from assets.specs import PLATFORMS
from scheduler.channels.tid import is_tid
from scheduler.emulators import media, textcount
from scheduler.emulators.base import DROP, Emulator, Job, Reject, Reply, Request, epoch_in, require

COLLECTION = "app.bsky.feed.post"


def did_for(handle: str) -> str:
    return "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]


@dataclass
class Repo:
    """One account: its handle (the account name), DID and records by record key."""

    handle: str
    did: str
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


class BlueskyEmulator(Emulator):
    platform = "bluesky"
    default_account = "campaign.bsky.social"

    def __init__(self, *, identifier: str | None = None, password: str | None = None, **options: Any) -> None:
        self._repos: dict[str, Repo] = {}  # handle -> repo
        self._access: dict[str, str] = {}  # session tokens -> handle
        self._refresh: dict[str, str] = {}
        self._service: dict[str, str] = {}
        self._blobs: dict[tuple[str, str], dict[str, Any]] = {}  # (handle, cid) -> blob
        self._jobs: dict[str, dict[str, Any]] = {}
        self._refresh_fails = 0
        account = identifier or options.pop("account", None)
        token = password or options.pop("token", None) or f"sandbox-app-password-{secrets.token_urlsafe(8)}"
        super().__init__(token=token, account=account, **options)

    def add_account(self, name: str, *, token: str | None = None) -> str:
        """Open a repo for handle `name`; returns its app password."""
        password = super().add_account(name, token=token or f"sandbox-app-password-{secrets.token_urlsafe(8)}")
        with self._lock:
            self._repos.setdefault(name, Repo(name, did_for(name)))
        return password

    # the first account, for single-account tests
    @property
    def identifier(self) -> str:
        return self.account

    @property
    def password(self) -> str:
        return self.token

    @property
    def did(self) -> str:
        return self._repos[self.account].did

    def _repo(self, name_or_did: str) -> Repo | None:
        return self._repos.get(name_or_did) or next((r for r in self._repos.values() if r.did == name_or_did), None)

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

    def _session(self, repo: Repo) -> dict[str, Any]:
        access, refresh = self._token("access"), self._token("refresh")
        with self._lock:
            self._access[access] = repo.handle
            self._refresh[refresh] = repo.handle
        return {"accessJwt": access, "refreshJwt": refresh, "did": repo.did, "handle": repo.handle, "active": True}

    def _auth(self, request: Request, *, service: bool = False) -> Repo:
        """The repo whose session (or video-service token) the request carries."""
        token = request.bearer() or ""
        require(token, "Authentication Required", 401, error="AuthenticationRequired")
        if service:
            require(token in self._service, "Bad token scope: a service auth token for the video service is required", 401,
                    error="InvalidToken")
            return self._repos[self._service[token]]
        require(token in self._access, "Token could not be verified", 400 if token in self._refresh else 401, error="InvalidToken")
        expired = self.take("expired_token")
        if expired is not None:
            with self._lock:
                self._access.pop(token, None)
                if expired.get("refresh_fails"):
                    self._refresh_fails += 1
            raise Reject(400, "Token has expired", error="ExpiredToken")
        return self._repos[self._access[token]]

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
            ("GET", "com.atproto.server.getSession"): self._get_session,
        }.get((method, nsid))
        require(handler, f"Method not implemented: {method} {nsid}", 501, error="MethodNotImplemented")
        return handler(request)

    def _create_session(self, request: Request) -> Reply:
        body = request.json()
        require(isinstance(body, dict) and body.get("identifier") and body.get("password"), "identifier and password are required")
        repo = self._repo(str(body["identifier"]))
        require(repo is not None and self.account_for(str(body["password"])) == repo.handle,
                "Invalid identifier or password", 401, error="AuthenticationRequired")
        assert repo is not None
        return Reply(200, self._session(repo))

    def _get_session(self, request: Request) -> Reply:
        repo = self._auth(request)
        return Reply(200, {"handle": repo.handle, "did": repo.did, "active": True})

    def _refresh_session(self, request: Request) -> Reply:
        token = request.bearer() or ""
        with self._lock:
            handle = self._refresh.pop(token, None) if self._refresh_fails == 0 else None
            if self._refresh_fails:
                self._refresh_fails -= 1
                self._refresh.pop(token, None)
        require(handle is not None, "Token has expired", 400, error="ExpiredToken")
        assert handle is not None
        return Reply(200, self._session(self._repos[handle]))

    def _service_auth(self, request: Request) -> Reply:
        repo = self._auth(request)
        require(str(request.query.get("aud", "")).startswith("did:"), "aud must be a DID")
        require(request.query.get("lxm"), "lxm is required for the video service")
        token = self._token("service")
        with self._lock:
            self._service[token] = repo.handle
        return Reply(200, {"token": token})

    def _blob(self, repo: Repo, data: bytes, mime: str) -> dict[str, Any]:
        cid = "bafkrei" + hashlib.sha256(data).hexdigest()[:52]
        info = media.probe(data, mime)
        with self._lock:
            self._blobs[(repo.handle, cid)] = {"info": info, "mime": mime}
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}

    def _upload_blob(self, request: Request) -> Reply:
        repo = self._auth(request)
        mime = request.content_type
        require(mime and mime != "application/octet-stream" or request.body, "Content-Type is required")
        if mime.startswith("image/"):
            require(len(request.body) <= PLATFORMS["bluesky"].image_max_bytes,
                    f"This file is too large. It is {len(request.body)} bytes but the maximum size is 1000000 bytes.", 400,
                    error="BlobTooLarge")
        return Reply(200, {"blob": self._blob(repo, request.body, mime)})

    def _upload_video(self, request: Request) -> Reply:
        repo = self._auth(request, service=True)
        require(request.query.get("did") == repo.did, "did must be the uploader's DID")
        require(request.content_type == "video/mp4", "the video service takes video/mp4")
        info = media.probe(request.body)
        media.check("bluesky", info)
        job_id = f"job{self.next_id()}"
        blob = self._blob(repo, request.body, "video/mp4")
        self._jobs[job_id] = {"job": self.new_job(), "blob": blob, "did": repo.did}
        return Reply(200, {"jobStatus": {"jobId": job_id, "did": repo.did, "state": "JOB_STATE_CREATED", "progress": 0}})

    def _job_status(self, request: Request) -> Reply:
        entry = self._jobs.get(request.query.get("jobId", ""))
        require(entry, "job not found", 404, error="NotFound")
        assert entry is not None
        job: Job = entry["job"]
        state = job.step()
        status: dict[str, Any] = {"jobId": request.query["jobId"], "did": entry["did"],
                                  "state": {"processing": "JOB_STATE_ENCODING", "done": "JOB_STATE_COMPLETED",
                                            "failed": "JOB_STATE_FAILED"}[state]}
        if state == "done":
            status.update(progress=100, blob=entry["blob"])
        if state == "failed":
            status.update(error="Processing failed", message=job.reason)
        return Reply(200, {"jobStatus": status})

    def _create_record(self, request: Request) -> Reply | object:
        repo = self._auth(request)
        body = request.json()
        require(isinstance(body, dict) and body.get("repo") in (repo.did, repo.handle), "repo must be the session's DID")
        require(body.get("collection") == COLLECTION, f"collection must be {COLLECTION} here")
        rkey = body.get("rkey") or None
        require(rkey is None or is_tid(rkey), f"rkey {rkey!r} is not a valid TID", error="InvalidRecordKey")
        record = body.get("record") or {}
        entry = self._validate(repo, record)
        with self._lock:
            rkey = rkey or f"3l{self.next_id():011d}"[:13]
            require(rkey not in repo.records, f"Record already exists at {COLLECTION}/{rkey}", error="InvalidRequest")
            uri = f"at://{repo.did}/{COLLECTION}/{rkey}"
            cid = "bafyrei" + hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest()[:52]
            repo.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        self.record({"id": uri, "url": f"https://bsky.app/profile/{repo.handle}/post/{rkey}", "rkey": rkey, "account": repo.handle,
                     "did": repo.did, **entry})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})

    def _validate(self, repo: Repo, record: dict[str, Any]) -> dict[str, Any]:
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
                    blob = self._known(repo, image.get("image"))
                    alts.append(image["alt"])
                    media_list.append({**blob["info"].as_dict(), "aspect_ratio": image.get("aspectRatio")})
            elif kind == "app.bsky.embed.video":
                blob = self._known(repo, embed.get("video"))
                require(blob["mime"] == "video/mp4", "Record/embed/video must be a video/mp4 blob", error="InvalidRecord")
                if embed.get("alt"):
                    alts.append(embed["alt"])
                media_list.append({**blob["info"].as_dict(), "aspect_ratio": embed.get("aspectRatio")})
            else:
                raise Reject(400, f"embed type {kind} is not supported by this emulator", error="InvalidRecord")
        return {"text": text, "language": (langs or [None])[0], "languages": langs, "alt_texts": alts, "media": media_list,
                "facets": record.get("facets", [])}

    def _known(self, repo: Repo, blob: Any) -> dict[str, Any]:
        cid = ((blob or {}).get("ref") or {}).get("$link")
        require((repo.handle, cid) in self._blobs, "the embedded blob was never uploaded to this repo", error="BlobNotFound")
        return self._blobs[(repo.handle, cid)]

    def _get_record(self, request: Request) -> Reply:
        """Public read of one record, in the repo the request names (handle or DID)."""
        require(request.query.get("collection") == COLLECTION, "collection is required")
        repo = self._repo(request.query.get("repo", ""))
        require(repo, f"Could not find repo: {request.query.get('repo')}", error="RepoNotFound")
        assert repo is not None
        record = repo.records.get(request.query.get("rkey", ""))
        require(record, f"Could not locate record: at://{repo.did}/{COLLECTION}/{request.query.get('rkey')}", error="RecordNotFound")
        return Reply(200, record)
