"""Mastodon's text rules: 500 characters as its StatusLengthValidator counts them."""

from __future__ import annotations

import re

import grapheme

from scheduler.platforms.text import find_urls

MASTODON_MAX = 500
MASTODON_URL_LENGTH = 23

_REMOTE_MENTION = re.compile(r"(?<![\w/])(@\w+)@[\w.-]+\w")


def mastodon_length(text: str) -> int:
    """Mastodon's StatusLengthValidator: grapheme clusters (an emoji sequence is one), every
    URL as 23, a remote mention `@name@server` as just `@name`."""
    pieces, position = [], 0
    for start, end, _url in find_urls(text):
        pieces.append(text[position:start])
        pieces.append("x" * MASTODON_URL_LENGTH)
        position = end
    pieces.append(text[position:])
    return grapheme.length(_REMOTE_MENTION.sub(r"\1", "".join(pieces)))



def check(text: str) -> list[str]:
    """Every rule of Mastodon the caption breaks."""
    length = mastodon_length(text)
    if length > MASTODON_MAX:
        return [f"Mastodon counts {length} characters, over the {MASTODON_MAX} limit (URLs count 23) — shorten it by {length - MASTODON_MAX}"]
    return []
