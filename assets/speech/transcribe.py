"""Transcribe a clip's speech with word timestamps, and find its pauses in the sound itself.

Whisper's word timestamps are good to a word, not to the pause: it often starts the first word
at 0.0 and runs words together across a short breath. So the pauses a subtitler sees in the
waveform are measured from the audio (loudness over 10 ms frames against the clip's own noise
floor and speaking level) and cues are cut there (`assets.speech.cues`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assets.speech.model import find_model, load_model

RATE = 16_000
HOP = RATE // 100  # 10 ms
MIN_PAUSE = 0.12  # seconds of quiet between words that a viewer hears as a pause


@dataclass(frozen=True)
class Word:
    text: str  # as Whisper wrote it, without the leading space
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    language: str  # the language of `words` (English for the translate task)
    task: str  # "transcribe" or "translate"
    duration: float
    words: tuple[Word, ...]
    speech: tuple[tuple[float, float], ...]  # voiced stretches measured in the audio

    @property
    def text(self) -> str:
        joiner = "" if self.language in ("ja", "zh") else " "
        return joiner.join(w.text for w in self.words).strip()

    @property
    def pauses(self) -> list[tuple[float, float]]:
        return [(a[1], b[0]) for a, b in zip(self.speech, self.speech[1:])]


def transcribe(clip: Path, language: str, *, task: str = "transcribe", model_dir: str | Path | None = None) -> Transcript:
    """Words and their times in `language` (or English with task="translate"); the model loads once per process."""
    from faster_whisper.audio import decode_audio  # optional dependency: the [speech] extra

    folder = find_model(model_dir)
    model = load_model(str(folder))
    audio = decode_audio(str(clip), sampling_rate=RATE)
    segments, info = model.transcribe(audio, language=language, task=task, word_timestamps=True, beam_size=5,
                                      condition_on_previous_text=False)
    out_language = "en" if task == "translate" else language
    spaced = out_language not in ("ja", "zh")
    words: list[Word] = []
    for segment in segments:
        for word in segment.words or ():
            text = word.word.strip()
            if not text:
                continue
            if spaced and words and not word.word[:1].isspace():  # "j" + "'ai": one word, never cut inside
                last = words[-1]
                words[-1] = Word(last.text + text, last.start, float(word.end))
            else:
                words.append(Word(text, float(word.start), float(word.end)))
    return Transcript(out_language, task, float(info.duration), tuple(words), tuple(speech_spans(audio)))


def speech_spans(audio: np.ndarray, min_pause: float = MIN_PAUSE) -> list[tuple[float, float]]:
    """Voiced stretches in seconds, separated by quiet of at least `min_pause`.

    Quiet is below a tenth of the way from the noise floor (10th percentile of loudness) to the
    speaking level (95th percentile), so a recording with room noise still shows its pauses.
    """
    frames = len(audio) // HOP
    if frames == 0:
        return []
    rms = np.sqrt(np.mean(audio[: frames * HOP].reshape(frames, HOP).astype(np.float64) ** 2, axis=1))
    floor, level = np.percentile(rms, 10), np.percentile(rms, 95)
    if level <= floor * 1.5:
        return [(0.0, frames / 100)]  # no contrast to measure: all one stretch
    voiced = rms > floor + 0.1 * (level - floor)
    spans: list[list[float]] = []
    for index in np.flatnonzero(voiced):
        t = index / 100
        if spans and t - spans[-1][1] < min_pause:
            spans[-1][1] = t + 0.01
        else:
            spans.append([t, t + 0.01])
    return [(round(float(a), 2), round(float(b), 2)) for a, b in spans if b - a >= 0.04]


_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """One line of text, single spaces (what WER and the cue cutter compare)."""
    return _SPACE.sub(" ", text).strip()
