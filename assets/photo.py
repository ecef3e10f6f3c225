"""Render every variant of one photo from a single decode.

Decode once (JPEG shrink-on-load when every target is at most half the source), apply the
EXIF orientation, bring any colour mode to sRGB RGB, crop around the focus, stamp the
overlay, save a metadata-free JPEG that fits every platform's byte limit.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from assets.focus import Focus, choose_focus, crop_box
from assets.specs import PLATFORMS, Variant
from campaign.errors import AssetError

Image.MAX_IMAGE_PIXELS = 120_000_000  # a 100 MP camera is fine; a decompression bomb is not
MIN_SCALE = 0.6  # the crop may be enlarged at most 1/0.6 = 1.67x before it looks soft
JPEG_QUALITY = 88
LOWEST_QUALITY = 60
# Box-reduce by an integer factor before Lanczos when the shrink is >= 2.2x: about twice as fast,
# and averaging whole pixel blocks is itself a proper anti-alias filter.
REDUCING_GAP = 1.1
UNSUPPORTED = {".heic": "HEIC (iPhone)", ".heif": "HEIF", ".raw": "camera RAW", ".cr2": "camera RAW", ".nef": "camera RAW",
               ".dng": "camera RAW", ".psd": "Photoshop", ".pdf": "PDF", ".svg": "SVG"}


@dataclass(frozen=True)
class PhotoTarget:
    """One output of this photo: frame, overlay to stamp, where to write, platforms it must satisfy."""

    variant: Variant
    overlay: Path
    output: Path
    platforms: tuple[str, ...]


@dataclass(frozen=True)
class PhotoOutcome:
    output: Path
    error: str | None = None  # why this variant was not rendered (the others still are)
    quality: int = JPEG_QUALITY


def open_photo(path: Path) -> Image.Image:
    """Open (not decode) a photo; AssetError with a fix for formats we cannot read."""
    kind = UNSUPPORTED.get(path.suffix.lower())
    if kind:
        raise AssetError(f"{path.name}: {kind} files are not supported — export the photo as JPEG or PNG")
    try:
        image = Image.open(path)
    except UnidentifiedImageError:
        raise AssetError(f"{path.name}: not an image we can read — export the photo as JPEG or PNG") from None
    except (OSError, Image.DecompressionBombError) as error:
        raise AssetError(f"{path.name}: cannot be opened ({error}) — export it again as JPEG or PNG") from None
    if getattr(image, "n_frames", 1) > 1 and image.format in ("GIF", "WEBP", "PNG"):
        image.close()
        raise AssetError(f"{path.name}: is an animation — give a still photo (JPEG or PNG), or a clip as MP4")
    return image


def oriented_size(image: Image.Image) -> tuple[int, int]:
    """Size as displayed, after the EXIF orientation is applied."""
    orientation = image.getexif().get(0x0112, 1)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size


def to_srgb(image: Image.Image) -> Image.Image:
    """Any mode (CMYK, 16-bit, palette with alpha, greyscale, ICC-tagged) to plain sRGB RGB."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        import numpy as np

        data = np.asarray(image, dtype=np.uint32)
        peak = 65535 if mode.startswith("I;16") or data.max() > 255 else 255
        image = Image.fromarray((data * 255 // peak).astype("uint8"))  # 2-D uint8 -> mode L
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to the plain conversion
    return image.convert("RGB")


def render_photo(source: Path, targets: list[PhotoTarget], manual_focus: tuple[float, float] | None) -> tuple[Focus, list[PhotoOutcome]]:
    """Render all targets of one photo. Raises AssetError when the source itself is unusable."""
    image = open_photo(source)
    try:
        full_w, full_h = oriented_size(image)
        outcomes: dict[Path, PhotoOutcome] = {}
        usable: list[tuple[PhotoTarget, float]] = []
        for target in targets:
            v = target.variant
            # The crop keeps the target's aspect, so its size does not depend on the focus.
            left, top, right, bottom = crop_box(full_w, full_h, v.width, v.height, 0.5, 0.5)
            scale = (right - left) / v.width
            if scale < MIN_SCALE:
                outcomes[target.output] = PhotoOutcome(
                    target.output,
                    f"the photo is {full_w}x{full_h}: too small for {v.name} {v.width}x{v.height} "
                    f"(the crop would be enlarged {1 / scale:.1f}x; at most {1 / MIN_SCALE:.2f}x) — supply a larger photo",
                )
            else:
                usable.append((target, scale))
        if not usable:
            return Focus(0.5, 0.5, "centre"), [outcomes[t.output] for t in targets]
        # Shrink on load: the smallest JPEG DCT scale that still gives every target enough pixels.
        smallest_scale = min(scale for _, scale in usable)
        if image.format == "JPEG" and smallest_scale >= 2:
            stored_w, stored_h = image.size
            image.draft("RGB", (math.ceil(stored_w / smallest_scale), math.ceil(stored_h / smallest_scale)))
        try:
            image.load()
            decoded = to_srgb(ImageOps.exif_transpose(image))
        except (OSError, SyntaxError, ValueError) as error:
            raise AssetError(f"{source.name}: the image data is damaged or truncated ({error}) — copy or export it again") from None
    finally:
        image.close()

    import numpy as np

    from assets.focus import DETECT_MAX_SIDE

    width, height = decoded.size
    small = decoded.reduce(max(1, max(width, height) // DETECT_MAX_SIDE)) if manual_focus is None else None
    focus = choose_focus(manual_focus, np.asarray(small) if small is not None else None)
    for target, _ in usable:
        v = target.variant
        box = crop_box(width, height, v.width, v.height, focus.x, focus.y)
        frame = decoded.resize((v.width, v.height), Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
        with Image.open(target.overlay) as overlay:
            overlay = overlay.convert("RGBA")
            frame.paste(overlay, (0, 0), overlay)
        outcomes[target.output] = _save(frame, target)
    return focus, [outcomes[t.output] for t in targets]


def _save(image: Image.Image, target: PhotoTarget) -> PhotoOutcome:
    """JPEG without metadata; lower the quality step by step until every platform's byte limit fits."""
    limit = min(PLATFORMS[p].image_max_bytes for p in target.platforms) if target.platforms else None
    quality = JPEG_QUALITY
    while True:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, subsampling="4:2:0")
        if limit is None or buffer.tell() <= limit:
            break
        if quality <= LOWEST_QUALITY:
            return PhotoOutcome(
                target.output, f"even at JPEG quality {quality} the file is {buffer.tell():,} bytes, over the {limit:,} limit", quality
            )
        quality -= 6
    write_atomic(target.output, buffer.getvalue())
    return PhotoOutcome(target.output, None, quality)


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(temp, 0o644)  # mkstemp makes it private; published files must be readable (web host, designers)
    os.replace(temp, path)
