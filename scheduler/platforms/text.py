"""Each platform's text rules, as pure functions: the planner checks captions with them at plan
time and the platform emulators enforce the same rules on 127.0.0.1.

Sources (see ../../shared/platform-apis.md): X counts *weighted* characters with the
twitter-text v3 configuration (counted by twitter-text-parser, held to the official conformance
cases); Bluesky counts grapheme clusters and wants rich-text facets in
UTF-8 byte offsets; Mastodon counts every URL as 23 characters; LinkedIn's "little text"
format needs its reserved characters backslash-escaped or the post is silently cut.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterator

import grapheme
from twitter_text import ParsedResult, parse_tweet

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


# --- X (twitter-text v3) -------------------------------------------------------------------

X_MAX_WEIGHTED = 280


def x_parse(text: str) -> ParsedResult:
    """X's own reading of a post (twitter-text v3 configuration, which X's API applies).

    Counted by `twitter-text-parser`, which passes the official twitter-text conformance cases
    (tests/conformance/twitter_text/validate.yml): a URL counts 23 even without a scheme
    (``imec.be``, ``t.co``) and ends where X ends it (before CJK text); an emoji sequence (ZWJ
    family, flag, skin tone) counts 2; CJK counts 2; text is NFC-normalised first; characters X
    refuses (U+FEFF, U+FFFE, U+FFFF) make the post invalid whatever its length.
    """
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


# --- Bluesky -------------------------------------------------------------------------------

BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_TAG_MAX = 64
LINK_FEATURE = "app.bsky.richtext.facet#link"
TAG_FEATURE = "app.bsky.richtext.facet#tag"
# A tag starts after white space or at the start, or right after the left-to-right isolate or
# mark that keeps it whole in a right-to-left caption (campaign.languages.isolate_ltr_runs); it
# ends before white space or the isolate's closing PDI.
_BEFORE_TAG = r"(?:^|(?<=[\s\u2066\u2067\u2068\u200e\u200f]))"
_TAG = re.compile(_BEFORE_TAG + r"[#＃]([^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2\u2066-\u2069\u200e\u200f]+)")


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


# --- Mastodon, Instagram, Facebook ---------------------------------------------------------

MASTODON_MAX = 500
MASTODON_URL_LENGTH = 23
INSTAGRAM_MAX = 2200
INSTAGRAM_MAX_HASHTAGS = 30
FACEBOOK_MAX = 63206
LINKEDIN_MAX = 3000
_HASHTAG = re.compile(_BEFORE_TAG + r"[#＃](\w+)")


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


def hashtags_in(text: str) -> list[str]:
    """Hashtags (without '#') outside links."""
    spans = [(s, e) for s, e, _ in find_urls(text)]
    return [m.group(1) for m in _HASHTAG.finditer(text) if not any(s <= m.start() < e for s, e in spans)]


def instagram_check(text: str) -> list[str]:
    """Instagram refuses captions over 2,200 characters or with more than 30 hashtags."""
    problems = []
    if len(text) > INSTAGRAM_MAX:
        problems.append(f"Instagram caption is {len(text)} characters, over the {INSTAGRAM_MAX} limit — shorten it by {len(text) - INSTAGRAM_MAX}")
    tags = hashtags_in(text)
    if len(tags) > INSTAGRAM_MAX_HASHTAGS:
        problems.append(f"Instagram caption has {len(tags)} hashtags, over the {INSTAGRAM_MAX_HASHTAGS} limit — remove {len(tags) - INSTAGRAM_MAX_HASHTAGS}")
    return problems


# --- LinkedIn ------------------------------------------------------------------------------

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


# --- one entry point -----------------------------------------------------------------------


def check_caption(platform: str, text: str) -> list[str]:
    """Every rule the caption breaks on `platform`, as messages a manager can act on (empty: fine)."""
    problems: list[str] = []
    if platform == "x":
        problems.extend(x_check(text))
    elif platform == "bluesky":
        length = bluesky_graphemes(text)
        if length > BLUESKY_MAX_GRAPHEMES:
            problems.append(f"Bluesky counts {length} characters (graphemes), over the {BLUESKY_MAX_GRAPHEMES} limit — shorten it by {length - BLUESKY_MAX_GRAPHEMES}")
        for facet in bluesky_facets(text):
            feature = facet["features"][0]
            if feature["$type"] == TAG_FEATURE and len(feature["tag"]) > BLUESKY_TAG_MAX:
                problems.append(f"Bluesky hashtag #{feature['tag']} is longer than {BLUESKY_TAG_MAX} characters")
    elif platform == "mastodon":
        length = mastodon_length(text)
        if length > MASTODON_MAX:
            problems.append(f"Mastodon counts {length} characters, over the {MASTODON_MAX} limit (URLs count 23) — shorten it by {length - MASTODON_MAX}")
    elif platform == "instagram":
        problems.extend(instagram_check(text))
    elif platform == "linkedin":
        escaped = linkedin_escape(text)
        # LinkedIn does not say whether escapes count; we count the escaped text to be safe.
        if len(escaped) > LINKEDIN_MAX:
            problems.append(f"LinkedIn commentary is {len(escaped)} characters once reserved characters are escaped, over the {LINKEDIN_MAX} limit — shorten it by {len(escaped) - LINKEDIN_MAX}")
    elif platform == "facebook":
        if len(text) > FACEBOOK_MAX:
            problems.append(f"Facebook post is {len(text)} characters, over the {FACEBOOK_MAX} limit — shorten it by {len(text) - FACEBOOK_MAX}")
    if not text.strip():
        problems.append("the caption is empty — check the caption template")
    return problems


def iter_clusters(text: str) -> Iterator[str]:
    """Grapheme clusters, for callers that truncate text without splitting an emoji."""
    return grapheme.graphemes(text)
