"""One collection of a post's figures: what the platform said, and the normalised set the report adds up.

A normalised value is `None` when the platform does not give it (Bluesky has no impressions);
the report then says "not given" instead of adding a made-up zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from scheduler.platforms.base import AuthError, PublishError

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


#: How results asks a platform for a post's figures: `collect(publisher, remote_id, kind)`, where
#: `kind` is the post's media kind ("photo", "clip" or None). Each platform's `figures` module has
#: one; it reads through the channel's own publisher (its public `read`), so results speak to each
#: platform exactly as publishing does.
Collect = Callable[[Any, str, "str | None"], Figures]

#: Codes that mean "the token is bad" (collect again once it is renewed), not "no permission".
_TOKEN_CODES = {"401", "190", "102", "ExpiredToken", "InvalidToken", "AuthRequired", "AuthenticationRequired"}


def not_given_on_permission(publisher: Any, call: Callable[[], Figures]) -> Figures:
    """Run `call`; a refusal for lack of permission or access level becomes `FiguresNotGiven`."""
    try:
        return call()
    except AuthError as error:
        if (error.platform_code or "").split("/")[0] in _TOKEN_CODES:
            raise
        raise FiguresNotGiven(f"{publisher.platform} gives {publisher.who} no figures: {error}",
                              platform_code=error.platform_code) from None
