"""Text lengths as each platform counts them, for the emulators' limits.

Written here on purpose, apart from the planner's `scheduler.plan.textrules`: an emulator
that reused the planner's counting would agree with any mistake in it. X's weighted count
(twitter-text v3 ranges, URLs 23, NFC), Mastodon's characters with URLs as 23, Bluesky's
graphemes.
"""

from __future__ import annotations

import re
import unicodedata

import grapheme

URL = re.compile(r"https?://[^\s<>\"]+")
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def x_weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in URL.finditer(text):
        total += _x_plain(text[position : match.start()]) + 23
        position = match.end()
    return total + _x_plain(text[position:])


def _x_plain(text: str) -> int:
    total = 0
    for cluster in grapheme.graphemes(text):
        point = ord(cluster[0])
        light = any(low <= point <= high for low, high in _X_LIGHT) and len(cluster) == 1
        total += 1 if light else 2
    return total


def mastodon_length(text: str) -> int:
    return len(URL.sub("x" * 23, text))


def grapheme_length(text: str) -> int:
    return grapheme.length(text)


def hashtag_count(text: str) -> int:
    return len(re.findall(r"(?:^|\s)#\w", text))
