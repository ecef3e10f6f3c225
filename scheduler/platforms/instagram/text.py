"""Instagram's text rules: 2,200 characters and at most 30 hashtags."""

from __future__ import annotations

from scheduler.platforms.text import hashtags_in

INSTAGRAM_MAX = 2200
INSTAGRAM_MAX_HASHTAGS = 30


def instagram_check(text: str) -> list[str]:
    """Instagram refuses captions over 2,200 characters or with more than 30 hashtags."""
    problems = []
    if len(text) > INSTAGRAM_MAX:
        problems.append(f"Instagram caption is {len(text)} characters, over the {INSTAGRAM_MAX} limit — shorten it by {len(text) - INSTAGRAM_MAX}")
    tags = hashtags_in(text)
    if len(tags) > INSTAGRAM_MAX_HASHTAGS:
        problems.append(f"Instagram caption has {len(tags)} hashtags, over the {INSTAGRAM_MAX_HASHTAGS} limit — remove {len(tags) - INSTAGRAM_MAX_HASHTAGS}")
    return problems


def check(text: str) -> list[str]:
    """Every rule of Instagram the caption breaks."""
    return instagram_check(text)
