"""Threads publisher (graph.threads.net, Meta's Graph error shape): container -> status -> threads_publish.

1. `POST /{user-id}/threads` (media_type TEXT, IMAGE or VIDEO; `image_url` / `video_url` that
   Threads fetches itself: a signed address of the tool's web process, scheduler/media_links.py)
   -> the container id, recorded in the step ledger at once.
2. `GET /{container-id}?fields=status,error_message` until FINISHED: a `processing` state, not a
   wait (ERROR fails the post with Meta's error_message; EXPIRED, after 24 h, makes a new container
   with a freshly signed address).
3. `POST /{user-id}/threads_publish?creation_id=...` -> the post's id.
Profiles may publish 250 posts per 24 h: `threads_publishing_limit` is read before a container is
made, and a full quota pauses the channel (RateLimited) until it frees. A lost answer to step 3 is
settled by `find_existing`, which reads the account's recent threads for the post's text.
"""

from __future__ import annotations

import datetime as dt

import requests

from scheduler.platforms.base import (
    ChannelProblem,
    OutgoingPost,
    PermanentError,
    PublishResult,
    RateLimited,
    StepLedger,
    TokenExpired,
)
from scheduler.platforms.graph import GraphPublisher, raise_graph_error

API_VERSION = "v1.0"
QUOTA_TOTAL = 250
#: A full quota names no reset time: look again in an hour.
QUOTA_WAIT = 3600.0
#: The publishing-limit error (code 9 / subcode 2207042, as Instagram's: [U] for Threads).
QUOTA_CODE = 9


class ContainerExpired(Exception):
    """The container was not published within 24 hours: make a new one."""


class ThreadsPublisher(GraphPublisher):
    platform = "threads"
    can_find_existing = True
    #: A lost answer to threads_publish is retried, never blindly: the dispatcher first looks for the
    #: post (`find_existing`), and a container is published at most once (Meta refuses it again).
    safe_create_retry = True
    sends_clip_alt_text = True  # `alt_text` goes with images and videos alike
    DEFAULTS = {"base_url": "https://graph.threads.net", "version": API_VERSION}

    def raise_for(self, response: requests.Response, *, creates: bool = False) -> None:
        try:
            error = response.json().get("error", {})
        except (ValueError, AttributeError):
            error = {}
        if response.status_code == 401 and isinstance(error, dict) and error.get("code") == 190:
            raise TokenExpired(f"the Threads token of {self.who} has expired (code 190) — it renews itself when the channel "
                               "is connected in the console; else store a new long-lived token as the channel's TOKEN",
                               platform_code="190")
        if isinstance(error, dict) and error.get("code") == QUOTA_CODE:
            raise RateLimited(f"{self.who} reached Threads' limit of {QUOTA_TOTAL} posts in 24 hours "
                              f"({self.scrub(str(error.get('message', '')))})", QUOTA_WAIT, platform_code=str(QUOTA_CODE))
        raise_graph_error(self, response, creates=creates)

    def check(self) -> list[ChannelProblem]:
        me, problems = self.ask(lambda: self.json(self.request("GET", self._graph("me"), what="who am I", headers=self._auth,
                                                               params={"fields": "id,username"})), what="the token")
        if me is not None:
            problems = self.acting_as(self.account, me.get("id"), me.get("username"))
        return problems

    def publishing_quota(self) -> tuple[int, int]:
        """(posts published in the last 24 h, allowed) from `threads_publishing_limit`."""
        body = self.json(self.request("GET", self._graph(f"{self.account}/threads_publishing_limit"), what="publishing limit",
                                      headers=self._auth, params={"fields": "quota_usage,config"}))
        entry = (body.get("data") or [{}])[0]
        return int(entry.get("quota_usage") or 0), int((entry.get("config") or {}).get("quota_total") or QUOTA_TOTAL)

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        data = {"media_type": "TEXT", "text": post.text}
        if post.media:
            media = post.media[0]
            if media.kind == "clip":
                data.update(media_type="VIDEO", video_url=self.media_url(media))
            else:
                data.update(media_type="IMAGE", image_url=self.media_url(media))
            if media.alt_text:
                data["alt_text"] = media.alt_text
        for _attempt in range(2):  # a container that expired (24 h) is made once more
            if ledger.get("container") is None:
                used, allowed = self.publishing_quota()
                if used >= allowed:
                    raise RateLimited(f"{self.who} has published {used} of its {allowed} Threads posts in 24 hours — the "
                                      "channel waits until the quota frees", QUOTA_WAIT)
            container = ledger.once("container", lambda: self.json(self.request(
                "POST", self._graph(f"{self.account}/threads"), what="the media container", data=data, headers=self._auth))["id"])
            if ledger.get("container:ready") is not None:
                break
            try:
                self.poll(lambda: self._container_ready(container), what=f"container {container}", ledger=ledger)
            except ContainerExpired:
                ledger.forget("container")
                continue
            ledger.record("container:ready", "1")
            break
        else:
            raise PermanentError(f"Threads let two containers of post {post.post_id} expire — publish it again")
        body = self.json(self.request("POST", self._graph(f"{self.account}/threads_publish"), creates=True, ledger=ledger,
                                      what="threads_publish", data={"creation_id": container}, headers=self._auth))
        media_id = str(body["id"])
        ledger.create_answered(media_id)
        return PublishResult(media_id, self._permalink(media_id), {"container_id": str(container)})

    def _container_ready(self, container: str) -> bool | None:
        body = self.json(self.request("GET", self._graph(container), what="container status", headers=self._auth,
                                      params={"fields": "status,error_message"}))
        status = body.get("status")
        if status in ("FINISHED", "PUBLISHED"):
            return True
        if status == "EXPIRED":
            raise ContainerExpired(container)
        if status == "ERROR":
            raise PermanentError(
                f"Threads could not prepare the media for {self.who} ({self.scrub(str(body.get('error_message') or 'UNKNOWN'))}) "
                "— check that the media address is public and the file meets Threads' limits")
        return None

    def _permalink(self, media_id: str) -> str | None:
        try:
            return self.json(self.request("GET", self._graph(media_id), what="permalink", headers=self._auth,
                                          params={"fields": "permalink"})).get("permalink")
        except Exception:  # noqa: BLE001 - the post is out; a missing link must not fail it
            return None

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        """The account's recent thread with exactly this text (published around the post's time), if any."""
        body = self.json(self.request("GET", self._graph(f"{self.account}/threads"), what="recent threads", headers=self._auth,
                                      params={"fields": "id,text,timestamp,permalink", "limit": "50"}))
        since = (post.scheduled_at - dt.timedelta(days=1)) if post.scheduled_at else None
        for item in body.get("data", []):
            stamp = _timestamp(item.get("timestamp"))
            if item.get("text") == post.text and (since is None or stamp is None or stamp >= since):
                return PublishResult(str(item["id"]), item.get("permalink"))
        return None


def _timestamp(value: object) -> dt.datetime | None:
    """Meta's `2024-06-20T16:00:00+0000` as a datetime (None when absent or unreadable)."""
    try:
        return dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None

