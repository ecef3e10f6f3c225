"""The subtitle style guide every draft is cut to and every cue is checked against, per language.

Numbers from the Netflix Timed Text Style Guide (partnerhelp.netflixstudios.com), read for this
module:
- General Requirements: a subtitle event lasts at least 5/6 s ("20 frames for 24fps") and at
  most 7 s; 2 lines maximum, one line unless the text exceeds the character limitation; a gap
  of 2 frames minimum between events; out-times may be extended up to 12 frames (0.5 s) past
  the end of speech for reading speed.
- Character limitation per language guide: English, Dutch, French, German, Arabic 42 characters
  per line; Japanese "Maximum 13 full-width characters per line" (horizontal), where "half-width
  character, space, and punctuation counts as 0.5 characters". Spaces and punctuation count
  ("How is reading speed measured?", Netflix Backlot help).
- Reading speed: the English Template guide's "Adult programs: 200 words per minute / 17
  characters per second", applied to the Latin-script languages; Arabic adult programs 20 cps
  (a Netflix vendor's Arabic AR-SA sheet); Japanese 4 characters per second, the long-standing
  Japanese subtitling rule (Toyokura & Yamada 2017 on "the four-character-per-second rule").
A language without its own row gets the general row (42 per line, 17 per second).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

MIN_SECONDS = 5 / 6
MAX_SECONDS = 7.0
GAP_FRAMES = 2
EXTEND_SECONDS = 0.5  # "up to 12 frames past the timecode at which the audio ends"
DEFAULT_FPS = 24.0
SLACK = 0.0005  # SRT times are whole milliseconds: 5/6 s is written 0.834


@dataclass(frozen=True)
class Rules:
    language: str
    max_line: float  # characters per line (Japanese: full-width characters, half-width count 0.5)
    max_lines: int
    max_cps: float  # characters per second, spaces and punctuation included
    min_seconds: float = MIN_SECONDS
    max_seconds: float = MAX_SECONDS
    half_width_halves: bool = False  # count half-width characters as 0.5 (Japanese)
    phrases: bool = False  # break units are BudouX phrases, joined without spaces
    rtl: bool = False

    def gap(self, fps: float = DEFAULT_FPS) -> float:
        return GAP_FRAMES / (fps or DEFAULT_FPS)


GENERAL = Rules("*", max_line=42, max_lines=2, max_cps=17)
RULES = {
    "en": Rules("en", 42, 2, 17),
    "nl": Rules("nl", 42, 2, 17),
    "fr": Rules("fr", 42, 2, 17),
    "de": Rules("de", 42, 2, 17),
    "ar": Rules("ar", 42, 2, 20, rtl=True),
    "ja": Rules("ja", 13, 2, 4, half_width_halves=True, phrases=True),
}


def rules_for(language: str) -> Rules:
    return RULES.get(language, Rules(language, GENERAL.max_line, GENERAL.max_lines, GENERAL.max_cps))


def length(text: str, rules: Rules) -> float:
    """Characters as the guide counts them (line breaks do not count)."""
    text = text.replace("\n", "")
    if not rules.half_width_halves:
        return float(len(text))
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.5 for c in text)


def reading_speed(text: str, seconds: float, rules: Rules) -> float:
    """Characters per second of a cue, spaces and punctuation included."""
    return length(text, rules) / seconds if seconds > 0 else float("inf")


@dataclass(frozen=True)
class Check:
    """One thing wrong with a cue: `kind` is what the console shows (too long, too fast, ...)."""

    kind: str
    message: str


def check_cue(text: str, start: float, end: float, rules: Rules, *, next_start: float | None = None,
              fps: float = DEFAULT_FPS) -> list[Check]:
    """Everything the style guide says is wrong with one cue (empty: it passes)."""
    found: list[Check] = []
    seconds = end - start
    lines = [line for line in text.split("\n")]
    if not text.strip():
        return [Check("empty", "the cue has no text — write it, or merge its time into a neighbour")]
    if len(lines) > rules.max_lines:
        found.append(Check("too long", f"{len(lines)} lines; at most {rules.max_lines}"))
    for number, line in enumerate(lines, 1):
        size = length(line, rules)
        if size > rules.max_line:
            found.append(Check("too long", f"line {number} has {size:g} characters; at most {rules.max_line:g} per line"))
    if seconds < rules.min_seconds - SLACK:
        found.append(Check("too short", f"on screen {seconds:.2f} s; at least {rules.min_seconds:.2f} s (5/6 of a second)"))
    if seconds > rules.max_seconds + SLACK:
        found.append(Check("too long on screen", f"on screen {seconds:.2f} s; at most {rules.max_seconds:g} s — split it"))
    speed = reading_speed(text, seconds, rules)
    if speed > rules.max_cps + 1e-6:
        found.append(Check("too fast", f"{speed:.1f} characters per second; at most {rules.max_cps:g} — shorten the text"))
    if next_start is not None and next_start - end < rules.gap(fps) - SLACK:
        found.append(Check("too close", f"{max(0.0, next_start - end):.3f} s before the next cue; at least {GAP_FRAMES} frames "
                                        f"({rules.gap(fps):.3f} s)"))
    return found
