"""X API v2 emulator: one-shot image upload, initialize/append/finalize/STATUS for video,
alt text metadata, POST /2/tweets (201, weighted 280, 4 images or 1 video, duplicate 403),
429 with x-rate-limit-* headers, problem+json errors.

The bearer token says which account acts: media belong to the account that uploaded them,
and a duplicate is the same text posted again by the same account (another account may
post it), as on X."""

from __future__ import annotations

import re
from typing import Any

from emulators import media, metrics, textcount
from emulators.base import Emulator, Job, epoch_in
from emulators.oauth import TokenRules
from emulators.wire import DROP, Reject, Reply, Request, require

CATEGORIES = ("tweet_image", "tweet_video", "tweet_gif", "amplify_video", "dm_image", "dm_video", "subtitles")


#: X's OAuth 2.0: 2 h access tokens; `offline.access` brings a refresh token, single-use.
X_OAUTH = TokenRules(authorize_path="/i/oauth2/authorize", token_path="/2/oauth2/token", revoke_path="/2/oauth2/revoke",
                     scopes=("tweet.read", "tweet.write", "tweet.moderate.write", "users.read", "follows.read",
                             "follows.write", "offline.access", "media.write", "like.read", "like.write"),
                     access_lifetime=2 * 3600, refresh_scope="offline.access", rotating=True)


class XEmulator(Emulator):
    platform = "x"
    oauth_rules = X_OAUTH
    audience = 9_000  # typical lifetime impressions of one post (emulators.metrics)

    def __init__(self, **options: Any) -> None:
        self._media: dict[str, dict[str, Any]] = {}
        super().__init__(**options)

    def action_of(self, request: Request) -> str:
        path = request.path
        if path == "/2/tweets" and request.method == "POST":
            return "create"
        if path.endswith("/append"):
            return "chunk"
        if request.method == "GET":
            return "status"
        return "upload" if path.startswith("/2/media") else "other"

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        titles = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 413: "Payload Too Large",
                  415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error"}
        body = {"title": titles.get(status, "Error"), "detail": message, "type": "about:blank", "status": status}
        return Reply(status, body, headers=extra.get("headers", {}), content_type="application/problem+json")

    def oauth_reply(self, reply: Reply) -> Reply:
        # X answers a spent, revoked or unknown refresh token with invalid_request, not RFC 6749's invalid_grant
        if isinstance(reply.body, dict) and reply.body.get("error") == "invalid_grant":
            return Reply(400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."})
        return reply

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        return self.error_reply(429, "Too Many Requests", headers={
            "x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(epoch_in(self.clock, retry_after))})

    def serves_figures(self, request: Request) -> bool:
        return request.method == "GET" and re.fullmatch(r"/2/tweets(/\d+)?", request.path) is not None

    def figures(self, request: Request) -> Reply:
        return metrics.x(self, request)

    def route(self, request: Request) -> Reply | object:
        token = request.bearer()
        require(token, "Unauthorized", 401)
        account = self.account_for(token)
        if self.take("expired_token") is not None or account is None:
            raise Reject(401, "Unauthorized")
        path, method = request.path, request.method
        if method == "POST" and path == "/2/media/upload":
            return self._one_shot(account, request)
        if method == "POST" and path == "/2/media/upload/initialize":
            return self._initialize(account, request)
        match = re.fullmatch(r"/2/media/upload/(\d+)/(append|finalize)", path)
        if method == "POST" and match:
            item = self._owned(account, match.group(1))
            return self._append(item, request) if match.group(2) == "append" else self._finalize(match.group(1), item)
        if method == "GET" and path == "/2/media/upload":
            require(request.query.get("command") == "STATUS", "command must be STATUS")
            item = self._owned(account, request.query.get("media_id", ""))
            return Reply(200, {"data": {"id": request.query["media_id"], "processing_info": self._info(item, step=True)}})
        if method == "POST" and path == "/2/media/metadata":
            return self._metadata(account, request)
        if method == "POST" and path == "/2/tweets":
            return self._tweet(account, request)
        if method == "GET" and path == "/2/users/me":  # who the token acts as (clients and `check` call it)
            return Reply(200, {"data": {"id": self._user_id(account), "name": account, "username": account}})
        raise Reject(404, f"no route for {method} {path}")

    def _user_id(self, account: str) -> str:
        return str(1_500_000_000 + self.accounts.index(account))

    def _new(self, account: str, **fields: Any) -> tuple[str, dict[str, Any]]:
        media_id = str(1_880_000_000_000_000_000 + self.next_id())
        self._media[media_id] = {"alt": None, "job": None, "info": None, "owner": account, **fields}
        return media_id, self._media[media_id]

    def _owned(self, account: str, media_id: str) -> dict[str, Any]:
        """A media item of this account (X does not let one account use another's uploads)."""
        item = self._media.get(media_id)
        require(item and item["owner"] == account, f"media id {media_id} is unknown to this account", 400)
        assert item is not None
        return item

    def _one_shot(self, account: str, request: Request) -> Reply:
        fields, files = request.form()
        require("media" in files, "the media field is required (multipart/form-data)")
        category = request.field("media_category", "tweet_image")
        require(category in CATEGORIES, f"media_category {category} is not one of {', '.join(CATEGORIES)}")
        info = media.probe(files["media"].data)
        require(info.kind == "image", "one-shot upload takes images; upload video with initialize/append/finalize")
        media.check("x", info)
        media_id, item = self._new(account, info=info, category=category, state="succeeded")
        return Reply(200, {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": info.bytes, "expires_after_secs": 86400}})

    def _initialize(self, account: str, request: Request) -> Reply:
        body = request.json()
        for name in ("media_type", "total_bytes", "media_category"):
            require(isinstance(body, dict) and body.get(name) is not None, f"{name} is required")
        require(body["media_category"] in CATEGORIES, f"media_category {body['media_category']} is not valid")
        require(int(body["total_bytes"]) > 0, "total_bytes must be positive")
        media_id, _ = self._new(account, category=body["media_category"], media_type=body["media_type"], total=int(body["total_bytes"]),
                                segments={}, state="initialized")
        return Reply(200, {"data": {"id": media_id, "media_key": f"7_{media_id}", "expires_after_secs": 86400}})

    def _append(self, item: dict[str, Any], request: Request) -> Reply:
        require(item["state"] == "initialized", "append is only allowed between initialize and finalize")
        fields, files = request.form()
        require("media" in files, "the media field is required (multipart/form-data)")
        index = int(request.field("segment_index", "-1"))
        require(0 <= index <= 999, "segment_index must be 0-999")
        item["segments"][index] = files["media"].data
        return Reply(200, {"data": {"expires_at": 0}})

    def _finalize(self, media_id: str, item: dict[str, Any]) -> Reply:
        require(item["state"] == "initialized", "finalize was already called or initialize is missing")
        indexes = sorted(item["segments"])
        require(indexes == list(range(len(indexes))) and indexes, "segments are missing; append every segment_index from 0")
        data = b"".join(item["segments"][i] for i in indexes)
        require(len(data) == item["total"], f"received {len(data)} bytes, initialize announced {item['total']}")
        info = media.probe(data)
        media.check("x", info)
        item.update(info=info, state="processing", job=self.new_job())
        return Reply(200, {"data": {"id": media_id, "media_key": f"7_{media_id}", "size": len(data), "expires_after_secs": 86400,
                                    "processing_info": {"state": "pending", "check_after_secs": 1}}})

    def _info(self, item: dict[str, Any], *, step: bool = False) -> dict[str, Any]:
        job: Job | None = item["job"]
        if job is None:
            return {"state": "succeeded", "progress_percent": 100}
        state = job.step() if step else job.state
        if state == "processing":
            return {"state": "in_progress", "check_after_secs": 1, "progress_percent": 50}
        if state == "failed":
            return {"state": "failed", "progress_percent": 100, "error": {"code": 1, "name": "InvalidMedia", "message": job.reason}}
        item["state"] = "succeeded"
        return {"state": "succeeded", "progress_percent": 100}

    def _metadata(self, account: str, request: Request) -> Reply:
        body = request.json()
        item = self._owned(account, str(body.get("id", "")))
        text = (((body.get("metadata") or {}).get("alt_text") or {}).get("text"))
        require(isinstance(text, str) and 0 < len(text) <= 1000, "metadata.alt_text.text must hold 1-1000 characters")
        item["alt"] = text
        return Reply(200, {"data": {"associated_metadata": True, "id": body["id"]}})

    def _tweet(self, account: str, request: Request) -> Reply | object:
        body = request.json()
        text = body.get("text", "") if isinstance(body, dict) else ""
        ids = [str(i) for i in ((body.get("media") or {}).get("media_ids") or [])]
        require(text or ids, "text or media is required")
        parsed = textcount.x_parse(text)
        require(parsed.weightedLength <= 280, f"the text is {parsed.weightedLength} weighted characters; 280 at most")
        require(not text or parsed.valid, "the text contains characters that are not allowed (U+FEFF, U+FFFE, U+FFFF)")
        items = [self._media.get(i) for i in ids]
        require(all(item and item["owner"] == account for item in items), "a media id is unknown or expired")
        require(all(item["state"] == "succeeded" for item in items), "media is still processing; wait for STATUS succeeded")
        videos = [i for i in items if i["info"] and i["info"].kind == "video"]
        require(len(ids) <= 4 and (not videos or len(ids) == 1), "a post carries 1-4 images or 1 video")
        with self._lock:  # check and record at once: two concurrent equal posts make one post
            same = next((p for p in self.published_by(account) if p["text"] == text), None)
            if same is not None:  # X refuses a repeat of an earlier post's text (403, as the v2 API answers)
                self.refuse_duplicate(account, text, same, 403, "You are not allowed to create a Tweet with duplicate content.")
            tweet_id = str(1_900_000_000_000_000_000 + self.next_id())
            self.record({"id": tweet_id, "url": f"https://x.com/{account}/status/{tweet_id}", "text": text, "language": None,
                         "languages": [], "alt_texts": [i["alt"] for i in items if i["alt"]],
                         "media": [i["info"].as_dict() for i in items], "account": account})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(201, {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}})
