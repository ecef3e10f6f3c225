"""Mastodon: the status itself carries `favourites_count`, `reblogs_count`, `replies_count`.
Mastodon counts no views: impressions and reach stay "not given"."""

from __future__ import annotations

from typing import Any

from scheduler.platforms.figures import Figures, as_int, not_given_on_permission


def collect(publisher: Any, remote_id: str, kind: str | None) -> Figures:
    def call() -> Figures:
        status = publisher.read(f"/api/v1/statuses/{remote_id}", what="status counts")
        raw = {k: status.get(k) for k in ("favourites_count", "reblogs_count", "replies_count", "quotes_count") if k in status}
        return Figures(raw=raw, likes=as_int(status.get("favourites_count")), reposts=as_int(status.get("reblogs_count")),
                       replies=as_int(status.get("replies_count")))

    return not_given_on_permission(publisher, call)
