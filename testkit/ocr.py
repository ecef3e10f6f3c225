"""Tesseract as a referee of legibility: shrink an image to the width of a phone feed and read it.

Tesseract (Debian's tesseract-ocr with its language data, through pytesseract) was not written
by this project, so when it reads the slogan back, the text is legible for a reason other than
our own arithmetic. Where the tool is missing, a test fails in CI (CI=true or
CAMPAIGN_REQUIRE_OCR) and skips elsewhere.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import unicodedata

import pytest
from PIL import Image, ImageOps

from assets.specs import FEED_WIDTH

TESSERACT_LANGUAGES = {"en": "eng", "fr": "fra", "de": "deu", "nl": "nld", "ja": "jpn", "ar": "ara"}
# 3: Tesseract's automatic page layout; 11: sparse text in no order (bands over a photo). A text is
# legible when Tesseract reads it in either; each alone trips now and then over a logo or a busy photo.
PAGE_MODES = (3, 11)


def require_tesseract(languages: set[str]) -> None:
    """Fail (CI) or skip (a laptop without it) when Tesseract or a language's data is missing."""
    required = os.environ.get("CI") == "true" or bool(os.environ.get("CAMPAIGN_REQUIRE_OCR"))
    problem = None
    if shutil.which("tesseract") is None:
        problem = "tesseract is not installed (apt-get install tesseract-ocr)"
    else:
        try:
            import pytesseract  # noqa: F401
        except ImportError:
            problem = "pytesseract is not installed (pip install -e '.[test]')"
        else:
            listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False).stdout.split()
            missing = sorted(TESSERACT_LANGUAGES[lang] for lang in languages if TESSERACT_LANGUAGES[lang] not in listed)
            if missing:
                problem = "Tesseract language data missing: " + ", ".join(f"tesseract-ocr-{m}" for m in missing)
    if problem:
        if required:
            pytest.fail(problem + " — CI must judge legibility with OCR")
        pytest.skip(problem)


def as_seen_in_feed(image: Image.Image) -> Image.Image:
    """The image at the width a phone feed shows it (a browser's smooth downscale)."""
    image = image.convert("RGB")
    return image.resize((FEED_WIDTH, round(image.height * FEED_WIDTH / image.width)), Image.Resampling.LANCZOS)


def read_text(image: Image.Image, language: str, page_mode: int) -> str:
    """What Tesseract reads; light text on dark bands reads best inverted (no enlarging: it would add detail)."""
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tests run two Tesseracts on two cores; each would start one thread per core
    grey = ImageOps.invert(image.convert("L"))
    return pytesseract.image_to_string(grey, lang=TESSERACT_LANGUAGES[language], config=f"--psm {page_mode}")


def read_back(expected: str, found: str, language: str) -> float:
    """Share of `expected` found in order in `found`: words, or characters for Japanese."""
    if language == "ja":
        want = [c for c in unicodedata.normalize("NFKC", expected) if c.isalnum()]
        got = [c for c in unicodedata.normalize("NFKC", found) if c.isalnum()]
    else:
        want, got = _words(expected), _words(found)
    if not want:
        return 1.0
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(want)


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return re.findall(r"[\w']+", text)


def slogan_read_back(image: Image.Image, slogan: str, language: str) -> tuple[float, str]:
    """Best share of the slogan read back from the image at feed width, and the text of that reading."""
    small = as_seen_in_feed(image)
    best = (-1.0, "")
    for mode in PAGE_MODES:
        text = read_text(small, language, mode)
        score = read_back(slogan, text, language)
        if score > best[0]:
            best = (score, text)
        if score >= 0.999:
            break
    return best
