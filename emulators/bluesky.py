"""Bluesky emulator: a PDS (createSession, refreshSession, getServiceAuth, uploadBlob,
createRecord, getRecord, listRecords, describeRepo) and the video service
(app.bsky.video.uploadVideo, getJobStatus) on one port. Strict on the lexicon: TID record
keys, 300 graphemes, <= 3 langs, facet byte ranges, image alt text, blobs that were
uploaded; 429 with RateLimit-* (epoch reset on the real clock).

Held to the real `@atproto/pds` by the answers recorded from it
(tests/scheduler/channels/pds_answers/, replayed by a test): JWT-shaped tokens, a DID
document in the session, HTTP 500 for a record key already taken, 400 RecordNotFound,
uploadBlob sniffing the type, service tokens refused beyond an hour (`BadExpiration`, real
clock), and with `video_service=False` the PDS's own "No service configured" for
app.bsky.video.*. Service tokens must name the account's PDS (the DID document's
`localhost` endpoint) as `aud`, not the entry host (`127.0.0.1`). A clip uploaded twice
answers `already_exists`, and its job gives the blob. app.bsky.actor.getProfile answers as
the app view does, since the atproto SDK reads it right after login.

Each account is a repo (handle, app password, DID): sessions, blobs, video jobs and records
belong to the repo that made them, so a record key conflicts only within one repo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from campaign.platforms import PLATFORMS
from campaign.clock import SystemClock
from emulators import media, metrics, textcount
from emulators.base import Emulator, Job, epoch_in
from emulators.wire import DROP, Reject, Reply, Request, require

COLLECTION = "app.bsky.feed.post"
ACCESS_SECONDS, REFRESH_SECONDS = 2 * 3600, 90 * 86400  # what @atproto/pds issues
SERVICE_TOKEN_MAX = 3600  # getServiceAuth refuses a later exp (BadExpiration)
#: What @atproto/pds 0.5.35 answers to app.bsky.video.* without a video service (recorded).
NO_SERVICE = (400, "InvalidRequest", "No service configured for app.bsky.video.uploadVideo")
#: What @atproto/pds 0.5.35 records for bytes it cannot name, and its default upload limit
#: (PDS_BLOB_UPLOAD_LIMIT, 5 MiB): a larger body is refused with 413 PayloadTooLarge (recorded).
UNKNOWN_MIME = "*/*"
BLOB_UPLOAD_LIMIT = 5 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sniff_mime(data: bytes) -> str | None:
    """The type uploadBlob records, read from the bytes as the PDS does (the declared type is ignored)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


def did_for(handle: str) -> str:
    return "did:plc:" + hashlib.sha256(handle.encode()).hexdigest()[:24]


#: The base32-sortable alphabet of AT Protocol TIDs (atproto.com/specs/tid).
_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


def valid_tid(value: str) -> bool:
    """A record key of the `tid` format, checked here from the spec (never with the publisher's own
    code): 13 characters of base32-sortable, the first at most "j" (the integer's top bit is 0)."""
    return len(value) == 13 and all(char in _SORTABLE for char in value) and _SORTABLE.index(value[0]) < 16


@dataclass
class Repo:
    """One account: its handle (the account name), DID and records by record key."""

    handle: str
    did: str
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


class BlueskyEmulator(Emulator):
    platform = "bluesky"
    audience = 2_500  # typical lifetime impressions of one post (emulators.metrics)
    default_account = "campaign.bsky.social"

    def __init__(self, *, identifier: str | None = None, password: str | None = None, **options: Any) -> None:
        self._repos: dict[str, Repo] = {}  # handle -> repo
        self._access: dict[str, str] = {}  # session tokens -> handle
        self._refresh: dict[str, str] = {}
        self._service: dict[str, str] = {}
        self._blobs: dict[tuple[str, str], dict[str, Any]] = {}  # (handle, cid) -> blob
        self._jobs: dict[str, dict[str, Any]] = {}
        self._refresh_fails = 0
        self._uploaded_videos: dict[tuple[str, str], str] = {}  # (did, sha256) -> job id
        self._secret = secrets.token_bytes(32)
        self.real_clock = SystemClock()  # tokens and rate-limit resets: never the campaign clock
        #: False: a lone PDS (no video service, no app view): app.bsky.* answer "No service configured"
        self.video_service = bool(options.pop("video_service", True))
        #: bsky.social puts the DID document in the session (PDS_ENABLE_DID_DOC_WITH_SESSION); a PDS may not
        self.did_doc_with_session = bool(options.pop("did_doc_with_session", True))
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

    @property
    def pds_endpoint(self) -> str:
        """The account's PDS as its DID document names it: this server under its host name,
        not the 127.0.0.1 entry the publisher is given (bsky.social is an entry too)."""
        return self.base_url.replace("127.0.0.1", "localhost")

    @property
    def service_did(self) -> str:
        return "did:web:localhost"

    def did_document(self, repo: "Repo") -> dict[str, Any]:
        return {"@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
                "id": repo.did, "alsoKnownAs": [f"at://{repo.handle}"],
                "verificationMethod": [{"id": f"{repo.did}#atproto", "type": "Multikey", "controller": repo.did,
                                        "publicKeyMultibase": "zQ3sh" + hashlib.sha256(repo.did.encode()).hexdigest()[:44]}],
                "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": self.pds_endpoint}]}

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
            "RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(epoch_in(self.real_clock, retry_after)),
            "RateLimit-Policy": "5000;w=3600"})

    def _jwt(self, typ: str, claims: dict[str, Any]) -> str:
        """A JWT as @atproto/pds issues them (HS256; SDKs decode the payload for `exp`)."""
        head = _b64(json.dumps({"typ": typ, "alg": "HS256"}, separators=(",", ":")).encode())
        body = _b64(json.dumps({**claims, "jti": secrets.token_urlsafe(12)}, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
        return f"{head}.{body}.{signature}"

    def _session(self, repo: Repo) -> dict[str, Any]:
        now = int(self.real_clock.now().timestamp())
        access = self._jwt("at+jwt", {"scope": "com.atproto.appPass", "sub": repo.did, "aud": self.service_did,
                                      "iat": now, "exp": now + ACCESS_SECONDS})
        refresh = self._jwt("refresh+jwt", {"scope": "com.atproto.refresh", "sub": repo.did, "aud": self.service_did,
                                            "iat": now, "exp": now + REFRESH_SECONDS})
        with self._lock:
            self._access[access] = repo.handle
            self._refresh[refresh] = repo.handle
        session = {"did": repo.did, "handle": repo.handle, "email": f"{repo.handle}@example.com", "emailConfirmed": False,
                   "accessJwt": access, "refreshJwt": refresh, "active": True}
        return {**session, "didDoc": self.did_document(repo)} if self.did_doc_with_session else session

    def _auth(self, request: Request, *, service: bool = False) -> Repo:
        """The repo whose session (or video-service token) the request carries."""
        token = request.bearer() or ""
        require(token, "Authentication Required", 401, error="AuthenticationRequired")
        if service:
            require(token in self._service, "Bad token scope: a service auth token for the video service is required", 401,
                    error="InvalidToken")
            return self._repos[self._service[token]]
        require(token in self._access, "Token could not be verified", 400, error="InvalidToken")
        expired = self.take("expired_token")
        if expired is not None:
            with self._lock:
                self._access.pop(token, None)
                if expired.get("refresh_fails"):
                    self._refresh_fails += 1
            raise Reject(400, "Token has expired", error="ExpiredToken")
        return self._repos[self._access[token]]

    def credentials_of(self, account: str, token: str) -> dict[str, str]:
        return {"IDENTIFIER": account, "PASSWORD": token}  # a handle and an app password

    def overrides(self, media_base_url: str) -> dict[str, str]:
        return {**super().overrides(media_base_url), "video_base_url": self.base_url}  # the video service, on this port

    def serves_figures(self, request: Request) -> bool:
        return request.method == "GET" and request.path == "/xrpc/app.bsky.feed.getPosts"

    def figures(self, request: Request) -> Reply:
        return metrics.bluesky(self, request)

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
            ("GET", "com.atproto.repo.listRecords"): self._list_records,
            ("GET", "com.atproto.repo.describeRepo"): self._describe_repo,
            ("GET", "com.atproto.server.getSession"): self._get_session,
            ("GET", "app.bsky.actor.getProfile"): self._get_profile,
        }.get((method, nsid))
        if nsid.startswith("app.bsky.") and not self.video_service:  # a lone PDS proxies app.bsky.* to nothing
            status, error, message = NO_SERVICE
            raise Reject(status, message.replace("app.bsky.video.uploadVideo", nsid), error=error)
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

    def _get_session(self, request: Request) -> Reply:
        repo = self._auth(request)
        session = {"handle": repo.handle, "did": repo.did, "active": True, "email": f"{repo.handle}@example.com",
                   "emailConfirmed": False}
        return Reply(200, {**session, "didDoc": self.did_document(repo)} if self.did_doc_with_session else session)

    def _service_auth(self, request: Request) -> Reply:
        repo = self._auth(request)
        aud = str(request.query.get("aud", ""))
        require(aud.startswith("did:"), "Error: aud must be a valid did", error="InvalidRequest")
        now = int(self.real_clock.now().timestamp())
        exp = request.query.get("exp")
        if exp is not None:
            require(str(exp).isdigit(), "Error: exp must be an integer", error="InvalidRequest")
            require(int(exp) > now, "expiration date must be in the future", error="BadExpiration")
            require(int(exp) - now <= SERVICE_TOKEN_MAX,
                    "cannot request a token with an expiration more than an hour in the future", error="BadExpiration")
        token = self._jwt("JWT", {"iss": repo.did, "aud": aud, "lxm": request.query.get("lxm"), "iat": now,
                                  "exp": int(exp) if exp else now + 60})
        with self._lock:
            self._service[token] = repo.handle
        return Reply(200, {"token": token})

    def _blob(self, repo: Repo, data: bytes, mime: str) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        cid = "bafkrei" + digest[:52]
        mime = sniff_mime(data) or mime  # the PDS records what the bytes are, not what the client said
        info = media.probe(data, mime) if mime != UNKNOWN_MIME else None  # bytes it cannot name: kept all the same
        with self._lock:
            self._blobs[(repo.handle, cid)] = {"info": info, "mime": mime}
        return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}

    def _upload_blob(self, request: Request) -> Reply:
        repo = self._auth(request)
        require(len(request.body) <= BLOB_UPLOAD_LIMIT, "request entity too large", 413, error="PayloadTooLarge")
        mime = sniff_mime(request.body) or UNKNOWN_MIME
        if mime.startswith("image/"):
            require(len(request.body) <= PLATFORMS["bluesky"].image_max_bytes,
                    f"This file is too large. It is {len(request.body)} bytes but the maximum size is 1000000 bytes.", 400,
                    error="BlobTooLarge")
        return Reply(200, {"blob": self._blob(repo, request.body, mime)})

    def _upload_video(self, request: Request) -> Reply:
        repo = self._auth(request, service=True)
        claims = json.loads(base64.urlsafe_b64decode((request.bearer() or "").split(".")[1] + "=="))
        require(claims.get("aud") == self.service_did, f"jwt audience does not match service did: the token names "
                f"{claims.get('aud')}, the account's PDS is {self.service_did}", 401, error="BadJwtAudience")
        require(claims.get("exp", 0) > self.real_clock.now().timestamp(), "jwt expired", 401, error="JwtExpired")
        require(claims.get("lxm") == "com.atproto.repo.uploadBlob", "bad jwt lexicon method", 401, error="BadJwtLexiconMethod")
        require(request.query.get("did") == repo.did, "did must be the uploader's DID")
        require(request.content_type == "video/mp4", "the video service takes video/mp4")
        info = media.probe(request.body)
        media.check("bluesky", info)
        digest = hashlib.sha256(request.body).hexdigest()
        with self._lock:
            earlier = self._uploaded_videos.get((repo.did, digest))
        if earlier is not None:  # the video service's answer to a clip it already processed
            self._jobs[earlier]["repeats"] = True
            return Reply(409, {"did": repo.did, "error": "already_exists", "jobId": earlier,
                               "message": "Video already processed", "state": "JOB_STATE_COMPLETED"})
        job_id = f"job{self.next_id()}"
        blob = self._blob(repo, request.body, "video/mp4")
        with self._lock:
            self._jobs[job_id] = {"job": self.new_job(), "blob": blob, "did": repo.did}
            self._uploaded_videos[(repo.did, digest)] = job_id
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
            if entry.get("repeats"):
                status.update(error="already_exists", message="Video already processed")
        if state == "failed":
            status.update(error="Processing failed", message=job.reason)
        return Reply(200, {"jobStatus": status})

    def _create_record(self, request: Request) -> Reply | object:
        repo = self._auth(request)
        body = request.json()
        require(isinstance(body, dict) and body.get("repo") in (repo.did, repo.handle), "repo must be the session's DID")
        require(body.get("collection") == COLLECTION, f"collection must be {COLLECTION} here")
        rkey = body.get("rkey") or None
        require(rkey is None or valid_tid(rkey), f"Invalid record key (got {json.dumps(rkey)}) at $.rkey", error="InvalidRequest")
        record = body.get("record") or {}
        entry = self._validate(repo, record)
        with self._lock:
            rkey = rkey or self._new_tid()
            # @atproto/pds answers a taken key with a bare 500 (its log: "There is already a value at key")
            require(rkey not in repo.records, "Internal Server Error", 500, error="InternalServerError")
            uri = f"at://{repo.did}/{COLLECTION}/{rkey}"
            cid = "bafyrei" + hashlib.sha256(repr(sorted(record.items())).encode()).hexdigest()[:52]
            repo.records[rkey] = {"uri": uri, "cid": cid, "value": record}
        self.record({"id": uri, "url": f"https://bsky.app/profile/{repo.handle}/post/{rkey}", "rkey": rkey, "account": repo.handle,
                     "did": repo.did, **entry})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        commit = {"cid": "bafyrei" + hashlib.sha256(cid.encode()).hexdigest()[:52], "rev": self._new_tid()}
        return Reply(200, {"uri": uri, "cid": cid, "commit": commit, "validationStatus": "valid"})

    def _new_tid(self) -> str:
        """A record key as the PDS makes one: microseconds now and a clock id, base32-sortable."""
        micros = int(self.real_clock.now().timestamp() * 1_000_000) + self.next_id()
        value = (micros << 10) | secrets.randbelow(1024)
        return "".join("234567abcdefghijklmnopqrstuvwxyz"[(value >> (5 * (12 - i))) & 31] for i in range(13))

    def _validate(self, repo: Repo, record: dict[str, Any]) -> dict[str, Any]:
        require(record.get("$type") == COLLECTION, "record/$type must be app.bsky.feed.post", error="InvalidRequest")
        text = record.get("text")
        require(isinstance(text, str), "Record/text is required", error="InvalidRequest")
        require(textcount.grapheme_length(text) <= 300, "Record/text must not be longer than 300 graphemes", error="InvalidRequest")
        require(len(text.encode("utf-8")) <= 3000, "Record/text must not be longer than 3000 bytes", error="InvalidRequest")
        require(isinstance(record.get("createdAt"), str), "Record/createdAt is required", error="InvalidRequest")
        langs = record.get("langs", [])
        require(isinstance(langs, list) and len(langs) <= 3, "Record/langs holds at most 3 languages", error="InvalidRequest")
        size = len(text.encode("utf-8"))
        for facet in record.get("facets", []):
            index = facet.get("index", {})
            start, end = index.get("byteStart"), index.get("byteEnd")
            require(isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= size,
                    "Record/facets: byteStart/byteEnd must lie within the UTF-8 text", error="InvalidRequest")
            for feature in facet.get("features", []):
                kind = feature.get("$type")
                require(kind in ("app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag", "app.bsky.richtext.facet#mention"),
                        f"unknown facet feature {kind}", error="InvalidRequest")
        alts, media_list = [], []
        embed = record.get("embed")
        if embed:
            kind = embed.get("$type")
            if kind == "app.bsky.embed.images":
                images = embed.get("images", [])
                require(1 <= len(images) <= 4, "Record/embed/images holds 1-4 images", error="InvalidRequest")
                for image in images:
                    require(isinstance(image.get("alt"), str), "Record/embed/images/alt is required", error="InvalidRequest")
                    blob = self._known(repo, image.get("image"))
                    alts.append(image["alt"])
                    media_list.append({**blob["info"].as_dict(), "aspect_ratio": image.get("aspectRatio")})
            elif kind == "app.bsky.embed.video":
                blob = self._known(repo, embed.get("video"))
                require(blob["mime"] == "video/mp4", "Record/embed/video must be a video/mp4 blob", error="InvalidRequest")
                if embed.get("alt"):
                    alts.append(embed["alt"])
                media_list.append({**blob["info"].as_dict(), "aspect_ratio": embed.get("aspectRatio")})
            else:
                raise Reject(400, f"embed type {kind} is not supported by this emulator", error="InvalidRequest")
        return {"text": text, "language": (langs or [None])[0], "languages": langs, "alt_texts": alts, "media": media_list,
                "facets": record.get("facets", [])}

    def _known(self, repo: Repo, blob: Any) -> dict[str, Any]:
        cid = ((blob or {}).get("ref") or {}).get("$link")
        require((repo.handle, cid) in self._blobs, "the embedded blob was never uploaded to this repo", error="BlobNotFound")
        known = self._blobs[(repo.handle, cid)]
        require(known["info"] is not None, f"Referenced Mimetype does not match stored blob. Expected: {known['mime']}",
                error="InvalidMimeType")
        return known

    def _get_record(self, request: Request) -> Reply:
        """Public read of one record, in the repo the request names (handle or DID)."""
        require(request.query.get("collection") == COLLECTION, "collection is required")
        repo = self._repo(request.query.get("repo", ""))
        require(repo, "Could not locate record", error="InvalidRequest")  # what the PDS says for an unknown repo
        assert repo is not None
        record = repo.records.get(request.query.get("rkey", ""))
        require(record, f"Could not locate record: at://{repo.did}/{COLLECTION}/{request.query.get('rkey')}", error="RecordNotFound")
        return Reply(200, record)

    def _list_records(self, request: Request) -> Reply:
        """Public listing, newest record key first (reverse=true: oldest first), with a cursor."""
        require(request.query.get("collection"), "Error: Params must have the property \"collection\"", error="InvalidRequest")
        repo = self._repo(request.query.get("repo", ""))
        require(repo, f"Could not find repo: {request.query.get('repo')}", error="InvalidRequest")
        assert repo is not None
        limit = int(request.query.get("limit") or 50)
        require(1 <= limit <= 100, "Error: limit can not be greater than 100", error="InvalidRequest")
        reverse = request.query.get("reverse") == "true"
        keys = sorted(repo.records, reverse=not reverse) if request.query["collection"] == COLLECTION else []
        cursor = request.query.get("cursor")
        if cursor:
            keys = [k for k in keys if (k > cursor if reverse else k < cursor)]
        page = keys[:limit]
        body: dict[str, Any] = {"records": [repo.records[k] for k in page]}
        if page:  # the PDS gives a cursor with every non-empty page
            body["cursor"] = page[-1]
        return Reply(200, body)

    def _get_profile(self, request: Request) -> Reply:
        """The app view's profile (the atproto SDK reads it right after login)."""
        self._auth(request)
        repo = self._repo(request.query.get("actor", ""))
        require(repo, "Profile not found", error="InvalidRequest")
        assert repo is not None
        return Reply(200, {"did": repo.did, "handle": repo.handle, "displayName": repo.handle.split(".")[0],
                           "followersCount": 0, "followsCount": 0, "postsCount": len(repo.records),
                           "indexedAt": "2024-01-01T00:00:00.000Z", "createdAt": "2024-01-01T00:00:00.000Z", "labels": []})

    def _describe_repo(self, request: Request) -> Reply:
        repo = self._repo(request.query.get("repo", ""))
        require(repo, f"Could not find repo: {request.query.get('repo')}", error="InvalidRequest")
        assert repo is not None
        return Reply(200, {"handle": repo.handle, "did": repo.did, "didDoc": self.did_document(repo),
                           "collections": [COLLECTION] if repo.records else [], "handleIsCorrect": True})
