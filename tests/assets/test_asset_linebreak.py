"""Balanced line breaks: even lines, never one word alone on the last line, kinsoku for Japanese, whole Arabic words."""

from __future__ import annotations

import pytest
from PIL import ImageFont

from assets.linebreak import NO_LINE_END, NO_LINE_START, balanced_lines
from testkit.assets import BRAND

FRENCH = "Ce n'est pas nous qui disons que la Belgique est formidable, ce sont les autres"
LATIN = ImageFont.truetype(str(BRAND / "fonts" / "NotoSans-Bold.ttf"), 40, layout_engine=ImageFont.Layout.RAQM)
JAPANESE = ImageFont.truetype(str(BRAND / "fonts" / "NotoSansJP-Bold.otf"), 40, layout_engine=ImageFont.Layout.RAQM)
ARABIC = ImageFont.truetype(str(BRAND / "fonts" / "NotoSansArabic-Bold.ttf"), 40, layout_engine=ImageFont.Layout.RAQM)


def greedy(text: str, width: float, measure) -> list[str]:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    for word in text.split():
        if lines and measure(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def test_no_single_word_alone_on_the_last_line_where_greedy_leaves_autres() -> None:
    measure = LATIN.getlength
    # a width at which greedy filling strands "autres"
    width = next(w for w in range(600, 1400, 4) if greedy(FRENCH, w, measure)[-1] == "autres")
    lines = balanced_lines(FRENCH, width, measure)
    assert lines is not None and " ".join(lines) == FRENCH
    assert len(lines[-1].split()) >= 2
    assert len(lines) <= len(greedy(FRENCH, width, measure)) + 1
    assert all(measure(line) <= width for line in lines)


@pytest.mark.parametrize("width", [500, 700, 900, 1100])
def test_lines_are_balanced_and_as_few_as_greedy(width: int) -> None:
    measure = LATIN.getlength
    lines = balanced_lines(FRENCH, width, measure)
    assert lines is not None
    widths = [measure(line) for line in lines]
    assert max(widths) <= width
    assert len(lines) <= len(greedy(FRENCH, width, measure)) + 1
    # balanced: the widest line is no wider than greedy's, the lines are closer in width
    assert max(widths) <= max(measure(line) for line in greedy(FRENCH, width, measure)) + 0.5


@pytest.mark.parametrize("width", [300, 400, 520, 700])
def test_japanese_breaks_between_phrases_and_obeys_kinsoku(width: int) -> None:
    text = "ベルギーが素晴らしいと言うのは、「私たち」ではなく（他の）人たちです。"
    lines = balanced_lines(text, width, lambda s: JAPANESE.getlength(s, direction="ltr", language="ja"), cjk=True, max_lines=8)
    assert lines is not None and "".join(lines) == text
    for before, after in zip(lines, lines[1:]):
        assert after[0] not in NO_LINE_START, (before, after)
        assert before[-1] not in NO_LINE_END, (before, after)


def test_arabic_is_broken_on_words_only() -> None:
    text = "لسنا نحن من يقول إن بلجيكا رائعة، بل الآخرون"
    measure = lambda s: ARABIC.getlength(s, direction="rtl", language="ar")
    lines = balanced_lines(text, measure(text) / 2 + 40, measure)
    assert lines is not None and len(lines) == 2
    assert " ".join(lines) == text
    assert all(word in text.split() for line in lines for word in line.split())
    # each line is shaped as a whole: joined letters are narrower than the same letters isolated
    isolated = sum(ARABIC.getlength(c, direction="rtl", language="ar") for c in lines[0].replace(" ", ""))
    assert measure(lines[0].replace(" ", "")) < isolated


def test_a_text_that_cannot_fit_says_so() -> None:
    assert balanced_lines("Supercalifragilistic", 50, LATIN.getlength) is None
