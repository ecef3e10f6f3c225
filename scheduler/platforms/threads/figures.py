"""Threads media insights (`GET /{threads-media-id}/insights?metric=views,likes,replies,reposts,quotes`,
Meta's "Threads Insights API"); needs `threads_manage_insights`: without it the report says so."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission, total
from scheduler.platforms.graph import graph_values

METRICS = "views,likes,replies,reposts,quotes"


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        values = graph_values(publisher.read(f"{remote_id}/insights", what="media insights", params={"metric": METRICS}))
        views = as_int(values.get("views"))
        return Figures(raw=values, impressions=views, likes=as_int(values.get("likes")), replies=as_int(values.get("replies")),
                       reposts=total(as_int(values.get("reposts")), as_int(values.get("quotes"))),
                       video_views=views if kind == "clip" else None)

    return not_given_on_permission(publisher, call)
