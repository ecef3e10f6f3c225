"""Bluesky: `app.bsky.feed.getPosts` (served by the AppView through the PDS) gives like, repost,
reply and quote counts. Bluesky shows no impressions or reach to anyone: those stay "not given"."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.base import PermanentError
from scheduler.platforms.figures import Figures, FiguresNotGiven, as_int, not_given_on_permission, total


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        try:
            body = publisher.read("app.bsky.feed.getPosts", what="post counts", params={"uris": remote_id})
        except PermanentError as error:
            if "No service configured" not in str(error):
                raise
            raise FiguresNotGiven(f"the PDS of {publisher.who} has no AppView to count likes and reposts (a self-hosted "
                                  "PDS without one): Bluesky gives this account no figures", platform_code="InvalidRequest") from None
        posts = body.get("posts") or []
        if not posts:
            return Figures(raw=body, not_given=f"Bluesky no longer shows {remote_id} (deleted or hidden)")
        post = posts[0]
        raw = {k: post.get(k) for k in ("likeCount", "repostCount", "replyCount", "quoteCount", "bookmarkCount") if k in post}
        return Figures(raw=raw, likes=as_int(post.get("likeCount")),
                       reposts=total(as_int(post.get("repostCount")), as_int(post.get("quoteCount"))),
                       replies=as_int(post.get("replyCount")))

    return not_given_on_permission(publisher, call)
