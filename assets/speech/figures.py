"""How good a draft is against reference subtitles: word error rate and cue boundaries.

WER comes from jiwer (a library written elsewhere, the usual referee for speech recognition);
for Japanese, written without spaces, the character error rate is the meaningful figure. Text is
compared case-folded without punctuation, as WER is usually reported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assets.subtitles import Cue


@dataclass(frozen=True)
class DraftFigures:
    language: str
    error_rate: float  # WER, or CER for Japanese
    measure: str  # "WER" or "CER"
    boundaries: list[float]  # |draft - reference| per cue start and end, when both have as many cues
    cue_counts: tuple[int, int]  # (draft, reference)

    @property
    def worst_boundary(self) -> float | None:
        return max(self.boundaries) if self.boundaries else None


def plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def compare(draft: list[Cue] | tuple[Cue, ...], reference: list[Cue] | tuple[Cue, ...], language: str) -> DraftFigures:
    import jiwer  # test and bench dependency: the referee, not part of the product

    ours = plain(" ".join(c.text.replace("\n", " ") for c in draft))
    theirs = plain(" ".join(c.text.replace("\n", " ") for c in reference))
    if language in ("ja", "zh"):
        rate, measure = jiwer.cer(theirs.replace(" ", ""), ours.replace(" ", "")), "CER"
    else:
        rate, measure = jiwer.wer(theirs, ours), "WER"
    boundaries: list[float] = []
    if len(draft) == len(reference):
        for a, b in zip(draft, reference):
            boundaries += [abs(a.start - b.start), abs(a.end - b.end)]
    return DraftFigures(language, float(rate), measure, boundaries, (len(draft), len(reference)))
