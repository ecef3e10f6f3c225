"""Threads API emulator (graph.threads.net), as Meta documents it (developers.facebook.com/docs/threads):

- `POST /v1.0/{user-id}/threads` (media_type TEXT, IMAGE or VIDEO; `text`, `image_url` /
  `video_url`; parameters in the form or the query, as clients send them) -> `{"id": container}`.
  It FETCHES the image or video over HTTP, as Threads does: an image it cannot fetch (an address
  that expired or was tampered with answers 403/410) is refused at once in Meta's error shape; a
  video it cannot fetch leaves the container in ERROR with `FAILED_DOWNLOADING_VIDEO`.
- `GET /v1.0/{container-id}?fields=status,error_message`: IN_PROGRESS, then FINISHED (or ERROR
  with its documented error_message), EXPIRED after 24 h unpublished, PUBLISHED once published.
- `POST /v1.0/{user-id}/threads_publish?creation_id=` -> `{"id": media}`; 250 posts per 24 h
  (`GET /v1.0/{user-id}/threads_publishing_limit` -> quota_usage, config); past it, code 9 [U].
- text over 500 characters (an emoji counts as its UTF-8 bytes) or with more than 5 links: refused.
- `GET /v1.0/{user-id}/threads` (the account's threads, newest first), `GET /v1.0/{media-id}`
  (permalink), `GET /v1.0/me`, `GET /v1.0/{media-id}/insights?metric=views,likes,replies,reposts,quotes`
  (growing with age, emulators/metrics.py).
- tokens: the authorization window (`/oauth/authorize`) and `POST /oauth/access_token` (oauthlib's,
  emulators/oauth.py; no PKCE, no refresh tokens) give a short-lived token (1 hour);
  `GET /access_token?grant_type=th_exchange_token&client_secret=` makes it long-lived (60 days);
  `GET /refresh_access_token?grant_type=th_refresh_token` renews a long-lived token at least 24
  hours old for 60 more days. An unknown or expired token: HTTP 401, Graph error code 190.

Counts text here, apart from the publisher's rules: an emulator sharing code with what it judges
would agree with its mistakes. Imports only campaign/ and the emulators' own modules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import unicodedata
from typing import Any
from urllib.parse import parse_qsl, urlencode

import grapheme
import requests

from emulators import media, metrics
from emulators.base import Job
from emulators.graph import GraphEmulator
from emulators.oauth import Grant, TokenRules
from emulators.wire import DROP, Reject, Reply, Request, require

QUOTA = 250
TEXT_LIMIT = 500
LINK_LIMIT = 5
LONG_LIVED = 60 * 86400
SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_insights", "threads_read_replies",
          "threads_manage_replies")
THREADS_OAUTH = TokenRules(authorize_path="/oauth/authorize", token_path="/oauth/access_token", scopes=SCOPES,
                           access_lifetime=3600, refresh=False, pkce_required=False)
URL = re.compile(r"https?://[^\s<>\"]+|(?<![\w@.])(?:www\.)[^\s<>\"]+")


def _emoji(cluster: str) -> bool:
    return any(unicodedata.category(c) == "So" and ord(c) >= 0x2000 or ord(c) in (0x200D, 0xFE0F)
               or 0x1F1E6 <= ord(c) <= 0x1F1FF for c in cluster)


def threads_length(text: str) -> int:
    """Meta: "Emojis are counted as the number of UTF-8 bytes"; everything else one per character."""
    return sum(len(c.encode("utf-8")) if _emoji(c) else 1 for c in grapheme.graphemes(text))


class ThreadsEmulator(GraphEmulator):
    platform = "threads"
    insights_permission = "threads_manage_insights"
    audience = 4_000  # typical lifetime impressions of one post (emulators.metrics)
    rate_code = 4
    oauth_rules = THREADS_OAUTH
    default_account = "17841400000000099"

    def __init__(self, **options: Any) -> None:
        self._containers: dict[str, dict[str, Any]] = {}
        self._issued: dict[str, dt.datetime] = {}  # long-lived token -> when it was issued (refreshable after 24 h)
        super().__init__(**options)

    def dispatch(self, request: Request) -> Reply | object:
        """Meta writes scopes comma-separated (`scope=threads_basic,threads_content_publish`); the
        authorization server (oauthlib) reads RFC 6749's spaces."""
        if request.path == THREADS_OAUTH.authorize_path:
            query = {k: v.replace(",", " ") if k == "scope" else v for k, v in request.query.items()}
            form = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
            body = urlencode([(k, v.replace(",", " ") if k == "scope" else v) for k, v in form]).encode() if form else request.body
            request = dataclasses.replace(request, query=query, body=body, _form=None)
        return super().dispatch(request)

    def action_of(self, request: Request) -> str:
        if request.path.endswith("/threads_publish"):
            return "create"
        if request.path.endswith("/threads") and request.method == "POST":
            return "upload"
        return "status" if request.method == "GET" else "other"

    def overrides(self, media_base_url: str) -> dict[str, str]:
        return {**super().overrides(media_base_url), "version": "v1.0"}

    def param(self, request: Request, name: str) -> str | None:
        return request.field(name) or request.query.get(name)

    def authorize(self, request: Request) -> str:
        token = request.bearer() or self.param(request, "access_token")
        account = self.account_for(token)
        if self.take("expired_token") is not None or account is None:
            raise Reject(401, "Error validating access token: Session has expired.", code=190, subcode=463, type="OAuthException")
        return account

    def figures(self, request: Request) -> Reply:
        account = self.authorize(request)
        node, edge = self.split(request)[0], "/".join(self.split(request)[1:])
        entry = next((p for p in self.published if p["id"] == node), None)
        if entry is None or entry["account"] != account or edge != "insights":
            raise Reject(400, f"Unsupported get request. Object with ID '{node}' does not exist", code=100, subcode=33)
        if account in self.__dict__.get("metrics_denied", set()):
            raise Reject(400, f"(#10) Application does not have permission for this action: requires {self.insights_permission}",
                         code=10)
        age = (self.now() - dt.datetime.fromisoformat(entry["received_at"])).total_seconds()
        known = {"views": "impressions", "likes": "likes", "replies": "replies", "reposts": "reposts", "quotes": "quotes"}
        wanted = [m for m in (self.param(request, "metric") or "").split(",") if m]
        require(wanted, "The parameter metric is required", code=100)
        for name in wanted:
            require(name in known, f"(#100) metric[{wanted.index(name)}] must be one of the following values: "
                                   + ", ".join(known), code=100)
        data = [{"name": name, "period": "lifetime", "values": [{"value": metrics.figure(self, node, known[name], age)}],
                 "title": name.title(), "description": "", "id": f"{node}/insights/{name}/lifetime"} for name in wanted]
        return Reply(200, {"data": data})

    def route(self, request: Request) -> Reply | object:
        if request.path == "/refresh_access_token":
            return self._refresh(request)
        if request.path == "/access_token":
            return self._exchange(request)
        parts = self.split(request)
        account = self.authorize(request)
        if request.method == "GET" and parts == ["me"]:
            return Reply(200, {"id": account, "username": account})
        if len(parts) == 2 and parts[1] in ("threads", "threads_publish", "threads_publishing_limit"):
            self.require_owner(account, parts[0])
        if len(parts) == 2 and parts[1] == "threads":
            return self._create(parts[0], request) if request.method == "POST" else self._list(parts[0])
        if request.method == "POST" and len(parts) == 2 and parts[1] == "threads_publish":
            return self._publish(parts[0], request)
        if request.method == "GET" and len(parts) == 2 and parts[1] == "threads_publishing_limit":
            return Reply(200, {"data": [{"quota_usage": self._used(parts[0]),
                                         "config": {"quota_total": QUOTA, "quota_duration": 86400}}]})
        if request.method == "GET" and len(parts) == 1 and parts[0] in self._containers:
            return self._status(parts[0])
        entry = next((p for p in self.published if p["id"] == parts[0]), None)
        if request.method == "GET" and len(parts) == 1 and entry is not None:
            return Reply(200, {"id": entry["id"], "permalink": entry["url"]})
        raise Reject(400, f"Unsupported {request.method} request. Object with ID '{parts[0]}' does not exist", code=100, subcode=33)

    def _long_lived(self, account: str, client_id: str) -> Reply:
        token = secrets.token_urlsafe(32)
        assert self.oauth is not None
        with self.oauth._lock:
            self.oauth.access[token] = Grant(account, client_id, list(SCOPES), self.now() + dt.timedelta(seconds=LONG_LIVED))
        self._issued[token] = self.now()
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": LONG_LIVED})

    def _token_of(self, request: Request) -> tuple[str, str]:
        token = self.param(request, "access_token") or ""
        state, account = self.token_state(token)
        if state != "ok" or account is None:
            raise Reject(401, "Error validating access token: Session has expired.", code=190, subcode=463, type="OAuthException")
        return token, account

    def _refresh(self, request: Request) -> Reply:
        """`GET /refresh_access_token`: a long-lived token at least 24 hours old, for 60 more days."""
        require(self.param(request, "grant_type") == "th_refresh_token", "grant_type must be th_refresh_token", code=100)
        token, account = self._token_of(request)
        static = token in self._tokens  # the sandbox's tokens play long-lived ones issued long ago
        issued = self._issued.get(token)
        if not static and issued is None:
            raise Reject(400, "A short-lived token cannot be refreshed: exchange it for a long-lived one (th_exchange_token)",
                         code=190, type="OAuthException")
        if issued is not None and self.now() - issued < dt.timedelta(hours=24):
            raise Reject(400, "A long-lived token can be refreshed once it is at least 24 hours old", code=190,
                         type="OAuthException")
        grant = self.oauth.access.get(token) if self.oauth is not None else None
        return self._long_lived(account, grant.client_id if grant else "sandbox")

    def _exchange(self, request: Request) -> Reply:
        """`GET /access_token?grant_type=th_exchange_token`: a short-lived token for a long-lived one."""
        require(self.param(request, "grant_type") == "th_exchange_token", "grant_type must be th_exchange_token", code=100)
        token, account = self._token_of(request)
        assert self.oauth is not None
        grant = self.oauth.access.get(token)
        secret = self.param(request, "client_secret")
        if grant is None or token in self._issued:
            raise Reject(400, "Only a short-lived token can be exchanged", code=190, type="OAuthException")
        if not secret or self.oauth.clients.get(grant.client_id) != secret:
            raise Reject(400, "Error validating client secret.", code=1, type="OAuthException")
        return self._long_lived(account, grant.client_id)

    def _fetch(self, url: str) -> bytes | None:
        try:
            answer = requests.get(url, timeout=5)
        except requests.RequestException:
            return None
        return answer.content if answer.status_code == 200 else None

    def _create(self, user: str, request: Request) -> Reply:
        kind = (self.param(request, "media_type") or "").upper()
        text = self.param(request, "text") or ""
        require(kind in ("TEXT", "IMAGE", "VIDEO"), "The parameter media_type is required (TEXT, IMAGE or VIDEO)", code=100)
        require(threads_length(text) <= TEXT_LIMIT, f"The text is too long: {threads_length(text)} characters, at most "
                                                     f"{TEXT_LIMIT} (emojis count as their UTF-8 bytes)", code=100)
        if len(set(URL.findall(text))) > LINK_LIMIT:
            raise Reject(400, "THREADS_API__LINK_LIMIT_EXCEEDED: a post may contain at most 5 links", code=100)
        require(kind != "TEXT" or text, "The parameter text is required for a TEXT post", code=100)
        job: Job = self.new_job()
        url = None
        info = None
        if kind != "TEXT":
            url = self.param(request, "image_url" if kind == "IMAGE" else "video_url")
            require(url, f"The parameter {'image_url' if kind == 'IMAGE' else 'video_url'} is required", code=100)
            data = self._fetch(str(url))
            if data is None and kind == "IMAGE":
                raise Reject(400, "Media download has failed. The media URI doesn't meet our requirements.", code=9004,
                             subcode=2207052, user_msg="The media could not be fetched from this URI: " + str(url))
            if data is None:
                job = Job(polls=0, fails=True, reason="FAILED_DOWNLOADING_VIDEO")
            else:
                try:
                    info = media.probe(data)
                    require(info.kind == kind.lower(), f"the file at {url} is not an {kind.lower()}")
                    media.check("threads", info)
                except Reject:
                    job = Job(polls=0, fails=True, reason="FAILED_PROCESSING_VIDEO" if kind == "VIDEO" else "UNKNOWN")
                    info = None
        container = str(18_100_000 + self.next_id())
        self._containers[container] = {"user": user, "job": job, "text": text, "kind": kind, "url": url, "info": info,
                                       "alt": self.param(request, "alt_text"), "created": self.now(), "published": None}
        return Reply(200, {"id": container})

    def _status(self, container_id: str) -> Reply:
        container = self._containers[container_id]
        if container["published"]:
            return Reply(200, {"status": "PUBLISHED", "id": container_id})
        if self.now() - container["created"] > dt.timedelta(hours=24):
            return Reply(200, {"status": "EXPIRED", "id": container_id})
        state = container["job"].step()
        if state == "failed":
            return Reply(200, {"status": "ERROR", "id": container_id, "error_message": container["job"].reason})
        return Reply(200, {"status": "FINISHED" if state == "done" else "IN_PROGRESS", "id": container_id})

    def _used(self, user: str) -> int:
        since = self.now() - dt.timedelta(hours=24)
        return sum(1 for p in self.published_by(user) if dt.datetime.fromisoformat(p["received_at"]) > since)

    def _list(self, user: str) -> Reply:
        data = [{"id": p["id"], "text": p["text"], "permalink": p["url"], "media_type": p["kind"],
                 "timestamp": dt.datetime.fromisoformat(p["received_at"]).strftime("%Y-%m-%dT%H:%M:%S+0000")}
                for p in reversed(self.published_by(user))]
        return Reply(200, {"data": data, "paging": {"cursors": {"before": "", "after": ""}}})

    def _publish(self, user: str, request: Request) -> Reply | object:
        creation = self.param(request, "creation_id")
        container = self._containers.get(creation or "")
        require(container and container["user"] == user, "The parameter creation_id is required and must be a container of "
                                                          "this user", code=100)
        assert container is not None
        if self.take("quota_exhausted") is not None or self._used(user) >= QUOTA:
            raise Reject(400, "Application request limit reached", code=9, subcode=2207042,
                         user_msg=f"You have reached the maximum of {QUOTA} posts allowed in 24 hours.")
        require(container["published"] is None, "This media has already been published", code=9007, subcode=2207028)
        require(self.now() - container["created"] <= dt.timedelta(hours=24), "The media container has expired", code=9007)
        require(container["job"].state == "done", "Media ID is not available: the container is not FINISHED yet", code=9007,
                subcode=2207027)
        media_id = str(18_200_000 + self.next_id())
        container["published"] = media_id
        url = f"https://www.threads.net/@{user}/post/EMU{media_id}"
        info = container["info"]
        self.record({"id": media_id, "url": url, "text": container["text"], "language": None, "languages": [],
                     "alt_texts": [container["alt"]] if container["alt"] else [], "media": [info.as_dict()] if info else [],
                     "account": user, "media_url": container["url"], "kind": {"TEXT": "TEXT_POST"}.get(container["kind"],
                                                                                                    container["kind"])})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"id": media_id})
