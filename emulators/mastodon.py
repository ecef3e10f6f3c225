"""Mastodon emulator: v2 media (200 for images, 202 + 206 polling for video, 422 on a
processing failure), statuses with `language` and a one-hour `Idempotency-Key`, 429 with
X-RateLimit-* (reset in ISO 8601), and the account's recent statuses for lookups.

The bearer token says which account acts. Each account has its own id, statuses and
Idempotency-Keys (Mastodon scopes a key to the account that sent it)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

from campaign.platforms import PLATFORMS
from campaign.languages import LANGUAGES
from emulators import media, metrics, textcount
from emulators.base import Emulator, Job
from emulators.wire import DROP, Reject, Reply, Request, require

IDEMPOTENCY_TTL = dt.timedelta(hours=1)
#: The Mastodon release this emulator follows (instance discovery reports it, clients read it).
VERSION = "4.3.2"
API_VERSION = 2
ACCOUNT_ID = "109000000000000001"  # the first account's id; later accounts count up from it


def username(account: str) -> str:
    """`@belgium@social.example` or `belgium@social.example` -> `belgium`."""
    return account.lstrip("@").split("@", 1)[0]


SERVER = "https://mastodon.example"
#: a hashtag as Mastodon finds it: after a space or the start, with at least one letter (not
#: inside a word, a URL or an HTML entity such as `&#x27;`)
HASHTAG = re.compile(r"(?<![\w/=#&;])#(\w*[^\W\d]\w*)")


def _hashtag_links(escaped: str) -> str:
    """Hashtags in a status's HTML `content` are links, as Mastodon renders them."""
    return HASHTAG.sub(lambda m: f'<a href="{SERVER}/tags/{m.group(1)}" class="mention hashtag" rel="tag">'
                                 f'#<span>{m.group(1)}</span></a>', escaped)


class MastodonEmulator(Emulator):
    platform = "mastodon"
    audience = 1_500  # typical lifetime impressions of one post (emulators.metrics)

    def __init__(self, **options: Any) -> None:
        self._media: dict[str, dict[str, Any]] = {}
        self._keys: dict[tuple[str, str], tuple[dt.datetime, dict[str, Any]]] = {}  # (account, key) -> (when, status)
        self._statuses: dict[str, list[dict[str, Any]]] = {}  # account id -> statuses, oldest first
        self._account_ids: dict[str, str] = {}  # account name -> id
        super().__init__(**options)

    def add_account(self, name: str, *, token: str | None = None) -> str:
        token = super().add_account(name, token=token)
        with self._lock:
            self._account_ids.setdefault(name, str(int(ACCOUNT_ID) + len(self._account_ids)))
        return token

    def _profile(self, account: str) -> dict[str, str]:
        return {"id": self._account_ids[account], "username": username(account), "acct": username(account)}

    def action_of(self, request: Request) -> str:
        if request.path == "/api/v1/statuses":
            return "create"
        return "status" if request.method == "GET" else "upload"

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        return Reply(422 if status in (400,) and extra.get("validation") else status, {"error": message},
                     headers=extra.get("headers", {}))

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:
        reset = (self.now() + dt.timedelta(seconds=retry_after)).astimezone(dt.timezone.utc)
        return self.error_reply(429, "Too many requests", headers={
            "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z")})

    def _configuration(self) -> dict[str, Any]:
        """The limits a client reads from instance discovery (the same ones this emulator enforces)."""
        return {"statuses": {"max_characters": PLATFORMS["mastodon"].text_limit, "max_media_attachments": 4,
                             "characters_reserved_per_url": 23},
                "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/webp", "video/mp4"],
                                      "image_size_limit": 16 * 1024 * 1024, "video_size_limit": 99 * 1024 * 1024,
                                      "description_limit": PLATFORMS["mastodon"].alt_text_limit or 1500}}

    def _instance(self, version: int) -> Reply:
        """GET /api/v1/instance and /api/v2/instance: public, no token (clients call them first)."""
        host = self.base_url.split("://", 1)[1]
        if version == 1:
            return Reply(200, {"uri": host, "title": "Mastodon emulator", "short_description": "", "description": "",
                               "email": "", "version": VERSION, "urls": {"streaming_api": f"ws://{host}"},
                               "stats": {"user_count": len(self._account_ids), "status_count": len(self.published), "domain_count": 1},
                               "languages": ["en"], "registrations": False, "approval_required": False,
                               "invites_enabled": False, "configuration": self._configuration(), "contact_account": None,
                               "rules": []})
        return Reply(200, {"domain": host, "title": "Mastodon emulator", "version": VERSION, "source_url": "", "description": "",
                           "usage": {"users": {"active_month": len(self._account_ids)}}, "thumbnail": {"url": ""},
                           "languages": ["en"], "configuration": {**self._configuration(), "urls": {"streaming": f"ws://{host}"}},
                           "registrations": {"enabled": False, "approval_required": False, "message": None},
                           "api_versions": {"mastodon": API_VERSION},
                           "contact": {"email": "", "account": None}, "rules": []})

    def serves_figures(self, request: Request) -> bool:
        return request.method == "GET" and re.fullmatch(r"/api/v1/statuses/\d+", request.path) is not None

    def figures(self, request: Request) -> Reply:
        return metrics.mastodon(self, request)

    def route(self, request: Request) -> Reply | object:
        request.path = request.path.rstrip("/") or "/"  # clients (Mastodon.py) add a trailing slash
        instance = re.fullmatch(r"/api/v([12])/instance", request.path)
        if request.method == "GET" and instance:
            return self._instance(int(instance.group(1)))
        account = self.account_for(request.bearer())
        if self.take("expired_token") is not None or account is None:
            raise Reject(401, "The access token is invalid")
        path, method = request.path, request.method
        if method == "POST" and path == "/api/v2/media":
            return self._upload(account, request)
        if method == "GET" and path.startswith("/api/v1/media/"):
            return self._media_status(account, path.rsplit("/", 1)[-1])
        if method == "POST" and path == "/api/v1/statuses":
            return self._status(account, request)
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return Reply(200, self._profile(account))
        one = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if method == "GET" and one:
            return self._one_status(one.group(1))
        listing = re.fullmatch(r"/api/v1/accounts/(\d+)/statuses", path)
        if method == "GET" and listing and listing.group(1) in self._account_ids.values():
            limit = int(request.query.get("limit", "20"))
            with self._lock:
                statuses = list(reversed(self._statuses.get(listing.group(1), [])))
            return Reply(200, statuses[:limit])
        raise Reject(404, "Record not found")

    def _one_status(self, status_id: str) -> Reply:
        with self._lock:
            found = [s for statuses in self._statuses.values() for s in statuses if s["id"] == status_id]
        require(found, "Record not found", 404)
        return Reply(200, found[0])

    def _upload(self, account: str, request: Request) -> Reply:
        fields, files = request.form()
        require("file" in files, "Validation failed: File can't be blank", 422)
        description = request.field("description") or ""
        require(len(description) <= (PLATFORMS["mastodon"].alt_text_limit or 1500),
                "Validation failed: Description is too long (maximum is 1500 characters)", 422)
        try:
            info = media.probe(files["file"].data)
            media.check("mastodon", info)
        except Reject as exc:
            raise Reject(422, f"Validation failed: File {exc.message}") from None
        media_id = str(110_000_000_000_000_000 + self.next_id())
        job = self.new_job() if info.kind == "video" else None
        self._media[media_id] = {"info": info, "description": description, "job": job, "owner": account}
        return Reply(202 if job else 200, self._attachment(media_id, ready=job is None))

    def _attachment(self, media_id: str, *, ready: bool) -> dict[str, Any]:
        """A MediaAttachment entity as Mastodon returns it from upload and from GET /api/v1/media/:id."""
        item = self._media[media_id]
        info = item["info"]
        url = f"https://files.example/{media_id}"
        return {"id": media_id, "type": "video" if info.kind == "video" else "image", "url": url if ready else None,
                "preview_url": url + "/small" if ready else None, "remote_url": None, "text_url": None,
                "description": item["description"], "blurhash": None,
                "meta": {"original": {"width": info.width, "height": info.height}}}

    def _media_status(self, account: str, media_id: str) -> Reply:
        item = self._media.get(media_id)
        require(item and item["owner"] == account, "Record not found", 404)
        assert item is not None
        job: Job | None = item["job"]
        state = job.step() if job else "done"
        if state == "processing":
            return Reply(206, self._attachment(media_id, ready=False))
        if state == "failed":
            return Reply(422, {"error": job.reason if job else "failed"})
        return Reply(200, self._attachment(media_id, ready=True))

    def _status(self, account: str, request: Request) -> Reply | object:
        key = request.headers.get("idempotency-key")
        if key:
            with self._lock:
                seen = self._keys.get((account, key))
            if seen and self.now() - seen[0] < IDEMPOTENCY_TTL:
                return Reply(200, seen[1])
        fields = request.json() if request.content_type == "application/json" else request.form()[0]
        get = (lambda n: fields.get(n)) if request.content_type == "application/json" else (lambda n: (fields.get(n) or [None])[-1])
        text = get("status") or ""
        ids = fields.get("media_ids[]") or fields.get("media_ids") or []
        require(text or ids, "Validation failed: Text can't be blank", 422)
        length = textcount.mastodon_length(text)
        require(length <= PLATFORMS["mastodon"].text_limit, f"Validation failed: Text character limit of 500 exceeded ({length})", 422)
        require(len(ids) <= 4, "Validation failed: Media attachments too many (4 at most)", 422)
        language = get("language")
        require(language is None or language in LANGUAGES, f"Validation failed: Language {language} is not a valid ISO 639-1 code", 422)
        items = [self._media.get(i) for i in ids]
        require(all(i and i["owner"] == account for i in items), "Validation failed: a media id is unknown", 422)
        require(all(not i["job"] or i["job"].state == "done" for i in items),
                "Cannot attach files that have not finished processing. Try again in a moment!", 422)
        status_id = str(111_000_000_000_000_000 + self.next_id())
        profile = self._profile(account)
        url = f"{SERVER}/@{profile['username']}/{status_id}"
        paragraphs = "".join(f"<p>{_hashtag_links(html.escape(p))}</p>" for p in text.split("\n\n"))
        tags = list(dict.fromkeys(t.lower() for t in HASHTAG.findall(html.escape(text))))
        status = {"id": status_id, "url": url, "uri": url, "content": paragraphs.replace("\n", "<br />"), "language": language,
                  "visibility": get("visibility") or "public", "created_at": self.now().isoformat(),
                  "media_attachments": [self._attachment(i, ready=True) for i in ids], "account": profile,
                  "tags": [{"name": t, "url": f"{SERVER}/tags/{t}"} for t in tags]}
        with self._lock:
            self._statuses.setdefault(profile["id"], []).append(status)
            if key:
                self._keys[(account, key)] = (self.now(), status)
        self.record({"id": status_id, "url": url, "text": text, "language": language, "languages": [language] if language else [],
                     "alt_texts": [i["description"] for i in items if i["description"]], "media": [i["info"].as_dict() for i in items],
                     "account": account, "account_id": profile["id"], "idempotency_key": key})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, status)
