"""YouTube Data API v3 emulator, as Google documents it (developers.google.com/youtube/v3):

- resumable upload: `POST /upload/youtube/v3/videos?uploadType=resumable&part=...` with the
  video resource as JSON (snippet: title <= 100 characters, description <= 5,000 bytes, neither
  with `<` or `>`; status.privacyStatus; defaultLanguage and localizations) answers 200 with the
  session URL in `Location`; `PUT` the bytes there with `Content-Range: bytes A-B/TOTAL`, every
  chunk but the last a multiple of 256 KiB and starting where the session stopped; `308 Resume
  Incomplete` with `Range: bytes=0-N` says what arrived; `Content-Range: bytes */TOTAL` asks;
  the last chunk answers 200 with the video resource;
- processing: `status.uploadStatus` `uploaded` then `processed` (or `failed`),
  `processingDetails.processingStatus` `processing` then `succeeded`, stepped by each
  `videos.list` asking for those parts;
- `captions.insert`: `POST /upload/youtube/v3/captions?part=snippet` as multipart/related (the
  caption resource as JSON, then the SRT or WebVTT file); `captions.list?videoId=`;
- `videos.list?part=statistics` (the figures, growing with age as emulators/metrics does),
  `channels.list?mine=true` (who the token acts as);
- quota: 10,000 units a day per project (option `daily_quota`), an upload 1,600, a caption 400,
  a list 1 (captions.list 50), reset at midnight Pacific time; over it, 403 `quotaExceeded`
  in Google's error shape; the `quota_exhausted` fault answers it once (`reason=` another);
- OAuth 2.0 as Google's (`emulators/oauth.py`: 1-hour access tokens, refresh tokens); an unknown,
  expired or revoked token: 401 `authError`; an unaudited project (option `audited=False`,
  the default, as for a new Google Cloud project) gets every upload locked to private.

Imports only the domain and the emulators' own modules, never the publisher it judges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from emulators import media, metrics
from emulators.base import Emulator, Job
from emulators.oauth import TokenRules
from emulators.wire import DROP, Reject, Reply, Request, require

PACIFIC = ZoneInfo("America/Los_Angeles")
CHUNK_GRANULARITY = 256 * 1024
COSTS = {"videos.insert": 1600, "captions.insert": 400, "videos.list": 1, "channels.list": 1, "captions.list": 50}
PRIVACY = ("private", "public", "unlisted")
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")
_REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 413: "uploadTooLarge", 415: "mediaBodyRequired",
            429: "rateLimitExceeded", 500: "backendError"}
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
           500: "INTERNAL"}
#: Google's OAuth 2.0 (one server for every Google API): 1-hour access tokens; a refresh token for
#: web apps (asked with access_type=offline), not single-use, no stated end; PKCE optional.
GOOGLE_OAUTH = TokenRules(authorize_path="/o/oauth2/v2/auth", token_path="/token", revoke_path="/revoke",
                          scopes=tuple(f"https://www.googleapis.com/auth/{s}" for s in
                                       ("youtube", "youtube.upload", "youtube.force-ssl", "youtube.readonly",
                                        "yt-analytics.readonly")),
                          access_lifetime=3600, pkce_required=False)


class YouTubeEmulator(Emulator):
    platform = "youtube"
    oauth_rules = GOOGLE_OAUTH
    audience = 7_000  # typical lifetime views of one video (emulators.metrics)
    default_account = "@campaign"

    def __init__(self, **options: Any) -> None:
        self._sessions: dict[str, dict[str, Any]] = {}
        self._videos: dict[str, dict[str, Any]] = {}
        self._captions: dict[str, dict[str, Any]] = {}
        self._quota_used = 0
        self._quota_day: dt.date | None = None
        #: the Content-Range of every PUT to an upload session, in order (tests read where a resume started)
        self.content_ranges: list[str] = []
        super().__init__(**options)
        self.daily_quota = int(self.options.get("daily_quota", 10_000))
        self.audited = bool(self.options.get("audited", False))

    # ---- the platform's shapes ----------------------------------------------------------
    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        reason = extra.get("reason") or _REASONS.get(status, "backendError")
        domain = extra.get("domain") or ("youtube.quota" if reason == "quotaExceeded" else
                                         "youtube.video" if reason == "uploadLimitExceeded" else "global")
        error = {"message": message, "domain": domain, "reason": reason}
        body = {"error": {"code": status, "message": message, "errors": [error], "status": _STATUS.get(status, "UNKNOWN")}}
        return Reply(status, body, headers=extra.get("headers", {}))

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        return self.error_reply(429, "The request cannot be completed because you have exceeded your quota of requests per "
                                     "user per minute.", reason="rateLimitExceeded", domain="usageLimits",
                                headers={"Retry-After": str(int(retry_after))})

    def action_of(self, request: Request) -> str:
        if request.path == "/upload/youtube/v3/videos":
            return "chunk" if request.method == "PUT" else "upload"
        if request.path == "/upload/youtube/v3/captions":
            return "caption"
        return "status" if request.method == "GET" else "other"

    def serves_figures(self, request: Request) -> bool:
        return (request.method == "GET" and request.path == "/youtube/v3/videos"
                and "statistics" in request.query.get("part", "").split(","))

    def figures(self, request: Request) -> Reply:
        account = self._auth(request)
        if account in self.__dict__.get("metrics_denied", set()):  # emulators.metrics.deny: a token without the scope
            raise Reject(403, "Request had insufficient authentication scopes.", reason="insufficientPermissions")
        return self._list_videos(account, request)

    # ---- dispatch ---------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Reply | object:
        if request.method == "PUT" and request.path == "/upload/youtube/v3/videos" and self.take("cut_upload", "chunk") is not None:
            # An interrupted chunk: the connection drops; Google keeps only whole 256 KiB blocks of what arrived.
            with self._lock:
                self.requests.append((request.method, request.path))
                self.content_ranges.append(request.headers.get("content-range", ""))
            session = self._sessions.get(request.query.get("upload_id", ""))
            found = _RANGE.fullmatch(request.headers.get("content-range", ""))
            if session is not None and found and found.group(1) and int(found.group(1)) == len(session["data"]):
                half = len(request.body) // 2
                session["data"].extend(request.body[: half - half % CHUNK_GRANULARITY])
            return DROP
        return super().dispatch(request)

    def route(self, request: Request) -> Reply | object:
        account = self._auth(request)
        path, method = request.path, request.method
        if path == "/upload/youtube/v3/videos" and method == "POST":
            return self._start_upload(account, request)
        if path == "/upload/youtube/v3/videos" and method == "PUT":
            return self._put(account, request)
        if path == "/upload/youtube/v3/captions" and method == "POST":
            return self._insert_caption(account, request)
        if path == "/youtube/v3/videos" and method == "GET":
            return self._list_videos(account, request)
        if path == "/youtube/v3/captions" and method == "GET":
            return self._list_captions(account, request)
        if path == "/youtube/v3/channels" and method == "GET":
            require(request.query.get("mine") == "true" or request.query.get("id"), "No filter selected. Expected one of: "
                    "id, mine, forHandle, forUsername, managedByMe, categoryId", reason="missingRequiredParameter")
            self._charge("channels.list")
            return Reply(200, {"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 1, "resultsPerPage": 5},
                               "items": [self._channel(account)]})
        raise Reject(404, f"Not Found: {method} {path}", reason="notFound")

    # ---- accounts, quota --------------------------------------------------------------------
    def _auth(self, request: Request) -> str:
        account = self.account_for(request.bearer())
        if account is None or self.take("expired_token") is not None:
            # Google says the same for an expired and a revoked token (the header adds invalid_token)
            raise Reject(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                              "or other valid authentication credential.", reason="authError",
                         headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})
        return account

    def channel_id(self, account: str) -> str:
        """The account's channel id (UC + 22 characters), stable for its name."""
        return "UC" + hashlib.sha256(account.encode()).hexdigest()[:22]

    def _channel(self, account: str) -> dict[str, Any]:
        handle = account if account.startswith("@") else "@" + account
        return {"kind": "youtube#channel", "id": self.channel_id(account),
                "snippet": {"title": account.lstrip("@"), "customUrl": handle.lower(), "description": ""}}

    def quota_used(self) -> int:
        """Units used today (Pacific time) by this emulator's project."""
        with self._lock:
            return self._quota_used if self._quota_day == self.now().astimezone(PACIFIC).date() else 0

    def _charge(self, method: str) -> None:
        fault = self.take("quota_exhausted")
        if fault is not None:
            reason = fault.get("reason", "quotaExceeded")
            raise Reject(403, _quota_message(reason), reason=reason)
        with self._lock:
            today = self.now().astimezone(PACIFIC).date()
            if self._quota_day != today:
                self._quota_day, self._quota_used = today, 0
            if self._quota_used + COSTS[method] > self.daily_quota:
                raise Reject(403, _quota_message("quotaExceeded"), reason="quotaExceeded")
            self._quota_used += COSTS[method]

    # ---- videos.insert, resumable -------------------------------------------------------------
    def _start_upload(self, account: str, request: Request) -> Reply:
        require(request.query.get("uploadType") == "resumable", "this emulator takes uploadType=resumable uploads only",
                reason="invalidUploadType")
        parts = [p for p in request.query.get("part", "").split(",") if p]
        require(parts, "Required parameter: part", reason="required")
        for part in parts:
            require(part in ("snippet", "status", "localizations", "recordingDetails"), f"part {part} is not valid here",
                    reason="unexpectedPart")
        resource = request.json() if request.body else {}
        require(isinstance(resource, dict), "the body is not a video resource", reason="parseError")
        snippet = resource.get("snippet") or {}
        require("snippet" in parts and snippet, "The request metadata does not specify a valid video title.",
                reason="invalidTitle")
        _check_text(snippet.get("title"), snippet.get("description", ""), where="snippet")
        localizations = resource.get("localizations") or {}
        if localizations:
            require("localizations" in parts, "localizations were sent without part=localizations", reason="unexpectedPart")
            require(snippet.get("defaultLanguage"), "localizations need snippet.defaultLanguage",
                    reason="defaultLanguageNotSet")
            for language, text in localizations.items():
                require(isinstance(text, dict), f"localizations.{language} must hold title and description",
                        reason="invalidLocalization")
                _check_text(text.get("title"), text.get("description", ""), where=f"localizations.{language}")
        status = resource.get("status") or {}
        privacy = status.get("privacyStatus", "public")
        require(privacy in PRIVACY, f"status.privacyStatus {privacy!r} is not one of {', '.join(PRIVACY)}",
                reason="invalidVideoMetadata")
        declared = request.headers.get("x-upload-content-length")
        require(declared is None or declared.isdigit(), "X-Upload-Content-Length must be a number of bytes")
        self._charge("videos.insert")
        upload_id = secrets.token_urlsafe(24)
        with self._lock:
            self._sessions[upload_id] = {"account": account, "resource": resource, "data": bytearray(), "video": None,
                                         "total": int(declared) if declared else None,
                                         "mime": request.headers.get("x-upload-content-type")}
        location = f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return Reply(200, None, headers={"Location": location, "X-GUploader-UploadID": upload_id})

    def _put(self, account: str, request: Request) -> Reply:
        session = self._sessions.get(request.query.get("upload_id", ""))
        require(session is not None, "The upload session does not exist or has expired.", 404, reason="notFound")
        assert session is not None
        require(session["account"] == account, "The upload session belongs to another channel.", 403, reason="forbidden")
        if session["video"] is not None:  # complete already: every later PUT answers the video
            return Reply(200, self._resource(session["video"], ("snippet", "status")))
        header = request.headers.get("content-range")
        with self._lock:
            self.content_ranges.append(header or "")
        found = _RANGE.fullmatch(header or "")
        require(found, f"Content-Range must be 'bytes FIRST-LAST/TOTAL' or 'bytes */TOTAL', got {header!r}",
                reason="invalidContentRange")
        assert found is not None
        total = None if found.group(3) == "*" else int(found.group(3))
        if total is not None:
            require(session["total"] in (None, total), f"the total {total} differs from the {session['total']} announced",
                    reason="invalidContentRange")
            session["total"] = total
        received = len(session["data"])
        if found.group(1) is None:  # `bytes */TOTAL`: how far did it get?
            require(not request.body, "a status query carries no bytes")
            if total is not None and received == total and received:
                return self._complete(session)
            return self._resume_incomplete(received)
        first, last = int(found.group(1)), int(found.group(2))
        require(first == received, f"the chunk starts at byte {first}, but the session holds bytes 0-{received - 1} "
                                   f"— ask with 'Content-Range: bytes */TOTAL' and resume there", reason="invalidContentRange")
        require(last >= first and len(request.body) == last - first + 1,
                f"the chunk carries {len(request.body)} bytes, Content-Range says {last - first + 1}", reason="invalidContentRange")
        final = total is not None and last + 1 == total
        require(final or len(request.body) % CHUNK_GRANULARITY == 0,
                f"every chunk but the last must be a multiple of 256 KiB ({CHUNK_GRANULARITY} bytes); this one is "
                f"{len(request.body)}", reason="invalidChunkSize")
        require(total is None or last < total, "the chunk ends past the total", reason="invalidContentRange")
        session["data"].extend(request.body)
        if final:
            return self._complete(session)
        return self._resume_incomplete(len(session["data"]))

    @staticmethod
    def _resume_incomplete(received: int) -> Reply:
        headers = {"Range": f"bytes=0-{received - 1}"} if received else {}
        return Reply(308, None, headers=headers)

    def _complete(self, session: dict[str, Any]) -> Reply:
        data = bytes(session["data"])
        info = media.probe(data)
        require(info.kind == "video", "The video file is not a video YouTube can read.", reason="invalidVideo")
        media.check("youtube", info)
        resource = session["resource"]
        snippet = dict(resource.get("snippet") or {})
        requested = (resource.get("status") or {}).get("privacyStatus", "public")
        privacy = requested if self.audited else "private"  # unaudited API projects: locked to private
        video_id = _video_id(self.next_id())
        short = info.height >= info.width and info.duration <= 180.0
        account = session["account"]
        video = {"id": video_id, "account": account, "snippet": {**snippet, "channelId": self.channel_id(account),
                                                                 "publishedAt": self.now().isoformat()},
                 "localizations": dict(resource.get("localizations") or {}), "privacy": privacy, "requested_privacy": requested,
                 "job": self.new_job(), "info": info, "captions": [], "short": short}
        with self._lock:
            self._videos[video_id] = video
            session["video"] = video_id
            self.record({"id": video_id, "url": f"https://www.youtube.com/{'shorts/' if short else 'watch?v='}{video_id}",
                         "account": account, "text": snippet.get("description", ""), "title": snippet.get("title"),
                         "language": snippet.get("defaultLanguage"), "languages": sorted(video["localizations"]),
                         "alt_texts": [], "media": [info.as_dict()], "privacy": privacy, "short": short, "captions": []})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, self._resource(video_id, ("snippet", "status")))

    # ---- videos.list ----------------------------------------------------------------------------
    def _list_videos(self, account: str, request: Request) -> Reply:
        parts = [p for p in request.query.get("part", "").split(",") if p]
        require(parts, "Required parameter: part", reason="required")
        ids = [i for i in request.query.get("id", "").split(",") if i]
        require(ids, "No filter selected. Expected one of: id, myRating, chart", reason="missingRequiredParameter")
        self._charge("videos.list")
        items = []
        for video_id in ids:
            video = self._videos.get(video_id)
            if video is None:
                continue  # Google leaves out ids it does not know
            if video["privacy"] == "private" and video["account"] != account:
                continue
            state = video["job"].step() if "status" in parts or "processingDetails" in parts else None
            items.append(self._resource(video_id, parts, state))
        return Reply(200, {"kind": "youtube#videoListResponse", "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                           "items": items})

    def _resource(self, video_id: str, parts: tuple[str, ...] | list[str], state: str | None = None) -> dict[str, Any]:
        """The video resource with `parts`; `state` is its processing's (processing | done | failed), now by default."""
        video = self._videos[video_id]
        job: Job = video["job"]
        state = state or job.state
        item: dict[str, Any] = {"kind": "youtube#video", "id": video_id}
        if "snippet" in parts:
            item["snippet"] = video["snippet"]
        if "localizations" in parts and video["localizations"]:
            item["localizations"] = video["localizations"]
        if "status" in parts:
            upload = {"processing": "uploaded", "failed": "failed"}.get(state, "processed")
            item["status"] = {"uploadStatus": upload, "privacyStatus": video["privacy"], "license": "youtube",
                              "embeddable": True, "publicStatsViewable": True}
            if state == "failed":
                item["status"]["failureReason"] = "codec"
        if "processingDetails" in parts:
            details: dict[str, Any] = {"processingStatus": {"processing": "processing", "failed": "failed"}.get(state, "succeeded")}
            if state == "processing":
                details["processingProgress"] = {"partsTotal": 1000, "partsProcessed": 500, "timeLeftMs": 60000}
            if state == "failed":
                details["processingFailureReason"] = "transcodeFailed"
            item["processingDetails"] = details
        if "statistics" in parts:
            entry = next((p for p in self.published if p["id"] == video_id), None)
            age = (self.now() - dt.datetime.fromisoformat(entry["received_at"])).total_seconds() if entry else 0.0
            item["statistics"] = {"viewCount": str(metrics.figure(self, video_id, "video_views", age)),
                                  "likeCount": str(metrics.figure(self, video_id, "likes", age)),
                                  "favoriteCount": "0", "commentCount": str(metrics.figure(self, video_id, "replies", age))}
        return item

    # ---- captions ---------------------------------------------------------------------------------
    def _insert_caption(self, account: str, request: Request) -> Reply:
        require(request.query.get("part") == "snippet", "Required parameter: part=snippet", reason="required")
        require(request.content_type == "multipart/related",
                "captions.insert takes multipart/related: the caption resource as JSON, then the caption file",
                reason="mediaBodyRequired")
        parts = _related_parts(request.body, request.headers.get("content-type", ""))
        require(len(parts) == 2, "the body must hold two parts: the caption resource and the caption file",
                reason="mediaBodyRequired")
        try:
            resource = json.loads(parts[0])
        except ValueError:
            raise Reject(400, "the first part is not a JSON caption resource", reason="parseError") from None
        snippet = (resource or {}).get("snippet") or {}
        video = self._videos.get(str(snippet.get("videoId", "")))
        require(video is not None and video["account"] == account, "The video identified by the videoId parameter could not "
                "be found.", 404, reason="videoNotFound")
        assert video is not None
        language = snippet.get("language")
        require(isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)*", language),
                "snippet.language must be a BCP-47 language code", reason="invalidMetadata")
        require(len(str(snippet.get("name", ""))) <= 150, "snippet.name is longer than 150 characters", reason="nameTooLong")
        text = parts[1].decode("utf-8", "replace")
        require("-->" in text, "The caption track is not in a format YouTube reads (SRT or WebVTT).",
                reason="invalidCaptionFormat")  # the real error names no format; this one is stricter
        same = [c for c in video["captions"] if self._captions[c]["snippet"]["language"] == language
                and self._captions[c]["snippet"].get("name", "") == snippet.get("name", "")]
        require(not same, "The video already has a caption track with this language and name.", 409,
                reason="captionExists")
        self._charge("captions.insert")
        caption_id = "AUieDa" + secrets.token_urlsafe(30)
        stored = {"kind": "youtube#caption", "id": caption_id,
                  "snippet": {"videoId": video["id"], "language": language, "name": snippet.get("name", ""),
                              "trackKind": "standard", "audioTrackType": "unknown", "isDraft": bool(snippet.get("isDraft")),
                              "status": "serving", "lastUpdated": self.now().isoformat()},
                  "text": text}
        with self._lock:
            self._captions[caption_id] = stored
            video["captions"].append(caption_id)
            for entry in self._published:
                if entry["id"] == video["id"]:
                    entry["captions"] = entry["captions"] + [language]
        return Reply(200, {k: v for k, v in stored.items() if k != "text"})

    def _list_captions(self, account: str, request: Request) -> Reply:
        video = self._videos.get(request.query.get("videoId", ""))
        require(video is not None and video["account"] == account, "The video could not be found.", 404,
                reason="videoNotFound")
        assert video is not None
        self._charge("captions.list")
        items = [{k: v for k, v in self._captions[c].items() if k != "text"} for c in video["captions"]]
        return Reply(200, {"kind": "youtube#captionListResponse", "items": items})

    def caption_text(self, video_id: str, language: str) -> str | None:
        """The caption file a video received in `language` (tests read it back)."""
        video = self._videos.get(video_id) or {"captions": []}
        return next((self._captions[c]["text"] for c in video["captions"] if self._captions[c]["snippet"]["language"] == language),
                    None)

    def sessions_started(self) -> int:
        """How many upload sessions were opened (a resumed upload opens none)."""
        with self._lock:
            return len(self._sessions)


def _related_parts(body: bytes, content_type: str) -> list[bytes]:
    """The bodies of a multipart/related request's parts. Lines may end in CRLF or, as
    google-api-python-client's email generator writes them, in a bare LF: Google takes both."""
    boundary = next((v.strip().strip('"') for k, _, v in (p.strip().partition("=") for p in content_type.split(";")[1:])
                     if k.lower() == "boundary"), None)
    require(boundary, "multipart/related without a boundary", reason="mediaBodyRequired")
    parts = []
    for chunk in body.split(b"--" + str(boundary).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk[1:] if chunk.startswith(b"\n") else chunk
        head, crlf, data = chunk.partition(b"\r\n\r\n")
        if not crlf or b"\n\n" in head:
            head, _, data = chunk.partition(b"\n\n")
        parts.append(data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data)
    return parts


def _check_text(title: Any, description: Any, *, where: str) -> None:
    require(isinstance(title, str) and title.strip(), f"{where}.title is empty", reason="invalidTitle")
    require(len(title) <= 100, f"{where}.title is {len(title)} characters; 100 at most", reason="invalidTitle")
    require("<" not in title and ">" not in title, f"{where}.title contains < or >", reason="invalidTitle")
    require(isinstance(description, str), f"{where}.description must be text", reason="invalidDescription")
    require(len(description.encode("utf-8")) <= 5000, f"{where}.description is {len(description.encode('utf-8'))} bytes; "
            "5000 at most", reason="invalidDescription")
    require("<" not in description and ">" not in description, f"{where}.description contains < or >",
            reason="invalidDescription")


def _quota_message(reason: str) -> str:
    if reason == "uploadLimitExceeded":
        return "The user has exceeded the number of videos they may upload."
    return ("The request cannot be completed because you have exceeded your "
            "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.")


def _video_id(number: int) -> str:
    """An 11-character video id (YouTube's alphabet), distinct per number."""
    digest = hashlib.sha256(f"video-{number}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(alphabet[b % 64] for b in digest[:11])
