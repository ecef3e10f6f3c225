"""Bluesky's text rules: 300 grapheme clusters, rich-text facets in UTF-8 byte offsets, and the
short form Bluesky's own app shows a long link in (a link facet carries the full URL)."""

from __future__ import annotations

import re
import unicodedata

import grapheme

from scheduler.platforms.text import BEFORE_TAG, find_urls

BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_TAG_MAX = 64
LINK_FEATURE = "app.bsky.richtext.facet#link"
TAG_FEATURE = "app.bsky.richtext.facet#tag"
# A tag ends before white space, invisible joiners or the closing PDI of an isolate.
_TAG = re.compile(BEFORE_TAG + r"[#＃]([^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2\u2066-\u2069\u200e\u200f]+)")


def bluesky_graphemes(text: str) -> int:
    """Bluesky's limit is 300 user-perceived characters (grapheme clusters)."""
    return grapheme.length(text)


def _byte_offset(text: str, char_index: int) -> int:
    return len(text[:char_index].encode("utf-8"))


BLUESKY_LINK_DISPLAY = 30


def bluesky_display_link(url: str, limit: int = BLUESKY_LINK_DISPLAY) -> str:
    """How Bluesky's own app shows a long link in post text: no scheme, no www., cut with '…'.

    The text shows this short form and a link facet carries the full URL (with its UTM tags),
    so a tagged link costs ~30 of the 300 graphemes instead of ~130.
    """
    short = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    short = re.sub(r"^www\.", "", short, flags=re.IGNORECASE)
    return short if len(short) <= limit else short[: limit - 1] + "…"


def bluesky_facets(text: str, links: tuple[str, ...] | list[str] = ()) -> list[dict]:
    """Rich-text facets for links and hashtags, with UTF-8 *byte* offsets as the lexicon wants.

    Full http(s) URLs in the text become link facets. For each full URL in `links` whose
    short form (`bluesky_display_link`) appears in the text, that short form becomes a link
    facet to the full URL. A tag facet covers the '#' and the tag; its `tag` value has no '#'.
    Trailing punctuation is not part of a tag; an all-digit tag (#2027) is not a tag, as in
    Bluesky's own parser.
    """
    facets: list[dict] = []
    url_spans = []
    for start, end, url in find_urls(text):
        url_spans.append((start, end))
        facets.append(_facet(text, start, end, {"$type": LINK_FEATURE, "uri": url}))
    for full in links:
        short = bluesky_display_link(full)
        start = text.find(short)
        while start >= 0:
            end = start + len(short)
            if not any(low < end and start < high for low, high in url_spans):
                url_spans.append((start, end))
                facets.append(_facet(text, start, end, {"$type": LINK_FEATURE, "uri": full}))
            start = text.find(short, end)
    for match in _TAG.finditer(text):
        start = match.start()
        if any(low <= start < high for low, high in url_spans):
            continue  # a '#fragment' inside a link is not a tag
        tag = _strip_punctuation(match.group(1))
        if not tag or tag.isdigit() or len(tag) > BLUESKY_TAG_MAX:
            continue
        end = start + 1 + len(tag)
        facets.append(_facet(text, start, end, {"$type": TAG_FEATURE, "tag": tag}))
    return sorted(facets, key=lambda f: f["index"]["byteStart"])


def _strip_punctuation(tag: str) -> str:
    while tag and unicodedata.category(tag[-1]).startswith("P"):
        tag = tag[:-1]
    return tag


def _facet(text: str, start: int, end: int, feature: dict) -> dict:
    return {
        "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
        "features": [feature],
    }



def check(text: str) -> list[str]:
    """Every rule of Bluesky the caption breaks."""
    problems = []
    length = bluesky_graphemes(text)
    if length > BLUESKY_MAX_GRAPHEMES:
        problems.append(f"Bluesky counts {length} characters (graphemes), over the {BLUESKY_MAX_GRAPHEMES} limit — shorten it by {length - BLUESKY_MAX_GRAPHEMES}")
    for facet in bluesky_facets(text):
        feature = facet["features"][0]
        if feature["$type"] == TAG_FEATURE and len(feature["tag"]) > BLUESKY_TAG_MAX:
            problems.append(f"Bluesky hashtag #{feature['tag']} is longer than {BLUESKY_TAG_MAX} characters")
    return problems
