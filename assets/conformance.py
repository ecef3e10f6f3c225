"""Check a rendered file against every platform it will be posted to (campaign.platforms is the table).

A file that breaks a platform's rule fails here, at render time, instead of as an upload
error months later. One variant can serve several platforms, so each is checked.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from assets.probe import moov_before_mdat, probe
from campaign.errors import AssetError
from campaign.platforms import PLATFORMS, Variant

ASPECT_TOLERANCE = 0.01


def check_photo(path: Path, variant: Variant, platforms: tuple[str, ...]) -> list[str]:
    """Problems of a rendered photo (empty when it conforms everywhere)."""
    problems: list[str] = []
    size = path.stat().st_size
    with Image.open(path) as image:
        fmt = (image.format or "").lower()
        width, height = image.size
        mode = image.mode
        has_exif = bool(image.getexif())
    if (width, height) != (variant.width, variant.height):
        problems.append(f"is {width}x{height}, the {variant.name} frame is {variant.width}x{variant.height}")
    if mode != "RGB":
        problems.append(f"colour mode is {mode}, platforms expect sRGB RGB")
    if has_exif:
        problems.append("still carries EXIF metadata (could leak GPS)")
    for name in platforms:
        spec = PLATFORMS[name]
        if fmt not in spec.image_formats:
            problems.append(f"{name}: format {fmt} not accepted ({', '.join(spec.image_formats)})")
        if size > spec.image_max_bytes:
            problems.append(f"{name}: {size:,} bytes, the limit is {spec.image_max_bytes:,}")
        if spec.image_max_pixels and width * height > spec.image_max_pixels:
            problems.append(f"{name}: {width * height:,} pixels, the limit is {spec.image_max_pixels:,}")
        if spec.image_aspect and not _within(width / height, spec.image_aspect):
            problems.append(f"{name}: aspect {width / height:.3f} outside {spec.image_aspect[0]:.2f}-{spec.image_aspect[1]:.2f}")
    return problems


def check_clip(path: Path, variant: Variant, platforms: tuple[str, ...], expected_seconds: float | None = None) -> list[str]:
    """Problems of a rendered clip: frame, codecs, pixel format, frame rate, audio, duration, size, faststart."""
    problems: list[str] = []
    try:
        info = probe(path, decode_first_frame=True)
    except AssetError as error:
        return [f"the rendered file cannot be read back: {error}"]
    size = path.stat().st_size
    if (info.width, info.height) != (variant.width, variant.height):
        problems.append(f"is {info.width}x{info.height}, the {variant.name} frame is {variant.width}x{variant.height}")
    if info.video_codec != "h264":
        problems.append(f"video codec is {info.video_codec}, platforms expect H.264")
    if info.pix_fmt != "yuv420p":
        problems.append(f"pixel format is {info.pix_fmt}, platforms expect yuv420p")
    if info.audio_codec != "aac":
        problems.append(f"audio codec is {info.audio_codec or 'missing'}, platforms expect AAC")
    elif info.audio_rate != 48000 or info.audio_channels != 2:
        problems.append(f"audio is {info.audio_rate} Hz x{info.audio_channels}, expected 48000 Hz stereo")
    if not moov_before_mdat(path):
        problems.append("the MP4 index (moov) is after the media data: not +faststart")
    if expected_seconds is not None and abs(info.duration - expected_seconds) > 0.25:
        problems.append(
            f"lasts {info.duration:.2f} s but the source should give {expected_seconds:.2f} s — the source is probably truncated"
        )
    for name in platforms:
        spec = PLATFORMS[name]
        if size > spec.video_max_bytes:
            problems.append(f"{name}: {size:,} bytes, the limit is {spec.video_max_bytes:,}")
        if not spec.video_min_seconds - 0.05 <= info.duration <= spec.video_max_seconds + 0.05:
            problems.append(f"{name}: lasts {info.duration:.2f} s, allowed {spec.video_min_seconds:g}-{spec.video_max_seconds:g} s")
        if not spec.video_min_fps - 0.01 <= info.fps <= spec.video_max_fps + 0.01:
            problems.append(f"{name}: {info.fps:.2f} fps, allowed {spec.video_min_fps:g}-{spec.video_max_fps:g}")
        if spec.video_max_width and info.width > spec.video_max_width:
            problems.append(f"{name}: {info.width} px wide, the limit is {spec.video_max_width}")
        if spec.video_max_height and info.height > spec.video_max_height:
            problems.append(f"{name}: {info.height} px high, the limit is {spec.video_max_height}")
        if spec.video_aspect and not _within(info.width / info.height, spec.video_aspect):
            problems.append(f"{name}: aspect {info.width / info.height:.3f} outside {spec.video_aspect[0]:.3f}-{spec.video_aspect[1]:.3f}")
        if info.audio_rate > spec.audio_max_rate:
            problems.append(f"{name}: audio at {info.audio_rate} Hz, the limit is {spec.audio_max_rate}")
    return problems


def _within(value: float, bounds: tuple[float, float]) -> bool:
    low, high = bounds
    return low * (1 - ASPECT_TOLERANCE) <= value <= high * (1 + ASPECT_TOLERANCE)
