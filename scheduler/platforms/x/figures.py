"""X API v2: `GET /2/tweets/:id` with `public_metrics` (impressions, likes, reposts, quotes, replies)
and, for the author's own posts of the last 30 days, `non_public_metrics` (link clicks). Video views
come from the attached media's `public_metrics.view_count`. An access level that may not read
posts answers 403 (`client-not-enrolled`): the report says so."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission, total

FIELDS = {"tweet.fields": "public_metrics,non_public_metrics", "expansions": "attachments.media_keys",
          "media.fields": "public_metrics"}


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        body = publisher.read(f"/2/tweets/{remote_id}", what="post metrics", params=FIELDS)
        data = body.get("data") or {}
        public = data.get("public_metrics") or {}
        private = data.get("non_public_metrics") or {}
        media = (body.get("includes") or {}).get("media") or []
        views = [as_int((m.get("public_metrics") or {}).get("view_count")) for m in media]
        raw = {"public_metrics": public, "non_public_metrics": private,
               "media_views": [v for v in views if v is not None]}
        if body.get("errors"):
            raw["errors"] = [str(e.get("detail") or e.get("title") or e) for e in body["errors"]]
        return Figures(raw=raw, impressions=as_int(public.get("impression_count")), likes=as_int(public.get("like_count")),
                       reposts=total(as_int(public.get("retweet_count")), as_int(public.get("quote_count"))),
                       replies=as_int(public.get("reply_count")), link_clicks=as_int(private.get("url_link_clicks")),
                       video_views=total(*views) if kind == "clip" else None)

    return not_given_on_permission(publisher, call)
