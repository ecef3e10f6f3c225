"""The style-guide checks on cases taken from the Netflix Timed Text Style Guide's own text."""

from __future__ import annotations

import pytest

from assets.speech.styleguide import length, reading_speed, rules_for
from assets.speech.styleguide import check_cue as check

EN, JA = rules_for("en"), rules_for("ja")


def kinds(text: str, start: float, end: float, rules=EN, **kw) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.kind for c in check(text, start, end, rules, **kw)]


def test_the_guides_own_continuity_example_fits_one_line_each() -> None:
    # English SDH guide, "Continuity": Subtitle 1 "I always knew", Subtitle 2 "that you would eventually agree with me."
    assert kinds("I always knew", 0.0, 1.0) == []
    assert length("that you would eventually agree with me.", EN) == 40
    assert kinds("that you would eventually agree with me.", 1.1, 3.6) == []


def test_42_characters_per_line_spaces_and_punctuation_count() -> None:
    # "42 characters per line"; "Spaces and punctuation are counted ... towards both the character count and the reading speed"
    assert kinds("x" * 42, 0, 5) == []
    assert length("I always knew that you would eventually agree", EN) == 45
    assert "too long" in kinds("I always knew that you would eventually agree", 0, 5)
    assert length("Had I known...", EN) == 14


def test_two_lines_maximum() -> None:
    assert kinds("-Are you coming?\n-In a minute.", 0, 3) == []
    assert "too long" in kinds("one\ntwo\nthree", 0, 3)


@pytest.mark.parametrize("frames, ok", [(20, True), (19, False)])
def test_minimum_duration_is_five_sixths_of_a_second(frames: int, ok: bool) -> None:
    # "Minimum duration: 5/6 (five-sixths) of a second per subtitle event (e.g. 20 frames for 24fps)"
    end = round(frames / 24, 3)  # as an SRT writes it, to the millisecond
    assert ("too short" not in kinds("Yes.", 0.0, end)) is ok


def test_maximum_duration_is_seven_seconds() -> None:
    assert kinds("I worked on this movie\nfor a total of six months.", 0, 7.0) == []
    assert "too long on screen" in kinds("I worked on this movie\nfor a total of six months.", 0, 7.1)


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97])
def test_two_frames_minimum_between_events_regardless_of_frame_rate(fps: float) -> None:
    two, one = 2 / fps, 1 / fps
    assert "too close" not in kinds("Had I known...", 0, 2.0, next_start=2.0 + two + 0.001, fps=fps)
    assert "too close" in kinds("Had I known...", 0, 2.0, next_start=2.0 + one, fps=fps)


def test_reading_speed_17_characters_per_second() -> None:
    # English Template guide: "Adult programs: 200 words per minute / 17 characters per second"
    text = "She hesitated… about accepting the job."  # 39 characters
    assert reading_speed(text, 3.0, EN) == pytest.approx(13.0)
    assert kinds(text, 0, 3.0) == []
    assert "too fast" in kinds(text, 0, 2.0)  # 19.5 cps


def test_japanese_13_full_width_characters_half_width_count_half() -> None:
    # "Horizontal subtitles - Maximum 13 full-width characters per line"; "Half-width character, space,
    # and punctuation counts as 0.5 characters"; acronyms "e.g. BBC" in full width, "LGBTQ+" in half width.
    assert length("ＢＢＣ", JA) == 3
    assert length("LGBTQ+", JA) == 3
    assert kinds("ベルギーの開かれた協力の力を", 0, 4, JA) == ["too long"]  # 14 full-width
    assert kinds("ベルギーの開かれた協力の", 0, 4, JA) == []  # 12
    assert "too fast" in kinds("実感しました。", 0, 1.0, JA)  # 7 characters in a second; the rule is 4


def test_an_empty_cue_is_named() -> None:
    assert kinds("  ", 0, 2) == ["empty"]


def test_a_language_without_its_own_row_gets_the_general_rules() -> None:
    rules = rules_for("pt")
    assert (rules.max_line, rules.max_lines, rules.max_cps) == (42, 2, 17)
