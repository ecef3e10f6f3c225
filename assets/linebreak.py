"""Balanced line breaking for stamped text: even lines, no lone last word, Japanese kinsoku.

Greedy wrapping fills the first lines and leaves "autres" alone on the last one; a designer
balances the lines instead (like CSS `text-wrap: balance`). Break opportunities are words for
space-separated scripts (Latin, Arabic: a line is always whole words, shaped as a whole by the
caller) and phrases for Japanese, found by BudouX (Google's phrase segmenter, the one Chrome
uses for `word-break: auto-phrase`), never before closing punctuation or after an opening
bracket (kinsoku shori, JIS X 4051). Widths come from the caller's `measure`, so shaping,
kerning and the font are exactly what will be drawn.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import budoux

# JIS X 4051 / W3C JLREQ: characters that must not start a line, and that must not end one.
NO_LINE_START = frozenset("、。，．・：；？！ー）」』】〕〉》〙〗｝］’”…‥゛゜ゝゞヽヾぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ々〻")
NO_LINE_END = frozenset("（「『【〔〈《〘〖｛［‘“")

Measure = Callable[[str], float]


@lru_cache(maxsize=1)
def _budoux():  # type: ignore[no-untyped-def]

    return budoux.load_default_japanese_parser()


def units(text: str, cjk: bool) -> tuple[list[str], str]:
    """Break units and the string that joins them: words and " ", or Japanese phrases and ""."""
    if not cjk:
        return text.split(), " "
    return _kinsoku_merge(list(_budoux().parse(text.strip()))), ""


def _kinsoku_merge(pieces: list[str]) -> list[str]:
    """Join pieces where a break between them would break a kinsoku rule."""
    merged: list[str] = []
    for piece in pieces:
        if merged and (piece[0] in NO_LINE_START or merged[-1][-1] in NO_LINE_END):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def split_characters(phrase: str) -> list[str]:
    """A phrase too long for a line, cut into characters that still obey kinsoku."""
    return _kinsoku_merge(list(phrase))


def balanced_lines(text: str, width: float, measure: Measure, cjk: bool = False, max_lines: int = 4) -> list[str] | None:
    """The fewest lines that fit `width`, made as even as possible, or None if `max_lines` is not enough.

    Among the breakings with the fewest lines: no single word alone on the last line when the
    text has more words than lines; then the smallest widest line; then the most even lines.
    """
    pieces, joiner = units(text, cjk)
    if not pieces:
        return [""]
    if cjk and any(measure(p) > width for p in pieces):  # a phrase wider than the line: break inside it
        pieces = [c for p in pieces for c in (split_characters(p) if measure(p) > width else [p])]
    n = len(pieces)
    span: dict[tuple[int, int], float] = {}

    def line_width(i: int, j: int) -> float:
        if (i, j) not in span:
            span[(i, j)] = measure(joiner.join(pieces[i:j]))
        return span[(i, j)]

    fallback: list[int] | None = None  # fits, but leaves one word alone on the last line
    for count in range(1, min(max_lines, n) + 1):
        best = _best_breaking(n, count, width, line_width, forbid_widow=not cjk and n > count)
        if best is None and fallback is None and not cjk and n > count:
            fallback = _best_breaking(n, count, width, line_width, forbid_widow=False)
            if fallback is not None:
                continue  # one more line may avoid the lone word
        if best is None and fallback is not None:
            best = fallback  # one more line did not help either: keep the fewer lines
        if best is not None:
            return [joiner.join(pieces[i:j]) for i, j in zip(best, best[1:])]
    if fallback is not None:
        return [joiner.join(pieces[i:j]) for i, j in zip(fallback, fallback[1:])]
    return None


def _best_breaking(n: int, count: int, width: float, line_width: Callable[[int, int], float], forbid_widow: bool) -> list[int] | None:
    """Break positions [0, ..., n] into `count` lines minimising (widest line, sum of squared slack)."""
    # best[k][j]: the best cost of putting pieces[:j] on k lines, and the previous break
    inf = (float("inf"), float("inf"))
    best: list[dict[int, tuple[tuple[float, float], int]]] = [{0: ((0.0, 0.0), -1)}]
    for k in range(1, count + 1):
        row: dict[int, tuple[tuple[float, float], int]] = {}
        for j in range(k, n - (count - k) + 1):
            choice = (inf, -1)
            for i, (cost, _) in best[k - 1].items():
                if i >= j:
                    continue
                w = line_width(i, j)
                if w > width:
                    continue
                if forbid_widow and k == count and j - i < 2:
                    continue
                candidate = (max(cost[0], w), cost[1] + (width - w) ** 2)
                if candidate < choice[0]:
                    choice = (candidate, i)
            if choice[1] >= 0:
                row[j] = choice
        best.append(row)
    if n not in best[count]:
        return None
    breaks = [n]
    for k in range(count, 0, -1):
        breaks.append(best[k][breaks[-1]][1])
    return breaks[::-1]
