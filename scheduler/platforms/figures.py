"""One collection of a post's figures: what the platform said, and the normalised set the report adds up.

A normalised value is `None` when the platform does not give it (Bluesky has no impressions);
the report then says "not given" instead of adding a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.channels.base import PublishError

#: The normalised figures, in report order.
NORMALISED = ("impressions", "reach", "likes", "reposts", "replies", "link_clicks", "video_views")

LABELS = {
    "impressions": "impressions / views",
    "reach": "reach",
    "likes": "likes",
    "reposts": "reposts / shares",
    "replies": "replies / comments",
    "link_clicks": "link clicks",
    "video_views": "video views",
}


@dataclass(frozen=True)
class Figures:
    raw: dict[str, Any]  # as the platform names them
    impressions: int | None = None
    reach: int | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    link_clicks: int | None = None
    video_views: int | None = None
    not_given: str | None = None  # set when the platform gives this account nothing

    def normalised(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in NORMALISED}


class FiguresNotGiven(PublishError):
    """The platform will not give this account its figures (permission, access level): the report
    says so instead of a zero; collecting again later is pointless until the access changes."""


def total(*values: int | None) -> int | None:
    """Sum of the values the platform gave; None when it gave none of them."""
    given = [v for v in values if v is not None]
    return sum(given) if given else None


def as_int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
