"""Where to crop: keep the speaker's face in every aspect ratio.

A manual focus point from the calendar wins; otherwise OpenCV's Haar cascade (shipped in
opencv-python-headless 4.x, works offline) finds the largest face; otherwise the centre.
`crop_box` is pure arithmetic so it can be tested without images.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CASCADE = "haarcascade_frontalface_alt2.xml"
# Detection runs on a small copy: faster and just as good for Haar. 320 px finds the same faces as 640 px did in
# the sample photos and every test photo (centres within 0.02 of the frame; faces 16-93 % of the width), in
# under half the time (all those photos: 873 -> 388 ms; a 12 MP JPEG's search, DCT-scaled decode included,
# 91 -> 40 ms on a busy machine: the decode drops from 1/4 to 1/8 scale).
# The smallest face looked for is then 24 px of 320: a tenth of a 4:3 photo's short side (was 40 of 480).
DETECT_MAX_SIDE = 320


@dataclass(frozen=True)
class Focus:
    """A point to keep in frame, as fractions of width and height, and where it came from."""

    x: float
    y: float
    source: str  # "calendar", "face" or "centre"


CENTRE = Focus(0.5, 0.5, "centre")


def crop_box(src_w: int, src_h: int, dst_w: int, dst_h: int, fx: float, fy: float) -> tuple[int, int, int, int]:
    """The largest box of the target aspect inside the source, centred on (fx, fy) as far as the edges allow.

    Returns (left, top, right, bottom) in source pixels.
    """
    target = dst_w / dst_h
    if src_w / src_h > target:
        crop_h = src_h
        crop_w = min(src_w, max(1, round(src_h * target)))
    else:
        crop_w = src_w
        crop_h = min(src_h, max(1, round(src_w / target)))
    left = round(fx * src_w - crop_w / 2)
    top = round(fy * src_h - crop_h / 2)
    left = min(max(0, left), src_w - crop_w)
    top = min(max(0, top), src_h - crop_h)
    return left, top, left + crop_w, top + crop_h


_OPENCV_IMPORT = threading.Lock()


def opencv() -> Any:
    """The cv2 module, imported by one thread at a time.

    cv2's loader swaps modules in `sys.modules` while it starts (the native module under the
    package's name for a moment): a second thread importing cv2 in that instant gets the bare
    native module, without `cv2.data` (seen once in a test run: "module 'cv2' has no attribute
    'data'"). A photo's render imports it on two threads at once (the decode and the face search).
    """
    with _OPENCV_IMPORT:
        # cv2 costs 0.2 s of start-up (measured): imported only where a render process reads pixels
        import cv2
    return cv2


def detect_face(rgb) -> Focus | None:  # type: ignore[no-untyped-def]
    """Centre of the largest frontal face in an RGB numpy array, or None."""
    import numpy as np  # numpy costs 0.15 s of start-up (measured): imported where pixels are read

    cv2 = opencv()

    height, width = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(width, height))
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, int(width * scale)), max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)
    side = min(gray.shape[:2])
    faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(max(24, side // 12),) * 2)
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return Focus((x + w / 2) / gray.shape[1], (y + h / 2) / gray.shape[0], "face")


@lru_cache(maxsize=1)
def _cascade():  # type: ignore[no-untyped-def]
    cv2 = opencv()
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {CASCADE} could not be loaded — reinstall opencv-python-headless>=4.10,<5")
    return cascade


def choose_focus(manual: tuple[float, float] | None, rgb) -> Focus:  # type: ignore[no-untyped-def]
    """Manual point first, then a detected face, then the centre."""
    if manual is not None:
        return Focus(manual[0], manual[1], "calendar")
    return detect_face(rgb) or CENTRE
