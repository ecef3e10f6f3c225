"""Draw the branded overlay (logo, baseline, lower third) as one transparent RGBA image per frame and language.

The same PNG is pasted on photos and fed to ffmpeg's overlay filter for clips, so a
photo and a clip of one testimonial look the same. Text is shaped by raqm (Japanese line
breaking, right-to-left Arabic); fonts come from the brand folder, never the machine.

Sizes are set for the size people see the post at (a ~390 px wide phone feed, see
`assets.specs.FEED_WIDTH`), not for the file's pixels: a 1280x720 frame shows at 390x219,
so its text must be three times larger in the file than a 390 px design would suggest.
Each aspect ratio gets its own layout (`frame_kind`): a wide frame is not a 4:5 frame with
less height. Everything drawn stays inside `brand.safe_margin` and, on 9:16, out of the
zones Reels and Stories cover with their own interface (`assets.specs.SAFE_ZONES`).
`plan_overlay` is pure geometry (boxes of every element, tested against the zones);
`build_overlay` draws that plan.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from assets.branding import BrandAssets, OverlayText
from assets.linebreak import balanced_lines
from campaign.platforms import VARIANTS
from assets.specs import FEED_WIDTH, safe_insets

BAND_ALPHA = 216  # of 255: readable at 390 px on a busy photo (184 let bookshelves eat letters), the picture still shows
LOGO_GAP = 3  # pads between the logo and the slogan: an OCR engine (and an eye) must not read them as one line
# Targets in feed pixels (px at 390 px wide): above specs.MIN_SLOGAN_CAP_PX (10) and MIN_TEXT_CAP_PX (9) so that
# rounding never undercuts them, and enough above for Tesseract to read every sample variant at 390 px.
SLOGAN_CAP = {"portrait": 11.4, "square": 11.4, "tall": 11.4, "landscape": 11.6}
NAME_CAP = 10.4
COUNTRY_CAP = 9.6
SUBTITLE_CAP = 9.8
# Arabic letters are small for their em size: set them larger, as Arabic typography does next to Latin.
SCRIPT_SCALE = {"arabic": 1.2}
LINE_SPACING = 1.28
LOGO_LINES = {"portrait": 2.0, "square": 2.0, "tall": 2.0, "landscape": 1.6}  # logo height in slogan lines
MAX_SLOGAN_LINES = {"portrait": 3, "square": 3, "tall": 4, "landscape": 2}

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive)


@dataclass(frozen=True)
class Layout:
    """Where things go on a frame: the drawable area, the lower third, and where subtitles sit."""

    kind: str  # "portrait", "square", "landscape" or "tall" (9:16)
    area: Box  # nothing is drawn outside it (brand margin and the platforms' safe zones)
    unit: float  # file pixels per feed pixel
    pad: int
    lower_top: int  # top of the lower third; subtitles sit above it
    subtitle_bottom: int  # y of the subtitles' baseline block bottom
    subtitle_cap_px: float  # height of a subtitle capital letter in file pixels

    @property
    def margin(self) -> int:
        return self.area[0]


@dataclass(frozen=True)
class Element:
    """One stamped thing and its box, in frame pixels."""

    name: str  # "slogan band", "logo", "slogan", "lower band", "name", "country"
    box: Box


@dataclass(frozen=True)
class TextLine:
    text: str
    x: float  # left edge
    baseline: int
    font_path: str
    size: int
    script: str
    colour: str
    element: str


@dataclass(frozen=True)
class OverlayPlan:
    layout: Layout
    elements: tuple[Element, ...]
    lines: tuple[TextLine, ...]
    logo_box: Box
    slogan_size: int
    name_size: int
    country_size: int


def frame_kind(width: int, height: int) -> str:
    aspect = width / height
    if aspect < 0.7:
        return "tall"
    if aspect < 0.95:
        return "portrait"
    if aspect <= 1.1:
        return "square"
    return "landscape"


def variant_name_for(width: int, height: int) -> str | None:
    """The variant a frame is, by aspect ratio (tests render the real variants at a fraction of the size)."""
    for variant in VARIANTS.values():
        if abs(variant.aspect - width / height) < 0.01:
            return variant.name
    return None


def raqm_available() -> bool:
    return bool(features.check("raqm"))


@lru_cache(maxsize=128)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


@lru_cache(maxsize=8)
def cap_ratio(path: str) -> float:
    """Height of a capital H as a share of the font size (0.714 for Noto Sans)."""
    top, bottom = _font(path, 1000).getbbox("H")[1::2]
    return (bottom - top) / 1000 if bottom > top else 0.714


def _shaping(language: str, script: str) -> dict[str, str]:
    if not raqm_available():
        return {}
    options = {"language": language if script != "latin" else "en"}
    if script == "arabic":
        options["direction"] = "rtl"
    elif script == "japanese":
        options["direction"] = "ltr"
    return options


def size_for_cap(brand: BrandAssets, cap_px: float, script: str) -> int:
    """Font size whose capital letters are `cap_px` tall (em-based for scripts without capitals)."""
    ratio = cap_ratio(str(brand.fonts["latin"]))
    return max(6, math.ceil(cap_px / ratio * SCRIPT_SCALE.get(script, 1.0)))


def layout(width: int, height: int, brand: BrandAssets, text: OverlayText | None = None, variant_name: str | None = None) -> Layout:
    """The layout of a frame; with `text`, the lower third is placed for that text (else for a two-line one)."""
    if text is not None:
        return plan_overlay(width, height, brand, text, variant_name).layout
    return _frame(width, height, brand, variant_name, lower_h=None)


def _frame(width: int, height: int, brand: BrandAssets, variant_name: str | None, lower_h: int | None) -> Layout:
    kind = frame_kind(width, height)
    unit = width / FEED_WIDTH
    margin = max(1, round(brand.safe_margin * min(width, height)))
    zl, zt, zr, zb = safe_insets(variant_name or variant_name_for(width, height) or "")
    area = (
        max(margin, math.ceil(zl * width)),
        max(margin, math.ceil(zt * height)),
        width - max(margin, math.ceil(zr * width)),
        height - max(margin, math.ceil(zb * height)),
    )
    pad = max(2, round(4.5 * unit))
    if lower_h is None:
        lower_h = 2 * pad + round(NAME_CAP * unit / 0.714 * LINE_SPACING) + round(COUNTRY_CAP * unit / 0.714 * LINE_SPACING)
    lower_top = area[3] - lower_h
    return Layout(kind, area, unit, pad, lower_top, subtitle_bottom=lower_top - pad, subtitle_cap_px=SUBTITLE_CAP * unit)


def plan_overlay(width: int, height: int, brand: BrandAssets, text: OverlayText, variant_name: str | None = None) -> OverlayPlan:
    """Every element's place and size for this frame and text (pure: no drawing)."""
    frame = _frame(width, height, brand, variant_name, lower_h=0)
    kind, unit, pad, rtl = frame.kind, frame.unit, frame.pad, text.rtl
    left, top, right, bottom = frame.area
    area_w = right - left
    lines: list[TextLine] = []
    elements: list[Element] = []

    # --- Top band: logo and the baseline, the band sized to its text.
    font_path, script = brand.font_for(text.baseline, text.language)
    shaping = _shaping(text.language, script)
    target = size_for_cap(brand, SLOGAN_CAP[kind] * unit, script)
    with Image.open(brand.logo) as raw:
        logo_aspect = raw.width / raw.height
    slogan_lines: list[str] | None = None
    size = target
    for size in range(target, max(6, round(target * 0.6)) - 1, -1):  # shrink only if even the most lines do not fit
        line_h = round(size * LINE_SPACING)
        logo_h = min(round(LOGO_LINES[kind] * line_h), round(area_w / 4 / logo_aspect))
        logo_w = round(logo_h * logo_aspect)
        text_w = area_w - logo_w - (LOGO_GAP + 2) * pad
        font = _font(str(font_path), size)
        slogan_lines = balanced_lines(text.baseline, text_w, lambda s, f=font: f.getlength(s, **shaping),
                                      cjk=script == "japanese", max_lines=MAX_SLOGAN_LINES[kind])
        if slogan_lines is None and kind == "landscape":  # a long baseline: a third line before a smaller size
            slogan_lines = balanced_lines(text.baseline, text_w, lambda s, f=font: f.getlength(s, **shaping),
                                          cjk=script == "japanese", max_lines=3)
        if slogan_lines is not None:
            break
    if slogan_lines is None:
        slogan_lines = [text.baseline]
    font = _font(str(font_path), size)
    ascent, descent = _ink(font, slogan_lines, shaping)
    line_h = max(round(size * LINE_SPACING), ascent + descent + pad // 2)
    logo_h = min(round(LOGO_LINES[kind] * round(size * LINE_SPACING)), round(area_w / 4 / logo_aspect))
    logo_w = round(logo_h * logo_aspect)
    widths = [font.getlength(line, **shaping) for line in slogan_lines]
    text_block_w = math.ceil(max(widths))
    band_w = min(area_w, logo_w + text_block_w + (LOGO_GAP + 2) * pad)
    band_h = max(logo_h, len(slogan_lines) * line_h) + 2 * pad
    band_left = right - band_w if rtl else left
    band = (band_left, top, band_left + band_w, top + band_h)
    elements.append(Element("slogan band", band))
    logo_x = band[2] - pad - logo_w if rtl else band[0] + pad
    logo_box = (logo_x, top + (band_h - logo_h) // 2, logo_x + logo_w, top + (band_h - logo_h) // 2 + logo_h)
    elements.append(Element("logo", logo_box))
    y = top + (band_h - len(slogan_lines) * line_h) // 2
    for line, w in zip(slogan_lines, widths):
        x = logo_box[0] - LOGO_GAP * pad - w if rtl else logo_box[2] + LOGO_GAP * pad
        baseline = y + (line_h - ascent - descent) // 2 + ascent
        lines.append(TextLine(line, x, baseline, str(font_path), size, script, brand.text, "slogan"))
        elements.append(Element("slogan", (math.floor(x), baseline - ascent, math.ceil(x + w), baseline + descent)))
        y += line_h

    # --- Lower third: name (brand colour) and country; one line on wide frames when it fits.
    name_path, name_script = brand.font_for(text.name, text.language)
    country_path, country_script = brand.font_for(text.country, text.language)
    name_size = size_for_cap(brand, NAME_CAP * unit, name_script)
    country_size = size_for_cap(brand, COUNTRY_CAP * unit, country_script)
    name_font = _fit(name_path, name_size, text.name, area_w - 4 * pad, text.language, name_script)
    country_font = _fit(country_path, country_size, text.country, area_w - 4 * pad, text.language, country_script)
    name_size, country_size = name_font.size, country_font.size
    name_shaping, country_shaping = _shaping(text.language, name_script), _shaping(text.language, country_script)
    name_w = name_font.getlength(text.name, **name_shaping)
    country_w = country_font.getlength(text.country, **country_shaping)
    name_ink = _ink(name_font, [text.name], name_shaping)
    country_ink = _ink(country_font, [text.country], country_shaping)
    gap = 3 * pad
    name_h = max(round(name_size * LINE_SPACING), sum(name_ink) + pad // 2)
    country_h = max(round(country_size * LINE_SPACING), sum(country_ink) + pad // 2)
    one_line = kind == "landscape" and name_w + gap + country_w + 4 * pad <= area_w * 0.9
    if one_line:
        lower_w = math.ceil(name_w + gap + country_w) + 4 * pad
        lower_h = max(name_ink[0], country_ink[0]) + max(name_ink[1], country_ink[1]) + 2 * pad + pad // 2
    else:
        lower_w = math.ceil(max(name_w, country_w)) + 4 * pad
        lower_h = name_h + country_h + 2 * pad
    lower_w = min(area_w, lower_w)
    lower_left = right - lower_w if rtl else left
    lower = (lower_left, bottom - lower_h, lower_left + lower_w, bottom)
    elements.append(Element("lower band", lower))
    start = lower[2] - 2 * pad if rtl else lower[0] + 2 * pad  # text starts after the accent bar
    parts = [(text.name, name_path, name_size, name_script, brand.primary, "name", name_w, name_h, name_ink),
             (text.country, country_path, country_size, country_script, brand.text, "country", country_w, country_h, country_ink)]
    if one_line:
        up = max(name_ink[0], country_ink[0])
        down = max(name_ink[1], country_ink[1])
        baseline = lower[1] + (lower_h - up - down) // 2 + up  # one shared baseline
        x = start
        for label, path, sz, scr, colour, element, w, _h, (asc, desc) in parts:
            lx = x - w if rtl else x
            lines.append(TextLine(label, lx, baseline, str(path), sz, scr, colour, element))
            elements.append(Element(element, (math.floor(lx), baseline - asc, math.ceil(lx + w), baseline + desc)))
            x = x - w - gap if rtl else x + w + gap
    else:
        y = lower[1] + pad
        for label, path, sz, scr, colour, element, w, h, (asc, desc) in parts:
            lx = start - w if rtl else start
            baseline = y + (h - asc - desc) // 2 + asc
            lines.append(TextLine(label, lx, baseline, str(path), sz, scr, colour, element))
            elements.append(Element(element, (math.floor(lx), baseline - asc, math.ceil(lx + w), baseline + desc)))
            y += h
    final = Layout(kind, frame.area, unit, pad, lower[1], subtitle_bottom=lower[1] - pad, subtitle_cap_px=SUBTITLE_CAP * unit)
    return OverlayPlan(final, tuple(elements), tuple(lines), logo_box, size, name_size, country_size)


def build_overlay(width: int, height: int, brand: BrandAssets, text: OverlayText, variant_name: str | None = None) -> Image.Image:
    """The transparent overlay for one frame size and language."""
    plan = plan_overlay(width, height, brand, text, variant_name)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    band = _rgb(brand.band) + (BAND_ALPHA,)
    for element in plan.elements:
        if element.name in ("slogan band", "lower band"):
            l, t, r, b = element.box
            draw.rectangle([l, t, r - 1, b - 1], fill=band)
        if element.name == "lower band":  # accent bar in the brand colour on the reading side
            l, t, r, b = element.box
            accent = max(2, plan.layout.pad // 2)
            x = r - accent if text.rtl else l
            draw.rectangle([x, t, x + accent - 1, b - 1], fill=_rgb(brand.primary) + (255,))
    l, t, r, b = plan.logo_box
    rule = max(1, plan.layout.pad // 4)  # a thin rule between logo and slogan: two blocks, not one line
    gap_middle = (l - (LOGO_GAP * plan.layout.pad) // 2) if text.rtl else (r + (LOGO_GAP * plan.layout.pad) // 2)
    draw.rectangle([gap_middle - rule // 2, t, gap_middle - rule // 2 + rule - 1, b - 1], fill=_rgb(brand.primary) + (255,))
    with Image.open(brand.logo) as raw:
        logo = raw.convert("RGBA").resize((r - l, b - t), Image.Resampling.LANCZOS)
    image.alpha_composite(logo, (l, t))
    for line in plan.lines:
        font = _font(line.font_path, line.size)
        draw.text((line.x, line.baseline), line.text, font=font, fill=_rgb(line.colour), anchor="ls",
                  **_shaping(text.language, line.script))
    return image


def _ink(font: ImageFont.FreeTypeFont, lines: list[str], shaping: dict[str, str]) -> tuple[int, int]:
    """How far the ink of these lines reaches above and below the baseline (Arabic dots, Japanese, accents)."""
    up, down = 0, 0
    for line in lines:
        _, top, _, bottom = font.getbbox(line, anchor="ls", **shaping)
        up, down = max(up, -top), max(down, bottom)
    return up, down


def _fit(path: Path, size: int, text: str, width: int, language: str, script: str) -> ImageFont.FreeTypeFont:
    """Largest font size up to `size` at which `text` fits on one line."""
    shaping = _shaping(language, script)
    while size > 6:
        font = _font(str(path), size)
        if font.getlength(text, **shaping) <= width:
            return font
        size -= 1
    return _font(str(path), size)


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def ensure_overlay(cache_dir: Path, fingerprint: str, width: int, height: int, brand: BrandAssets, text: OverlayText,
                   variant_name: str | None = None) -> Path:
    """The overlay PNG for this frame and text, drawn once and reused (photos, clips, later runs)."""
    path = cache_dir / f"{width}x{height}-{fingerprint[:20]}.png"
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    image = build_overlay(width, height, brand, text, variant_name)
    handle, temp = tempfile.mkstemp(dir=cache_dir, suffix=".png.part")
    os.close(handle)
    image.save(temp, format="PNG", compress_level=1)
    os.replace(temp, path)  # atomic: two workers drawing the same overlay never see half a file
    return path
