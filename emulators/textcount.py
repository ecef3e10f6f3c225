"""Text lengths as each platform counts them, for the emulators' limits.

Written here on purpose, apart from the planner's `scheduler.platforms.text`: an emulator
that reused the planner's counting would agree with any mistake in it. X's weighted count and
validity come from twitter-text-parser, which the official twitter-text conformance cases judge
(tests/conformance/); Mastodon's characters with URLs as 23, Bluesky's graphemes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import grapheme

if TYPE_CHECKING:
    from twitter_text import ParsedResult

URL = re.compile(r"https?://[^\s<>\"]+")


def x_parse(text: str) -> ParsedResult:
    """X's reading of a post: weighted length and validity by twitter-text v3."""
    # imported on first use: twitter-text's import costs ~0.8 s of CPU (its URL and emoji
    # expressions, pkg_resources), paid by every process that starts the emulators otherwise
    from twitter_text import parse_tweet

    return parse_tweet(text)


def x_weighted_length(text: str) -> int:
    return x_parse(text).weightedLength


def mastodon_length(text: str) -> int:
    """Grapheme clusters, URLs as 23, `@name@server` as `@name` (Mastodon's length validator)."""
    text = URL.sub("x" * 23, text)
    return grapheme.length(re.sub(r"(?<![\w/])(@\w+)@[\w.-]+\w", r"\1", text))


def grapheme_length(text: str) -> int:
    return grapheme.length(text)


def hashtag_count(text: str) -> int:
    return len(re.findall(r"(?:^|\s)#\w", text))
