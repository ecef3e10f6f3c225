"""LinkedIn's text rules: 3,000 characters of "little text", whose reserved characters must be
backslash-escaped or LinkedIn silently cuts the post at them."""

from __future__ import annotations

import re

from scheduler.platforms.text import find_urls

LINKEDIN_MAX = 3000
LINKEDIN_RESERVED = set("\\|{}@[]()<>#*_~")
_LINKEDIN_TAG = re.compile(r"(^|(?<=[\s\u2066\u2067\u2068\u200e\u200f]))#(\w+)")


def linkedin_escape(text: str, *, hashtags: bool = True) -> str:
    """Text for LinkedIn's `commentary` ("little text" format).

    Every reserved character ``\\ | { } @ [ ] ( ) < > # * _ ~`` is backslash-escaped, else
    LinkedIn silently cuts the post at it. Choice for hashtags: with `hashtags=True` (default)
    a ``#word`` preceded by a space or the start becomes the little-text hashtag template
    ``{hashtag|\\#|word}`` so it stays a clickable hashtag; every other '#' is escaped as text.
    """
    out: list[str] = []
    position = 0
    matches = list(_LINKEDIN_TAG.finditer(text)) if hashtags else []
    urls = [(s, e) for s, e, _ in find_urls(text)]
    for match in matches:
        start = match.start(2) - 1
        if any(s <= start < e for s, e in urls):
            continue
        out.append(_escape_plain(text[position:start]))
        out.append("{hashtag|\\#|" + _escape_plain(match.group(2)) + "}")
        position = match.end()
    out.append(_escape_plain(text[position:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return "".join("\\" + char if char in LINKEDIN_RESERVED else char for char in text)



def check(text: str) -> list[str]:
    """Every rule of LinkedIn the caption breaks."""
    escaped = linkedin_escape(text)
    # LinkedIn does not say whether escapes count; we count the escaped text to be safe.
    if len(escaped) > LINKEDIN_MAX:
        return [f"LinkedIn commentary is {len(escaped)} characters once reserved characters are escaped, over the {LINKEDIN_MAX} limit — shorten it by {len(escaped) - LINKEDIN_MAX}"]
    return []
