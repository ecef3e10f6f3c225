"""YouTube Data API v3: `videos.list?part=statistics&id=` gives views, likes and comments (as strings);
views count as the post's impressions / views (as Instagram's `views` do) and as its video views;
no reach (that is in the YouTube Analytics API, which needs another scope). A token
without the scope answers 403 `insufficientPermissions`: the report says so."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.base import PermanentError
from scheduler.platforms.figures import Figures, as_int, not_given_on_permission


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        body = publisher.read("/youtube/v3/videos", what="video statistics", params={"part": "statistics", "id": remote_id})
        items = body.get("items") or []
        if not items:
            raise PermanentError(f"YouTube has no video {remote_id} on {publisher.who} (deleted, or private to another channel)")
        stats = items[0].get("statistics") or {}
        views = as_int(stats.get("viewCount"))
        return Figures(raw={"statistics": stats}, impressions=views, likes=as_int(stats.get("likeCount")),
                       replies=as_int(stats.get("commentCount")), video_views=views)

    return not_given_on_permission(publisher, call)
