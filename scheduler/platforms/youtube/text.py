"""YouTube's text rules (Data API v3, `videos.insert`): a title of at most 100 characters, a
description of at most 5,000 bytes (UTF-8), neither with `<` or `>` (the API refuses them).

The caption is the description, as planned; the title is its first line, cut at 100 characters
(whole grapheme clusters, with "…") when longer."""

from __future__ import annotations

from scheduler.platforms.text import iter_clusters

TITLE_MAX_CHARACTERS = 100
DESCRIPTION_MAX_BYTES = 5000
FORBIDDEN = "<>"


def title_of(text: str) -> str:
    """The video's title: the caption's first non-empty line, cut to 100 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= TITLE_MAX_CHARACTERS:
        return first
    kept = ""
    for cluster in iter_clusters(first):
        if len(kept) + len(cluster) > TITLE_MAX_CHARACTERS - 1:
            break
        kept += cluster
    return kept.rstrip() + "…"


def check(text: str) -> list[str]:
    """Every rule of YouTube the caption (the description, and its first line the title) breaks."""
    problems = []
    size = len(text.encode("utf-8"))
    if size > DESCRIPTION_MAX_BYTES:
        problems.append(f"YouTube takes a description of at most {DESCRIPTION_MAX_BYTES} bytes; this one is {size} bytes "
                        f"(non-Latin letters take 2-4 bytes each) — shorten it by {size - DESCRIPTION_MAX_BYTES} bytes")
    found = sorted({c for c in text if c in FORBIDDEN})
    if found:
        problems.append(f"YouTube refuses {' and '.join(found)} in a title or description — write them otherwise "
                        "(e.g. ‹ ›) in the caption or template")
    return problems
