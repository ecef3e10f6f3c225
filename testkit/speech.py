"""The speech engine for tests: required in CI (CAMPAIGN_REQUIRE_SPEECH=1, CI=true), skipped elsewhere
when the `[speech]` extra is not installed. The model loads once per test session (the loader
is cached per process) and each sample clip is transcribed once."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples" / "raw"


def require_speech() -> None:
    from assets.speech.model import SpeechUnavailable, engine_installed, find_model

    required = os.environ.get("CI") == "true" or bool(os.environ.get("CAMPAIGN_REQUIRE_SPEECH"))
    problem = None
    if not engine_installed():
        problem = "faster-whisper is not installed (pip install -e '.[speech]')"
    else:
        try:
            find_model()
        except SpeechUnavailable as error:
            problem = str(error)
    if problem:
        if required:
            pytest.fail(problem + " — CI must judge the speech drafts")
        pytest.skip(problem)


@lru_cache(maxsize=None)
def sample_transcript(clip: str, language: str, task: str = "transcribe"):  # type: ignore[no-untyped-def]
    from assets.speech.transcribe import transcribe

    return transcribe(SAMPLES / clip, language, task=task)
