"""Instagram content-publishing emulator: it fetches `image_url` / `video_url` itself over
HTTP (and fails like Meta when it cannot), processes the container, and enforces the
order container -> FINISHED -> media_publish and the 50-posts-per-24-h quota.

Instagram has no duplicate check: a new container with the same caption and media is
published again. Only publishing one container twice is refused (9007/2207028)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests

from campaign.platforms import PLATFORMS
from emulators import media, metrics, textcount
from emulators.base import Job
from emulators.wire import DROP, Reject, Reply, Request, require
from emulators.graph import GraphEmulator

QUOTA = 50


class InstagramEmulator(GraphEmulator):
    platform = "instagram"
    audience = 18_000  # typical lifetime impressions of one post (emulators.metrics)
    insights_permission = "instagram_manage_insights"
    rate_code = 4

    def __init__(self, **options: Any) -> None:
        self._containers: dict[str, dict[str, Any]] = {}
        self._media: dict[str, dict[str, Any]] = {}
        super().__init__(**options)

    def action_of(self, request: Request) -> str:
        if request.path.endswith("/media_publish"):
            return "create"
        if request.path.endswith("/media"):
            return "upload"
        return "status" if request.method == "GET" else "other"

    def overrides(self, media_base_url: str) -> dict[str, str]:
        return {**super().overrides(media_base_url), "media_base_url": media_base_url}  # Instagram fetches media by URL

    def figures(self, request: Request) -> Reply:
        return metrics.instagram(self, request)

    def route(self, request: Request) -> Reply | object:
        parts = self.split(request)
        account = self.authorize(request)
        if request.method == "GET" and parts == ["me"]:  # who the token acts as (the Instagram professional account)
            return Reply(200, {"id": account, "username": account})
        if len(parts) == 2 and parts[1] in ("media", "media_publish", "content_publishing_limit"):
            self.require_owner(account, parts[0])
        if request.method == "POST" and len(parts) == 2 and parts[1] == "media":
            return self._container(parts[0], request)
        if request.method == "POST" and len(parts) == 2 and parts[1] == "media_publish":
            return self._publish(parts[0], request)
        if request.method == "GET" and len(parts) == 2 and parts[1] == "content_publishing_limit":
            return Reply(200, {"data": [{"quota_usage": self._used(parts[0]), "config": {"quota_total": QUOTA, "quota_duration": 86400}}]})
        if request.method == "GET" and len(parts) == 1 and parts[0] in self._containers:
            return self._status(parts[0])
        if request.method == "GET" and len(parts) == 1 and parts[0] in self._media:
            return Reply(200, {"id": parts[0], "permalink": self._media[parts[0]]["url"]})
        raise Reject(400, f"Unsupported {request.method} request. Object with ID '{parts[0]}' does not exist", code=100, subcode=33)

    def _fetch(self, url: str) -> bytes:
        try:
            answer = requests.get(url, timeout=5)
            answer.raise_for_status()
        except requests.RequestException:
            raise Reject(400, "Media download has failed. The media URI doesn't meet our requirements.", code=9004, subcode=2207052,
                         user_msg="The media could not be fetched from this URI: " + url) from None
        return answer.content

    def _container(self, user: str, request: Request) -> Reply:
        caption = request.field("caption") or ""
        require(len(caption) <= PLATFORMS["instagram"].text_limit, "The caption is too long (2200 characters at most)", code=100)
        require(textcount.hashtag_count(caption) <= 30, "The caption has more than 30 hashtags", code=100)
        media_type = (request.field("media_type") or "IMAGE").upper()
        if media_type in ("REELS", "VIDEO"):
            url = request.field("video_url")
            require(url, "The parameter video_url is required", code=100)
        elif media_type == "IMAGE":
            url = request.field("image_url")
            require(url, "The parameter image_url is required", code=100)
        else:
            raise Reject(400, f"media_type {media_type} is not supported here", code=100)
        data = self._fetch(url)
        job: Job = self.new_job()
        try:
            info = media.probe(data)
            require(info.kind == ("video" if media_type != "IMAGE" else "image"), f"the file at {url} is not a {media_type.lower()}")
            media.check("instagram", info)
            if info.kind == "video":
                require(info.faststart, "the moov atom must come before the media data (+faststart)")
        except Reject as exc:
            job = Job(polls=0, fails=True, reason=exc.message)
            info = None
        container = str(17_000_000 + self.next_id())
        self._containers[container] = {"user": user, "job": job, "caption": caption, "media_type": media_type, "url": url,
                                       "info": info, "alt": request.field("alt_text"), "created": self.now(), "published": None}
        return Reply(200, {"id": container})

    def _status(self, container_id: str) -> Reply:
        container = self._containers[container_id]
        if container["published"]:
            return Reply(200, {"id": container_id, "status_code": "PUBLISHED", "status": "Published"})
        if self.now() - container["created"] > dt.timedelta(hours=24):
            return Reply(200, {"id": container_id, "status_code": "EXPIRED", "status": "Expired: not published within 24 hours"})
        state = container["job"].step()
        code = {"processing": "IN_PROGRESS", "done": "FINISHED", "failed": "ERROR"}[state]
        status = "Error: " + container["job"].reason if state == "failed" else code.replace("_", " ").title()
        return Reply(200, {"id": container_id, "status_code": code, "status": status})

    def _used(self, user: str) -> int:
        since = self.now() - dt.timedelta(hours=24)
        return sum(1 for p in self.published_by(user) if dt.datetime.fromisoformat(p["received_at"]) > since)

    def _publish(self, user: str, request: Request) -> Reply | object:
        creation = request.field("creation_id")
        container = self._containers.get(creation or "")
        require(container and container["user"] == user, "The parameter creation_id is required and must be a container of this user",
                code=100)
        assert container is not None
        if self.take("quota_exhausted") is not None or self._used(user) >= QUOTA:
            raise Reject(400, "Application request limit reached", code=9, subcode=2207042,
                         user_msg="You have reached the maximum number of posts allowed in 24 hours.")
        require(container["published"] is None, "This media has already been published", code=9007, subcode=2207028)
        require(container["job"].state == "done", "Media ID is not available: the container is not FINISHED yet", code=9007,
                subcode=2207027)
        media_id = str(18_000_000 + self.next_id())
        container["published"] = media_id
        url = f"https://www.instagram.com/p/EMU{media_id}/"
        self._media[media_id] = {"url": url}
        info = container["info"]
        self.record({"id": media_id, "url": url, "text": container["caption"], "language": None, "languages": [],
                     "alt_texts": [container["alt"]] if container["alt"] else [], "media": [info.as_dict()] if info else [],
                     "account": user, "media_url": container["url"], "kind": container["media_type"]})
        if self.take("drop_after_create", "create") is not None:
            return DROP
        return Reply(200, {"id": media_id})
