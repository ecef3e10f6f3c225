"""Draw the branded overlay (logo, baseline, lower third) as one transparent RGBA image per frame and language.

The same PNG is pasted on photos and fed to ffmpeg's overlay filter for clips, so a
photo and a clip of one testimonial look the same. Text is shaped by raqm (Japanese line
breaking, right-to-left Arabic); fonts come from the brand folder, never the machine.
Everything drawn stays inside `brand.safe_margin`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from assets.branding import BrandAssets, OverlayText

BAND_ALPHA = 184  # of 255: readable text on any photo, the picture still shows through
NO_LINE_START = set("、。，．・：；？！ー）」』】〕〉》’”…")  # Japanese kinsoku: never start a line with these


@dataclass(frozen=True)
class Layout:
    """Where things go on a frame; `lower_top` tells subtitles where the lower third begins."""

    margin: int
    pad: int
    logo_height: int
    baseline_size: int
    name_size: int
    country_size: int
    lower_top: int


def layout(width: int, height: int, brand: BrandAssets) -> Layout:
    side = min(width, height)
    margin = max(1, round(brand.safe_margin * side))
    pad = max(2, round(0.018 * side))
    name_size = max(8, round(0.05 * side))
    country_size = max(7, round(0.034 * side))
    lower_h = pad * 2 + round(name_size * 1.3) + round(country_size * 1.3)
    return Layout(
        margin=margin,
        pad=pad,
        logo_height=max(6, round(0.08 * side)),
        baseline_size=max(7, round(0.034 * side)),
        name_size=name_size,
        country_size=country_size,
        lower_top=height - margin - lower_h,
    )


def raqm_available() -> bool:
    return bool(features.check("raqm"))


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    engine = ImageFont.Layout.RAQM if raqm_available() else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


def _shaping(text: str, language: str, script: str) -> dict[str, str]:
    if not raqm_available():
        return {}
    options = {"language": language if script != "latin" else "en"}
    if script == "arabic":
        options["direction"] = "rtl"
    elif script == "japanese":
        options["direction"] = "ltr"
    return options


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, shaping: dict[str, str], cjk: bool) -> list[str]:
    """Greedy line breaking: by words, or by characters (kinsoku-aware) for Japanese."""
    units = list(text) if cjk else text.split()
    joiner = "" if cjk else " "
    lines: list[str] = []
    current = ""
    for unit in units:
        candidate = current + joiner + unit if current else unit
        if font.getlength(candidate, **shaping) <= width or not current or (cjk and unit in NO_LINE_START):
            current = candidate
        else:
            lines.append(current)
            current = unit
    if current:
        lines.append(current)
    return lines


def build_overlay(width: int, height: int, brand: BrandAssets, text: OverlayText) -> Image.Image:
    """The transparent overlay for one frame size and language."""
    box = layout(width, height, brand)
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    band = _rgb(brand.band) + (BAND_ALPHA,)
    m, pad, rtl = box.margin, box.pad, text.rtl
    inner_w = width - 2 * m

    # Top band: logo and the baseline in the post's language.
    with Image.open(brand.logo) as raw:
        logo = raw.convert("RGBA")
    logo_h = box.logo_height
    logo_w = max(1, round(logo.width * logo_h / logo.height))
    if logo_w > inner_w // 3:
        logo_w = inner_w // 3
        logo_h = max(1, round(logo.height * logo_w / logo.width))
    logo = logo.resize((logo_w, logo_h), Image.Resampling.LANCZOS)
    font_path, script = brand.font_for(text.baseline, text.language)
    size = box.baseline_size
    text_w = inner_w - logo_w - 3 * pad
    while True:
        font = _font(str(font_path), size)
        shaping = _shaping(text.baseline, text.language, script)
        lines = _wrap(text.baseline, font, text_w, shaping, cjk=script == "japanese")
        if len(lines) <= 3 or size <= 7:
            break
        size -= 1
    line_h = round(size * 1.35)
    top_h = max(logo_h, len(lines) * line_h) + 2 * pad
    draw.rectangle([m, m, width - m - 1, m + top_h - 1], fill=band)
    logo_x = width - m - pad - logo_w if rtl else m + pad
    image.alpha_composite(logo, (logo_x, m + (top_h - logo_h) // 2))
    y = m + (top_h - len(lines) * line_h) // 2
    for line in lines:
        length = font.getlength(line, **shaping)
        x = logo_x - 2 * pad - length if rtl else m + 2 * pad + logo_w
        draw.text((x, y + (line_h - size) // 2), line, font=font, fill=_rgb(brand.text), **shaping)
        y += line_h

    # Lower third: speaker's name (brand colour) and country, with an accent bar.
    name_path, name_script = brand.font_for(text.name, text.language)
    country_path, country_script = brand.font_for(text.country, text.language)
    name_font = _fit(name_path, box.name_size, text.name, inner_w - 4 * pad, text.language, name_script)
    country_font = _fit(country_path, box.country_size, text.country, inner_w - 4 * pad, text.language, country_script)
    name_shaping = _shaping(text.name, text.language, name_script)
    country_shaping = _shaping(text.country, text.language, country_script)
    name_len = name_font.getlength(text.name, **name_shaping)
    country_len = country_font.getlength(text.country, **country_shaping)
    band_w = min(inner_w, round(max(name_len, country_len)) + 4 * pad)
    left = width - m - band_w if rtl else m
    bottom = height - m
    draw.rectangle([left, box.lower_top, left + band_w - 1, bottom - 1], fill=band)
    accent = max(2, pad // 2)
    accent_x = left + band_w - accent if rtl else left
    draw.rectangle([accent_x, box.lower_top, accent_x + accent - 1, bottom - 1], fill=_rgb(brand.primary) + (255,))
    y = box.lower_top + pad
    for label, font, length, shaping, colour, size in (
        (text.name, name_font, name_len, name_shaping, brand.primary, box.name_size),
        (text.country, country_font, country_len, country_shaping, brand.text, box.country_size),
    ):
        x = left + band_w - 2 * pad - length if rtl else left + 2 * pad
        draw.text((x, y), label, font=font, fill=_rgb(colour), **shaping)
        y += round(size * 1.3)
    return image


def _fit(path: Path, size: int, text: str, width: int, language: str, script: str) -> ImageFont.FreeTypeFont:
    """Largest font size up to `size` at which `text` fits on one line."""
    shaping = _shaping(text, language, script)
    while size > 7:
        font = _font(str(path), size)
        if font.getlength(text, **shaping) <= width:
            return font
        size -= 1
    return _font(str(path), size)


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def ensure_overlay(cache_dir: Path, fingerprint: str, width: int, height: int, brand: BrandAssets, text: OverlayText) -> Path:
    """The overlay PNG for this frame and text, drawn once and reused (photos, clips, later runs)."""
    path = cache_dir / f"{width}x{height}-{fingerprint[:20]}.png"
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    image = build_overlay(width, height, brand, text)
    handle, temp = tempfile.mkstemp(dir=cache_dir, suffix=".png.part")
    os.close(handle)
    image.save(temp, format="PNG", compress_level=1)
    os.replace(temp, path)  # atomic: two workers drawing the same overlay never see half a file
    return path
