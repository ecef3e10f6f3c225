"""X's text rules: weighted characters with the twitter-text v3 configuration (counted by
twitter-text-parser, held to the official conformance cases in tests/conformance/twitter_text/)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from twitter_text import ParsedResult

X_MAX_WEIGHTED = 280


def x_parse(text: str) -> ParsedResult:
    """X's own reading of a post (twitter-text v3 configuration, which X's API applies).

    Counted by `twitter-text-parser`, which passes the official twitter-text conformance cases
    (tests/conformance/twitter_text/validate.yml): a URL counts 23 even without a scheme
    (``imec.be``, ``t.co``) and ends where X ends it (before CJK text); an emoji sequence (ZWJ
    family, flag, skin tone) counts 2; CJK counts 2; text is NFC-normalised first; characters X
    refuses (U+FEFF, U+FFFE, U+FFFF) make the post invalid whatever its length.
    """
    # imported on first use: importing twitter-text compiles its URL and emoji expressions and
    # pkg_resources (~0.8 s of CPU), which every process importing the platform table paid
    # (the daemon, `run.py user`, `web`), counting X's text or not
    from twitter_text import parse_tweet

    return parse_tweet(text)


def x_weighted_length(text: str) -> int:
    """Length of a post as X counts it (see `x_parse`)."""
    return x_parse(text).weightedLength


def x_check(text: str) -> list[str]:
    """What X would refuse in this post, as messages a manager can act on."""
    parsed = x_parse(text)
    problems = []
    if parsed.weightedLength > X_MAX_WEIGHTED:
        problems.append(f"X counts {parsed.weightedLength} weighted characters, over the {X_MAX_WEIGHTED} limit (links count 23 even without https://, CJK and emoji 2) — shorten it by {parsed.weightedLength - X_MAX_WEIGHTED}")
    invalid = sorted({f"U+{ord(char):04X}" for char in text if char in X_INVALID_CHARACTERS})
    if invalid:
        problems.append(f"X refuses posts containing the invisible character(s) {', '.join(invalid)} — delete them from the caption or template (often pasted from a word processor)")
    return problems


#: The characters twitter-text calls invalid (a post holding one is refused).
X_INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")


def check(text: str) -> list[str]:
    """Every rule of X the caption breaks."""
    return x_check(text)
