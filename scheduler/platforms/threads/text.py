"""Threads' text rules: 500 characters, where an emoji counts as its number of UTF-8 bytes (Meta's
"Threads Posts" page: "Emojis are counted as the number of UTF-8 bytes"; 👍 is 4, 👍🏽 8, 🇧🇪 8),
links count as written (no shortening), and at most 5 distinct links (since 2025-12-22 Meta refuses
more with THREADS_API__LINK_LIMIT_EXCEEDED)."""

from __future__ import annotations

import unicodedata

from scheduler.platforms.text import find_urls, iter_clusters

THREADS_MAX = 500
THREADS_MAX_LINKS = 5


def _is_emoji(cluster: str) -> bool:
    for char in cluster:
        point = ord(char)
        if point in (0x200D, 0xFE0F) or 0x1F000 <= point <= 0x1FAFF or 0x1F1E6 <= point <= 0x1F1FF:
            return True
        if 0x2600 <= point <= 0x27BF or 0x2B00 <= point <= 0x2BFF:
            return unicodedata.category(char) == "So"
    return False


def threads_length(text: str) -> int:
    """Characters as Threads counts them: one per character, an emoji its UTF-8 bytes."""
    return sum(len(cluster.encode("utf-8")) if _is_emoji(cluster) else len(cluster) for cluster in iter_clusters(text))


def check(text: str) -> list[str]:
    """Every rule of Threads the post text breaks."""
    problems = []
    length = threads_length(text)
    if length > THREADS_MAX:
        problems.append(f"Threads counts {length} characters (an emoji counts as its UTF-8 bytes, 4 or more), over the "
                        f"{THREADS_MAX} limit — shorten it by {length - THREADS_MAX}")
    links = {url for _s, _e, url in find_urls(text)}
    if len(links) > THREADS_MAX_LINKS:
        problems.append(f"Threads refuses posts with more than {THREADS_MAX_LINKS} links; this one has {len(links)} — remove "
                        f"{len(links) - THREADS_MAX_LINKS}")
    return problems
