"""LinkedIn REST emulator: LinkedIn-Version and X-Restli-Protocol-Version headers required,
images and videos via initializeUpload, PUTs (ETag per part), finalizeUpload, status, and
/rest/posts (201, urn in x-restli-id; a repeat of a recent post's commentary is refused with
422 DUPLICATE_POST "Content is a duplicate of urn:li:share:...", as LinkedIn answers). Commentary is read as "little text": an unescaped
reserved character cuts the text there, as LinkedIn silently does. The token says which
account acts; it may upload and post only as its own author (organization or member urn)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import Any
from urllib.parse import unquote

from campaign.platforms import PLATFORMS
from emulators import media, metrics
from emulators.base import Emulator, Job
from emulators.oauth import TokenRules
from emulators.wire import DROP, Reject, Reply, Request, require

#: how long LinkedIn remembers a post's text for its duplicate check (reported as 24-48 h)
DUPLICATE_WINDOW = dt.timedelta(hours=24)
RESERVED = set("\\|{}@[]()<>#*_~")
HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\#\|([^{}|]+)\}")


def read_little_text(commentary: str) -> str:
    """What LinkedIn shows: escapes removed, `{hashtag|\\#|word}` templates as #word, and the
    text cut at the first unescaped reserved character."""
    out: list[str] = []
    index = 0
    while index < len(commentary):
        char = commentary[index]
        if char == "\\" and index + 1 < len(commentary) and commentary[index + 1] in RESERVED:
            out.append(commentary[index + 1])
            index += 2
            continue
        template = HASHTAG_TEMPLATE.match(commentary, index) if char == "{" else None
        if template:
            out.append("#" + read_little_text(template.group(1)))
            index = template.end()
            continue
        if char in RESERVED:
            break
        out.append(char)
        index += 1
    return "".join(out)


DAY = 86400.0
#: LinkedIn's 3-legged OAuth: 60-day access tokens; refresh tokens (365 days, never extended by a
#: refresh) only for approved partner apps: `LinkedInEmulator(refresh_tokens=True)` plays one.
LINKEDIN_OAUTH = TokenRules(authorize_path="/oauth/v2/authorization", token_path="/oauth/v2/accessToken",
                            scopes=("w_organization_social", "r_organization_social", "w_member_social", "openid",
                                    "profile", "rw_organization_admin"),
                            access_lifetime=60 * DAY, refresh=False, refresh_lifetime=365 * DAY,
                            state_refresh_lifetime=True, pkce_required=False)


class LinkedInEmulator(Emulator):
    platform = "linkedin"
    audience = 6_000  # typical lifetime impressions of one post (emulators.metrics)
    api_root = "/rest"
    oauth_rules = LINKEDIN_OAUTH

    def tune_oauth(self, rules: TokenRules, options: dict[str, Any]) -> TokenRules:
        return dataclasses.replace(rules, refresh=bool(options.get("refresh_tokens", False)))

    def __init__(self, *, part_size: int = 4 * 1024 * 1024, **options: Any) -> None:
        self.part_size = part_size
        self._images: dict[str, dict[str, Any]] = {}
        self._videos: dict[str, dict[str, Any]] = {}
        super().__init__(**options)

    def action_of(self, request: Request) -> str:
        if request.path == "/rest/posts":
            return "create"
        if request.path.startswith("/upload/video/"):
            return "chunk"
        if request.method == "GET":
            return "status"
        return "upload"

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        if extra.get("name"):
            body = {"status": status, "code": extra["name"], "message": message}
            if extra.get("code"):
                body["serviceErrorCode"] = extra["code"]
            return Reply(status, body)
        body = {"message": message, "status": status}
        if extra.get("code"):
            body["serviceErrorCode"] = extra["code"]
        return Reply(status, body)

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        return self.error_reply(429, "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.")

    def _authorize(self, request: Request, *, rest: bool) -> str:
        """The account the token acts as, after LinkedIn's header checks."""
        state, account = self.token_state(request.bearer())
        if state == "expired":  # an OAuth token past its 60 days
            raise Reject(401, "The token used in the request has expired", code=65602, name="EXPIRED_ACCESS_TOKEN")
        if self.take("expired_token") is not None:  # the fault tests inject: a token refused as expired
            raise Reject(401, "The token used in the request has expired", code=65601)
        if state != "ok" or account is None:  # unknown, or revoked by the member or by the renewal that replaced it
            raise Reject(401, "The token used in the request has been revoked by the user", code=65601,
                         name="REVOKED_ACCESS_TOKEN")
        if rest:
            version = request.headers.get("linkedin-version", "")
            require(re.fullmatch(r"\d{6}(\.\d{2})?", version), "A version must be present. Please specify a version by adding the "
                    "LinkedIn-Version header", code=100)
            if not self._version_active(version):  # LinkedIn's answer, as its API gives it (status, code, message)
                raise Reject(426, f"Requested version {version[:6]}01 is not active", name="NONEXISTENT_VERSION")
            require(request.headers.get("x-restli-protocol-version") == "2.0.0", "X-Restli-Protocol-Version: 2.0.0 is required")
        return account

    #: Sunsets LinkedIn's migrations page states; other versions live until the 15th a year on.
    DOCUMENTED_SUNSETS = {"202510": dt.date(2026, 10, 15), "202511": dt.date(2026, 11, 16)}

    def _version_active(self, version: str) -> bool:
        """LinkedIn serves a monthly version from its release until about a year later."""
        year, month = int(version[:4]), int(version[4:6])
        if not 1 <= month <= 12:
            return False
        sunset = self.DOCUMENTED_SUNSETS.get(version[:6], dt.date(year + 1, month, 15))
        return dt.date(year, month, 1) <= self.clock.now().date() < sunset

    @staticmethod
    def _acts_as(account: str, urn: str) -> None:
        """An account named by its urn, or by its bare id, may act only as that urn."""
        bare_id = not account.startswith("urn:")
        if urn != account and not (bare_id and urn.rsplit(":", 1)[-1] == account):
            raise Reject(403, f"Not enough permissions to act as {urn}", code=100)

    def serves_figures(self, request: Request) -> bool:
        return request.method == "GET" and request.path.endswith("/organizationalEntityShareStatistics")

    def figures(self, request: Request) -> Reply:
        return metrics.linkedin(self, request)

    def route(self, request: Request) -> Reply | object:
        path, method = request.path, request.method
        upload = re.fullmatch(r"/upload/(image|video)/([\w-]+)(?:/(\d+))?", path)
        account = self._authorize(request, rest=not upload)
        action = request.query.get("action")
        if upload and method == "PUT":
            return self._put_image(upload.group(2), request) if upload.group(1) == "image" else \
                self._put_part(upload.group(2), int(upload.group(3) or -1), request)
        if method == "POST" and path == "/rest/images" and action == "initializeUpload":
            return self._init_image(account, request)
        if method == "POST" and path == "/rest/videos" and action == "initializeUpload":
            return self._init_video(account, request)
        if method == "POST" and path == "/rest/videos" and action == "finalizeUpload":
            return self._finalize(request)
        if method == "GET" and path.startswith("/rest/videos/"):
            return self._video_status(unquote(path[len("/rest/videos/"):]))
        if method == "POST" and path == "/rest/posts":
            return self._post(account, request)
        if method == "GET" and path.startswith("/rest/posts/"):
            return self._get_post(unquote(path[len("/rest/posts/"):]))
        organization = re.fullmatch(r"/rest/organizations/(\d+)", path)
        if method == "GET" and organization:  # who the token may act for (`check` looks the organization up)
            self._acts_as(account, f"urn:li:organization:{organization.group(1)}")
            return Reply(200, {"id": int(organization.group(1)), "localizedName": account, "vanityName": account.rsplit(":", 1)[-1]})
        if method == "GET" and path == "/rest/me":
            require(account.startswith("urn:li:person:"), "Not enough permissions to access: me.GET.20240101", 403, code=100)
            return Reply(200, {"id": account.rsplit(":", 1)[-1], "localizedFirstName": "", "localizedLastName": ""})
        raise Reject(404, f"no route for {method} {path}")

    def _get_post(self, urn: str) -> Reply:
        """GET /rest/posts/{urn}: the post as LinkedIn keeps it (author, commentary as sent)."""
        with self._lock:
            post = next((p for p in self.published if p["id"] == urn), None)
        if post is None:
            raise Reject(404, f"Post {urn} does not exist", code=65600)
        return Reply(200, {"id": urn, "author": post["author"], "commentary": post["commentary"], "visibility": "PUBLIC",
                           "lifecycleState": "PUBLISHED", "publishedAt": int(dt.datetime.fromisoformat(post["received_at"])
                                                                             .timestamp() * 1000)})

    def _owner(self, account: str, body: Any, wrapper: str) -> dict[str, Any]:
        inner = body.get(wrapper, body) if isinstance(body, dict) else {}
        require(isinstance(inner, dict) and str(inner.get("owner", "")).startswith("urn:li:"), f"{wrapper}.owner must be a urn:li: owner",
                code=100)
        self._acts_as(account, inner["owner"])
        return inner

    def _init_image(self, account: str, request: Request) -> Reply:
        inner = self._owner(account, request.json(), "initializeUploadRequest")
        key = f"img{self.next_id()}"
        urn = f"urn:li:image:D4E{key}"
        self._images[urn] = {"key": key, "owner": inner["owner"], "info": None}
        return Reply(200, {"value": {"uploadUrlExpiresAt": 0, "uploadUrl": f"{self.base_url}/upload/image/{key}", "image": urn}})

    def _put_image(self, key: str, request: Request) -> Reply:
        image = next((v for v in self._images.values() if v["key"] == key), None)
        require(image, "unknown upload url", 404)
        info = media.probe(request.body)
        require(info.kind == "image", "the upload is not an image")
        media.check("linkedin", info)
        image["info"] = info
        return Reply(201, None)

    def _init_video(self, account: str, request: Request) -> Reply:
        inner = self._owner(account, request.json(), "initializeUploadRequest")
        size = inner.get("fileSizeBytes")
        require(isinstance(size, int) and size > 0, "initializeUploadRequest.fileSizeBytes is required", code=100)
        require(size <= PLATFORMS["linkedin"].video_max_bytes, "the video is larger than LinkedIn accepts")
        key = f"vid{self.next_id()}"
        urn = f"urn:li:video:C5F{key}"
        parts = []
        for number, first in enumerate(range(0, size, self.part_size)):
            last = min(size, first + self.part_size) - 1
            parts.append({"uploadUrl": f"{self.base_url}/upload/video/{key}/{number}", "firstByte": first, "lastByte": last})
        self._videos[urn] = {"key": key, "owner": inner["owner"], "size": size, "parts": parts, "etags": {}, "data": {},
                             "token": f"tok-{key}", "job": None, "info": None}
        return Reply(200, {"value": {"uploadUrlsExpireAt": 0, "video": urn, "uploadInstructions": parts, "uploadToken": f"tok-{key}"}})

    def _put_part(self, key: str, number: int, request: Request) -> Reply:
        video = next((v for v in self._videos.values() if v["key"] == key), None)
        require(video and 0 <= number < len(video["parts"]), "unknown upload url", 404)
        assert video is not None
        part = video["parts"][number]
        expected = part["lastByte"] - part["firstByte"] + 1
        require(len(request.body) == expected, f"this part must hold bytes {part['firstByte']}-{part['lastByte']} ({expected} bytes)")
        etag = '"' + hashlib.md5(request.body).hexdigest() + '"'
        video["data"][number] = request.body
        video["etags"][number] = etag
        return Reply(200, None, headers={"ETag": etag})

    def _finalize(self, request: Request) -> Reply:
        body = request.json()
        inner = body.get("finalizeUploadRequest", body) if isinstance(body, dict) else {}
        video = self._videos.get(str(inner.get("video", "")))
        require(video, "finalizeUploadRequest.video is unknown", code=100)
        assert video is not None
        require(inner.get("uploadToken", "") == video["token"], "uploadToken does not match the initializeUpload answer")
        expected = [video["etags"].get(i) for i in range(len(video["parts"]))]
        require(None not in expected, "some parts were never uploaded")
        require(inner.get("uploadedPartIds") == expected, "uploadedPartIds must list every part's ETag in order")
        data = b"".join(video["data"][i] for i in range(len(video["parts"])))
        info = media.probe(data)
        media.check("linkedin", info)
        video.update(info=info, job=self.new_job())
        return Reply(200, None)

    def _video_status(self, urn: str) -> Reply:
        video = self._videos.get(urn)
        require(video, f"video {urn} not found", 404)
        assert video is not None
        job: Job | None = video["job"]
        if job is None:
            return Reply(200, {"id": urn, "status": "WAITING_UPLOAD"})
        state = job.step()
        body = {"id": urn, "status": {"processing": "PROCESSING", "done": "AVAILABLE", "failed": "PROCESSING_FAILED"}[state]}
        if state == "failed":
            body["processingFailureReason"] = job.reason
        return Reply(200, body)

    def _post(self, account: str, request: Request) -> Reply | object:
        body = request.json()
        for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            require(isinstance(body, dict) and name in body, f"/{name} is a required field", code=100)
        self._acts_as(account, str(body["author"]))
        commentary = body["commentary"]
        require(len(commentary) <= PLATFORMS["linkedin"].text_limit, "commentary is longer than 3000 characters", code=100)
        item = ((body.get("content") or {}).get("media") or {})
        media_list, alts = [], []
        if item:
            urn = item.get("id", "")
            if urn.startswith("urn:li:image:"):
                image = self._images.get(urn)
                require(image and image["info"] and image["owner"] == body["author"], f"image {urn} was not uploaded by the author",
                        code=100)
                media_list.append(image["info"].as_dict())
                if item.get("altText"):
                    alts.append(item["altText"])
            else:
                video = self._videos.get(urn)
                require(video and video["owner"] == body["author"], f"video {urn} was not uploaded by the author", code=100)
                assert video is not None
                require(video["job"] and video["job"].state == "done", f"video {urn} is not AVAILABLE yet", code=100)
                media_list.append(video["info"].as_dict())
        with self._lock:
            same = next((p for p in self.published_by(account) if p.get("commentary") == commentary
                         and self.now() - dt.datetime.fromisoformat(p["received_at"]) < DUPLICATE_WINDOW), None)
            if same is not None:
                self.refuse_duplicate(account, commentary, same, 422, f"Content is a duplicate of {same['id']}",
                                      code="DUPLICATE_POST")
            urn = f"urn:li:share:{7_000_000_000_000_000_000 + self.next_id()}"
            self.record({"id": urn, "url": f"https://www.linkedin.com/feed/update/{urn}", "text": read_little_text(commentary),
                         "commentary": commentary, "language": None, "languages": [], "alt_texts": alts,
                         "media": media_list, "account": account, "author": body["author"]})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(201, None, headers={"x-restli-id": urn})
