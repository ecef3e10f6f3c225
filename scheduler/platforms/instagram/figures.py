"""Instagram media insights (`/{ig-media-id}/insights`): reach, views (which replaced impressions and
plays in 2025), likes, comments, shares, saved. Needs `instagram_manage_insights`; without it Meta
answers code 10: the report says so."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission
from scheduler.platforms.graph import graph_values

METRICS = "reach,views,likes,comments,shares,saved"


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        body = publisher.read(f"{remote_id}/insights", what="media insights", params={"metric": METRICS})
        values = graph_values(body)
        views = as_int(values.get("views"))
        return Figures(raw=values, impressions=views, reach=as_int(values.get("reach")), likes=as_int(values.get("likes")),
                       reposts=as_int(values.get("shares")), replies=as_int(values.get("comments")),
                       video_views=views if kind == "clip" else None)

    return not_given_on_permission(publisher, call)
