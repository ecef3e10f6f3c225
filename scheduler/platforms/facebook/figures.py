"""Facebook Pages: a post's insights (`/{post-id}/insights`: impressions, reach, clicks, reactions)
plus its `shares` and comment count; a video's `/{video-id}/video_insights` (views, impressions,
reach, reactions). Without `read_insights` / `pages_read_engagement` Meta answers code 10 or 200:
the report says so."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission
from scheduler.platforms.graph import graph_values

POST_METRICS = "post_impressions,post_impressions_unique,post_clicks,post_reactions_by_type_total"
VIDEO_METRICS = "total_video_views,total_video_impressions,total_video_impressions_unique,total_video_reactions_by_type_total"


def _get(publisher: Any, path: str, what: str, **params: str) -> Any:
    return publisher.read(path, what=what, params=params)


def _reactions(value: Any) -> int | None:
    return sum(int(v) for v in value.values()) if isinstance(value, dict) else as_int(value)


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        fields = _get(publisher, remote_id, "post counts", fields="shares,comments.summary(true).limit(0)")
        shares = as_int((fields.get("shares") or {}).get("count")) or 0  # Meta omits `shares` until someone shares
        comments = as_int(((fields.get("comments") or {}).get("summary") or {}).get("total_count"))
        if kind == "clip":
            insights = graph_values(_get(publisher, f"{remote_id}/video_insights", "video insights", metric=VIDEO_METRICS))
            raw = {**insights, "shares": shares, "comments": comments}
            return Figures(raw=raw, impressions=as_int(insights.get("total_video_impressions")),
                           reach=as_int(insights.get("total_video_impressions_unique")),
                           likes=_reactions(insights.get("total_video_reactions_by_type_total")), reposts=shares,
                           replies=comments, video_views=as_int(insights.get("total_video_views")))
        insights = graph_values(_get(publisher, f"{remote_id}/insights", "post insights", metric=POST_METRICS))
        raw = {**insights, "shares": shares, "comments": comments}
        return Figures(raw=raw, impressions=as_int(insights.get("post_impressions")),
                       reach=as_int(insights.get("post_impressions_unique")),
                       likes=_reactions(insights.get("post_reactions_by_type_total")), reposts=shares, replies=comments,
                       link_clicks=as_int(insights.get("post_clicks")))

    return not_given_on_permission(publisher, call)
