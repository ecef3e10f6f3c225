"""What every platform's text rules share: where links and hashtags are in a caption, and grapheme
clusters. Each platform's own rules (limits, counting, facets, escaping) live in
`scheduler/platforms/<name>/text.py`; `scheduler.platforms.registry.check_caption` runs them.
The emulators count on their own (emulators/textcount.py), never with these.
Sources: ../shared/platform-apis.md.
"""

from __future__ import annotations

import re
from typing import Iterator

import grapheme

# --- links -----------------------------------------------------------------------------------

# A URL as the platforms find it in text: scheme, then anything up to white space; trailing
# punctuation that ends a sentence is not part of it (as in twitter-text and Bluesky's detector).
URL_PATTERN = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}»”’、。，"


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) in *character* offsets for every http(s) link in `text`."""
    found = []
    for match in URL_PATTERN.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        # A closing bracket stays when the URL itself opened one (Wikipedia-style links).
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1]
        found.append((match.start(), match.start() + len(url), url))
    return found


# A tag starts after white space or at the start, or right after the left-to-right isolate or
# mark that keeps it whole in a right-to-left caption (campaign.languages.isolate_ltr_runs); it
# ends before white space or the isolate's closing PDI.
BEFORE_TAG = r"(?:^|(?<=[\s\u2066\u2067\u2068\u200e\u200f]))"
_HASHTAG = re.compile(BEFORE_TAG + r"[#＃](\w+)")


def hashtags_in(text: str) -> list[str]:
    """Hashtags (without '#') outside links."""
    spans = [(s, e) for s, e, _ in find_urls(text)]
    return [m.group(1) for m in _HASHTAG.finditer(text) if not any(s <= m.start() < e for s, e in spans)]


def iter_clusters(text: str) -> Iterator[str]:
    """Grapheme clusters, for callers that truncate text without splitting an emoji."""
    return grapheme.graphemes(text)
