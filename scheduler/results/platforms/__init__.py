"""One module per platform, each with `collect(publisher, remote_id, kind) -> Figures`.

A collector reads a published post's figures through the channel's own publisher (its session,
credentials, error classification and rate-limit reading), so results speak to each platform
exactly as publishing does. `kind` is the post's media kind ("photo", "clip" or None).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from scheduler.channels.base import AuthError
from scheduler.results.figures import Figures, FiguresNotGiven

Collect = Callable[[Any, str, "str | None"], Figures]

#: Codes that mean "the token is bad" (collect again once it is renewed), not "no permission".
_TOKEN_CODES = {"401", "190", "102", "ExpiredToken", "InvalidToken", "AuthRequired", "AuthenticationRequired"}
PLATFORMS = ("bluesky", "mastodon", "x", "facebook", "instagram", "linkedin")


def collector_for(platform: str) -> Collect | None:
    """The collect function of `platform`, or None (the outbox has no figures)."""
    if platform not in PLATFORMS:
        return None
    return importlib.import_module(f"scheduler.results.platforms.{platform}").collect


def not_given_on_permission(publisher: Any, call: Callable[[], Figures]) -> Figures:
    """Run `call`; a refusal for lack of permission or access level becomes `FiguresNotGiven`."""
    try:
        return call()
    except AuthError as error:
        if (error.platform_code or "").split("/")[0] in _TOKEN_CODES:
            raise
        raise FiguresNotGiven(f"{publisher.platform} gives {publisher.who} no figures: {error}",
                              platform_code=error.platform_code) from None


def graph_values(body: Any) -> dict[str, Any]:
    """Meta's insights answer (`data: [{name, period, values: [{value}]}]`) as {name: value}."""
    out: dict[str, Any] = {}
    for item in (body or {}).get("data", []) if isinstance(body, dict) else []:
        values = item.get("values") or [{}]
        out[str(item.get("name"))] = values[-1].get("value")
    return out
