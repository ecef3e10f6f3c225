"""Cut a transcript into cues the style guide accepts: at pauses and phrase boundaries, never mid-word.

Break units are Whisper's words (space-separated scripts; Arabic too, its words kept in logical
order for the renderer to lay out right to left) or, for Japanese, BudouX phrases mapped back
onto Whisper's tokens by character position. The segmentation is the cheapest by a small cost
model, found by dynamic programming over unit boundaries:
- a cut at a pause measured in the audio earns a reward, a cut after punctuation costs little,
  a cut anywhere else costs more (a cut is never inside a unit);
- a cue whose text does not fit the lines, or that stays longer than the maximum, is not allowed;
- a cue too short or too fast, even with the out-time extension the guide allows, is penalised.
Cue times: a cut at a pause runs from the end of speech to its start again; the first cue starts
at the speech onset, the last ends with the speech; each out-time is then extended, up to 0.5 s
and never closer than two frames to the next cue, as far as reading speed or the minimum needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assets.linebreak import balanced_lines, units as phrase_units
from assets.speech.styleguide import EXTEND_SECONDS, Rules, length
from assets.speech.transcribe import Transcript, Word
from assets.subtitles import Cue

PAUSE_REWARD = -1.0
PUNCTUATION_CUT = 0.5
PLAIN_CUT = 2.0
SHORT_PENALTY = 3.0
FAST_PENALTY = 3.0
PUNCTUATION = tuple(",.;:!?、。，．！？…」』)")


@dataclass(frozen=True)
class Unit:
    text: str
    start: float
    end: float


def make_units(words: tuple[Word, ...] | list[Word], rules: Rules) -> list[Unit]:
    """Words as units; for phrase languages (Japanese) BudouX phrases over Whisper's tokens."""
    if not rules.phrases:
        return [Unit(w.text, w.start, w.end) for w in words]
    text = "".join(w.text for w in words)
    owner: list[int] = []  # the word each character belongs to
    for index, word in enumerate(words):
        owner.extend([index] * len(word.text))
    found: list[Unit] = []
    position = 0
    for phrase in phrase_units(text, cjk=True)[0]:
        first, last = owner[position], owner[position + len(phrase) - 1]
        found.append(Unit(phrase, words[first].start, words[last].end))
        position += len(phrase)
    return found


def cut_cues(transcript: Transcript, rules: Rules, *, fps: float = 24.0) -> list[Cue]:
    """The cues of a transcript, each fitting the style guide as well as the speech allows."""
    units = make_units(transcript.words, rules)
    if not units:
        return []
    joiner = "" if rules.phrases else " "
    duration = transcript.duration
    speech = list(transcript.speech)
    pause_at = _pause_boundaries(units, transcript.pauses)
    gap = rules.gap(fps)
    onset = _onset(units[0].start, speech)
    offset = _offset(units[-1].end, speech, duration)
    n = len(units)

    def start_of(i: int) -> float:
        return onset if i == 0 else (pause_at[i][1] if i in pause_at else units[i].start)

    def end_of(j: int) -> float:  # speech end of a cue ending before unit j
        if j == n:
            return offset
        return pause_at[j][0] if j in pause_at else min(units[j - 1].end, units[j].start - gap)

    def room(j: int) -> float:  # how late the cue ending before unit j may stay
        limit = duration if j == n else start_of(j) - gap
        return min(end_of(j) + EXTEND_SECONDS, limit)

    def text_of(i: int, j: int) -> str:
        return joiner.join(u.text for u in units[i:j])

    def cost(i: int, j: int) -> float | None:
        text = text_of(i, j)
        if balanced_lines(text, rules.max_line, lambda s: length(s, rules), cjk=rules.phrases, max_lines=rules.max_lines) is None:
            return None
        start, end = start_of(i), end_of(j)
        if end - start > rules.max_seconds and j - i > 1:
            return None
        longest = room(j) - start
        value = 0.0
        if longest < rules.min_seconds:
            value += SHORT_PENALTY
        needed = length(text, rules) / rules.max_cps
        if needed > longest:
            value += FAST_PENALTY * (needed / max(longest, 0.01) - 1)
        if j < n:
            value += PAUSE_REWARD if j in pause_at else (PUNCTUATION_CUT if units[j - 1].text.endswith(PUNCTUATION) else PLAIN_CUT)
        return value

    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("inf"), -1)] * n
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            if best[i][0] == float("inf"):
                continue
            c = cost(i, j)
            if c is None:
                if j - i > 1 and end_of(j) - start_of(i) > rules.max_seconds * 2:
                    break  # longer cues only get worse
                continue
            if best[i][0] + c < best[j][0]:
                best[j] = (best[i][0] + c, i)
    bounds = [n]
    while bounds[-1] > 0:
        bounds.append(best[bounds[-1]][1])
    bounds.reverse()

    cues: list[Cue] = []
    for number, (i, j) in enumerate(zip(bounds, bounds[1:]), 1):
        text = text_of(i, j)
        lines = balanced_lines(text, rules.max_line, lambda s: length(s, rules), cjk=rules.phrases, max_lines=rules.max_lines)
        start, end = start_of(i), end_of(j)
        wanted = max(end, start + rules.min_seconds, start + length(text, rules) / rules.max_cps)
        end = max(end, min(wanted, room(j)))
        written = math.ceil(end * 1000) / 1000  # SRT keeps milliseconds: round up to keep the minimum...
        if written > room(j) + 1e-9:
            written = math.floor(end * 1000) / 1000  # ...unless that eats into the gap before the next cue
        cues.append(Cue(math.floor(start * 1000) / 1000, written, "\n".join(lines or [text]), number))
    return cues


def _pause_boundaries(units: list[Unit], pauses: list[tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """Unit index j -> the pause heard before units[j]: each pause goes to the closest boundary."""
    found: dict[int, tuple[float, float]] = {}
    for a, b in pauses:
        centre = (a + b) / 2
        candidates = [(abs((units[j - 1].end + units[j].start) / 2 - centre), j) for j in range(1, len(units))]
        if not candidates:
            break
        distance, j = min(candidates)
        if distance <= 0.5 and j not in found:
            found[j] = (a, b)
    return found


def _onset(first_word: float, speech: list[tuple[float, float]]) -> float:
    """Whisper often starts the first word at 0.0: start with the sound instead, when it is near."""
    for a, b in speech:
        if b > first_word:
            return a if first_word < a <= first_word + 1.5 else first_word
    return first_word


def _offset(last_word: float, speech: list[tuple[float, float]], duration: float) -> float:
    """The end of the speech the last word belongs to (its tail may run past Whisper's end)."""
    ends = [b for a, b in speech if a < last_word + 0.15 and b > last_word - 1.0]
    return min(duration, max([last_word, *ends]))
