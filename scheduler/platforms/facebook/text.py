"""Facebook's text rules: a Page post holds 63,206 characters."""

from __future__ import annotations

FACEBOOK_MAX = 63206


def check(text: str) -> list[str]:
    """Every rule of Facebook the caption breaks."""
    if len(text) > FACEBOOK_MAX:
        return [f"Facebook post is {len(text)} characters, over the {FACEBOOK_MAX} limit — shorten it by {len(text) - FACEBOOK_MAX}"]
    return []
