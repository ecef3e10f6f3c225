"""Is a brand file usable? The logo must be a whole image and each font a font that has the
letters of its script, so a broken brand file is named at `validate`, not blamed on a photo
at `render` time (every stamped asset uses them).
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

from PIL import Image, UnidentifiedImageError

#: A letter each script's font must have (the baseline in that script needs at least it).
PROBE = {"latin": "B", "japanese": "日", "arabic": "ب"}
MIN_LOGO_SIDE = 16  # pixels; smaller is a placeholder or an icon, not a logo


def logo_problem(path: Path) -> str | None:
    """Why the logo cannot be stamped, or None."""
    try:
        with Image.open(path) as image:
            image.load()  # decodes every byte: a truncated file fails here, not at render time
            width, height = image.size
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as error:
        return f"the logo {path.name} is not a readable image ({_short(error)}) — export it again as a PNG with transparency"
    if min(width, height) < MIN_LOGO_SIDE:
        return f"the logo {path.name} is {width}×{height} pixels — use a logo at least {MIN_LOGO_SIDE} px on each side (ideally 512+)"
    return None


def font_problem(path: Path, script: str, text: str = "") -> str | None:
    """Why the font cannot stamp `script` (and the characters of `text`), or None."""
    try:
        stat = path.stat()
    except OSError as error:
        return f"the font {path.name} cannot be read ({_short(error)}) — check the path and its permissions"
    loaded = _font_letters(str(path), stat.st_mtime_ns, stat.st_size)
    if isinstance(loaded, str):
        return f"the font {path.name} cannot be loaded ({loaded}) — use a .ttf or .otf font file (e.g. from Noto)"
    cmap = loaded
    wanted = {PROBE.get(script, "B")} | {c for c in text if c.isalpha()}
    missing = sorted(c for c in wanted if ord(c) not in cmap)
    if missing:
        shown = "".join(missing[:12]) + ("…" if len(missing) > 12 else "")
        return (f"the font {path.name} has no letters for {shown!r} ({script} text it must stamp) — use a font that covers "
                f"{script} (e.g. Noto Sans {'JP' if script == 'japanese' else 'Arabic' if script == 'arabic' else ''})").replace("Sans )", "Sans)")
    return None


@lru_cache(maxsize=16)
def _font_letters(path: str, _mtime_ns: int, _size: int) -> frozenset[int] | str:
    """The code points a font has, or why it cannot be loaded (cached per file version: the
    Japanese font is 14 MB, and every command checks it)."""
    # fontTools costs 0.1-0.25 s of start-up (measured): imported only when font files are read
    from fontTools.ttLib import TTFont, TTLibError
    from PIL import ImageFont

    try:
        ImageFont.truetype(path, 24).getbbox("B")
        with TTFont(path, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, ValueError, KeyError, AssertionError, IndexError, struct.error) as error:
        return _short(error)


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 120 else text[:117] + "…"
