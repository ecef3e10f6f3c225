"""Render every variant of one photo from a single decode.

Decode once (JPEG shrink-on-load when every target is at most half the source), apply the
EXIF orientation, bring any colour mode to sRGB RGB, crop around the focus, stamp the
overlay, save a metadata-free JPEG that fits every platform's byte limit. The decoded photo
is never copied; the overlays load while it decodes, and the variants render on two threads.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image, ImageCms, UnidentifiedImageError

from assets.focus import DETECT_MAX_SIDE, Focus, choose_focus, crop_box, opencv
from campaign.platforms import PLATFORMS, Variant
from campaign.errors import AssetError

# A 100 MP camera or a 14000x14000 scan is fine; a decompression bomb is not. Above this a photo is
# refused with a clear reason (open_photo checks it; Pillow's own warning is not shown to anyone).
# Decoding holds at most MAX_PHOTO_PIXELS x 4 bytes (800 MB) at once: formats without shrink-on-load
# are box-reduced right after decoding, before any conversion copies them (`upright`).
MAX_PHOTO_PIXELS = 200_000_000
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS  # Pillow raises DecompressionBombError at twice this
# Modes Image.reduce works on; others (palette, 16-bit) are converted first.
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "RGBa", "La", "CMYK", "I", "F"}
MIN_SCALE = 0.6  # the crop may be enlarged at most 1/0.6 = 1.67x before it looks soft
JPEG_QUALITY = 88
LOWEST_QUALITY = 60
# Shrinking (`shrink`): halve the crop with 2x2 box averages (OpenCV's INTER_AREA at exactly 1/2, a few ms for
# 12 MP) while at least 2.2x is left, then for the last step of 1.1-2.2x a Gaussian blur of sigma
# BLUR_SHARE x sqrt(s^2 - 1) source pixels (the anti-alias filter) and OpenCV's bilinear resize. Against Lanczos
# from the same crop, PSNR per frame: 41.6-50.5 dB on the 12 MP bench photo and 49.8-51.8 on the sample photos
# (OpenCV's INTER_AREA for that step, before: 41.0-48.1 and 50.6-51.7; a zone plate to Nyquist, the worst case
# for aliasing: 22-24 dB both, bilinear alone 16 at 2.2x), under the noise of the JPEG q88 the file gets anyway
# (34-38 and 43-45 dB), in a third of INTER_AREA's time at these fractional scales (12 MP, five frames: 24
# instead of 67 ms of CPU). Both read numpy views of the decoded photo.
BLUR_SHARE = 0.3  # of sqrt(s^2 - 1): 0.3 came closest to Lanczos of 0.3-0.6 on the bench and sample photos
REDUCING_GAP = 1.1
# Enlarging (a crop smaller than its frame, at most 1/MIN_SCALE): Pillow's bicubic, on a small photo anyway.
RESAMPLE = Image.Resampling.BICUBIC
# Threads per photo: Pillow releases the GIL while it decodes, resizes, pastes and encodes, so the
# variants of one photo render in parallel. 2 matches the 2-core machines; more does not help there.
PHOTO_THREADS = min(2, os.cpu_count() or 1)
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
    upscale: float = 1.0  # how much the crop was enlarged to fill the frame (> 1: softer than the frame promises)
    focus_at: tuple[float, float] | None = None  # where the focus point landed in the frame, as shares of it


def open_photo(path: Path) -> Image.Image:
    """Open (not decode) a photo; AssetError with a fix for formats we cannot read."""
    kind = UNSUPPORTED.get(path.suffix.lower())
    if kind:
        raise AssetError(f"{path.name}: {kind} files are not supported — export the photo as JPEG or PNG")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below, in words
            image = Image.open(path)
    except UnidentifiedImageError:
        raise AssetError(f"{path.name}: not an image we can read — export the photo as JPEG or PNG") from None
    except Image.DecompressionBombError:
        raise AssetError(f"{path.name}: is over {2 * MAX_PHOTO_PIXELS // 1_000_000} megapixels — "
                         "export it smaller (24 megapixels is plenty for every platform)") from None
    except OSError as error:
        raise AssetError(f"{path.name}: cannot be opened ({error}) — export it again as JPEG or PNG") from None
    width, height = image.size
    if width * height > MAX_PHOTO_PIXELS:
        image.close()
        raise AssetError(f"{path.name}: is {width}x{height}, {width * height / 1e6:.0f} megapixels; the largest photo taken is "
                         f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels — export it smaller (24 megapixels is plenty for every platform)")
    if getattr(image, "n_frames", 1) > 1 and image.format in ("GIF", "WEBP", "PNG"):
        image.close()
        raise AssetError(f"{path.name}: is an animation — give a still photo (JPEG or PNG), or a clip as MP4")
    return image


# EXIF orientation -> the transpose that shows the photo upright (the table of ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def orientation(image: Image.Image) -> int:
    """EXIF orientation (Pillow also reads an XMP tiff:Orientation); 1 means stored upright."""
    return image.getexif().get(0x0112, 1)


def oriented_size(image: Image.Image) -> tuple[int, int]:
    """Size as displayed, after the EXIF orientation is applied."""
    return (image.height, image.width) if orientation(image) in (5, 6, 7, 8) else image.size


def upright(image: Image.Image, reduce: int = 1) -> Image.Image:
    """Decode and turn as the EXIF orientation says: the pixels of ImageOps.exif_transpose.

    An upright photo (the common case) is not copied: the result shares the decoded pixels (Pillow's
    own `_new`, as its transpose and convert use), so the file can be closed without losing them.
    With `reduce` > 1 the decoded pixels are box-reduced by that factor first, so a huge PNG or TIFF
    is turned and converted at its reduced size (the caller closes `image`, freeing the full size).
    """
    method = _UPRIGHT.get(orientation(image))  # read before reducing: TIFF keeps it outside `info`
    image.load()
    if reduce > 1 and (image.mode in _REDUCIBLE or image.mode in ("P", "PA")):
        # Palette images are expanded first; 16-bit ones are left to to_srgb, which scales them properly.
        source = image if image.mode in _REDUCIBLE else image.convert("RGBA")
        # Pillow reduces images with alpha through a premultiplied full-size copy: those go band by band.
        reduced = _reduce_in_bands(source, reduce) if source.mode in ("RGBA", "LA") else source.reduce(reduce)
        if source is not image:
            source.close()
        return reduced.transpose(method) if method is not None else reduced
    return image.transpose(method) if method is not None else image._new(image.im)


def _reduce_in_bands(image: Image.Image, factor: int, band_blocks: int = 16) -> Image.Image:
    """`image.reduce(factor)` a band of rows at a time: the same pixels, without a second full-size copy.

    Pillow reduces RGBA and LA through a premultiplied copy of the whole image (twice the memory
    of a 196 MP decode); bands aligned on `factor` give exactly the same result in bounded memory.
    """
    width, height = image.size
    out = Image.new(image.mode, (-(-width // factor), -(-height // factor)))
    step = factor * band_blocks
    for top in range(0, height, step):
        band = image.crop((0, top, width, min(height, top + step)))
        out.paste(band.reduce(factor), (0, top // factor))
        band.close()
    out.info = dict(image.info)
    return out


def reduce_factor(image: Image.Image, smallest_scale: float) -> int:
    """How much a photo without shrink-on-load (PNG, TIFF, WebP) can be box-reduced right after decoding.

    Keeps at least twice the pixels of the largest crop, so the Lanczos resize that follows has
    the same quality; photos of ordinary size are not touched (factor 1).
    """
    if image.format == "JPEG":
        return 1  # JPEG shrinks while decoding (draft), which is better still
    return max(1, int(smallest_scale // 2))


def to_srgb(image: Image.Image) -> Image.Image:
    """Any mode (CMYK, 16-bit, palette with alpha, greyscale, ICC-tagged) to plain sRGB RGB."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # numpy costs 0.15 s of start-up (measured) that the CLI's commands never need: imported where pixels are read
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
    return image if image.mode == "RGB" else image.convert("RGB")  # RGB already: no copy (48 MB for 12 MP)


def render_photo(
    source: Path, targets: list[PhotoTarget], manual_focus: tuple[float, float] | None, threads: int | None = None,
    decode_for: tuple[Variant, ...] = (),
) -> tuple[Focus, list[PhotoOutcome]]:
    """Render all targets of one photo. Raises AssetError when the source itself is unusable.

    `decode_for` names every variant rendered from this photo when only some are rendered here
    (a render worker makes one): the photo is decoded at the scale all of them need, so each file
    is byte for byte the one a render of all of them in one process makes.

    With `threads` > 1 (default PHOTO_THREADS) the work overlaps: the overlay PNGs load while this
    thread decodes the photo and looks for a face, then the variants are resized, stamped and
    encoded in parallel (Pillow releases the GIL for all of these). Each file goes through exactly
    the same steps as with threads=1, so the bytes are the same.
    """
    # numpy costs 0.15 s of start-up (measured) that the CLI's commands never need: imported where pixels are read
    import numpy as np

    threads = threads or PHOTO_THREADS
    image = open_photo(source)
    pool = ThreadPoolExecutor(threads, thread_name_prefix="photo") if threads > 1 else None
    try:
        full_w, full_h = oriented_size(image)
        outcomes: dict[Path, PhotoOutcome] = {}
        usable: list[tuple[PhotoTarget, float]] = []
        for target in targets:
            v = target.variant
            scale = _scale(full_w, full_h, v)  # the crop keeps the target's aspect: its size does not depend on the focus
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
        # A JPEG's face is looked for in a second, small DCT-scaled decode of the same file, on the pool while
        # this thread decodes at full scale: the detection no longer waits for the big decode. Submitted first,
        # so that it does not queue behind the overlays.
        early_face = _run(pool, face_in_small_decode, source) if manual_focus is None and image.format == "JPEG" else None
        overlays = [_run(pool, load_overlay, target.overlay) for target, _ in usable]  # load while the photo decodes
        # Shrink on load: the smallest JPEG DCT scale that still gives every target enough pixels.
        smallest_scale = min([scale for _, scale in usable] + [s for s in (_scale(full_w, full_h, v) for v in decode_for)
                                                                 if s >= MIN_SCALE])
        pixels = jpeg_pixels(image, source, smallest_scale)
        if pixels is None and image.format == "JPEG" and smallest_scale >= 2:
            stored_w, stored_h = image.size
            image.draft("RGB", (math.ceil(stored_w / smallest_scale), math.ceil(stored_h / smallest_scale)))
        small = None  # where the face is looked for when no small decode of a JPEG did it
        if pixels is None:
            try:
                decoded = decode(image, source, reduce_factor(image, smallest_scale))
            finally:
                image.close()  # the file; `decoded` keeps the pixels
            if early_face is None and manual_focus is None:
                small = np.asarray(decoded.reduce(max(1, max(decoded.size) // DETECT_MAX_SIDE)))
            # The pixels as one numpy array (the one copy of the decoded photo; the Pillow image is freed): every
            # crop is a view of it, which OpenCV resizes without copying.
            pixels = np.asarray(decoded)
            decoded.close()
        focus = early_face.result() if early_face is not None else choose_focus(manual_focus, small)
        # The biggest resize first (the 9:16 frame of a 12 MP photo works on 5 MP, the others on about 2 after
        # halving): the two threads then end together instead of one finishing it alone.
        height, width = pixels.shape[:2]
        boxes = [frame_box((width, height), t.variant.width, t.variant.height, focus) for t, _ in usable]
        order = sorted(range(len(usable)), key=lambda i: -_resize_work(boxes[i], usable[i][0].variant))
        futures = {i: _run(pool, _render_variant, pixels, boxes[i], focus, usable[i][0], overlays[i]) for i in order}
        rendered = [futures[i] for i in range(len(usable))]
        for (target, scale), outcome in zip(usable, rendered):
            result = outcome.result()
            outcomes[target.output] = replace(result, upscale=1 / scale) if scale < 1 else result
        return focus, [outcomes[t.output] for t in targets]
    finally:
        image.close()  # again is harmless
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)  # after an error, nothing keeps running


def decode(image: Image.Image, source: Path, reduce: int = 1) -> Image.Image:
    """The photo's pixels, upright and in sRGB; AssetError when its data is damaged or cut short."""
    try:
        return to_srgb(upright(image, reduce))
    except (OSError, SyntaxError, ValueError) as error:
        raise AssetError(f"{source.name}: the image data is damaged or truncated ({error}) — copy or export it again") from None


# EXIF orientation -> the OpenCV operation that turns a decoded array upright (the same pixels as _UPRIGHT).
_UPRIGHT_CV = {2: ("flip", 1), 3: ("rotate", 1), 4: ("flip", 0), 5: ("transpose", None), 6: ("rotate", 0),
               7: ("transverse", None), 8: ("rotate", 2)}  # rotate codes: 0 ROTATE_90_CLOCKWISE, 1 ROTATE_180, 2 COUNTERCLOCKWISE


def draft_factor(size: tuple[int, int], scale: float) -> int:
    """The JPEG DCT scaling (1, 2, 4 or 8) Pillow's `draft` picks for a decode at 1/`scale` of `size`: the largest
    power of two that still leaves every frame its full detail (the fast IDCTs; libjpeg-turbo's other eighths
    decode slower than the full size, measured)."""
    if scale < 2:
        return 1
    width, height = size
    most = min(width // math.ceil(width / scale), height // math.ceil(height / scale))
    return next(factor for factor in (8, 4, 2, 1) if most >= factor)


def jpeg_pixels(image: Image.Image, source: Path, scale: float = 1.0):  # type: ignore[no-untyped-def]
    """A plain JPEG decoded straight into an upright RGB numpy array at the DCT scale `draft_factor` picks for
    `scale`, or None for the others.

    libjpeg-turbo through simplejpeg: exactly the pixels of Pillow's decode (and of its `draft` at the same
    scale; tests/assets/test_asset_photo_threads.py compares them for every EXIF orientation), without the copy
    `np.asarray` makes of a Pillow image (27 ms for 12 MP), and faster than Pillow's and OpenCV's decoders
    (12 MP on this machine: 28 ms against 45 and 53-61: their row-by-row paths). Only YCbCr or greyscale
    JPEGs without an ICC profile, whose data ends with the End Of Image marker: a truncated file, CMYK, a colour
    profile and every other format go through `decode` (Pillow), which refuses damaged data and converts
    colour properly.
    """
    if image.format != "JPEG" or image.mode not in ("RGB", "L") or image.info.get("icc_profile"):
        return None
    import numpy as np  # numpy costs 0.15 s of start-up (measured): imported where pixels are read
    import simplejpeg

    data = np.fromfile(source, dtype=np.uint8)
    if data.size < 4 or data[-2] != 0xFF or data[-1] != 0xD9:
        return None  # cut short (or trailing bytes): Pillow decides
    width, height = image.size
    factor = draft_factor((width, height), scale)
    try:
        pixels = simplejpeg.decode_jpeg(data, "RGB", min_width=math.ceil(width / factor), min_height=math.ceil(height / factor))
    except ValueError:
        return None  # damaged: Pillow says what is wrong
    if pixels.shape[:2] != (math.ceil(height / factor), math.ceil(width / factor)):
        return None
    cv2 = opencv()
    how, code = _UPRIGHT_CV.get(orientation(image), (None, None))
    if how == "flip":
        return cv2.flip(pixels, code)
    if how == "rotate":
        return cv2.rotate(pixels, code)
    if how == "transpose":
        return cv2.transpose(pixels)
    if how == "transverse":
        return cv2.rotate(cv2.transpose(pixels), cv2.ROTATE_180)
    return pixels


def face_in_small_decode(source: Path) -> Focus:
    """The face (or the centre) in a JPEG decoded at the DCT scale nearest above the detection size.

    Opens the file once more: a DCT-scaled decode costs a fifth of the full one, and runs while the
    full decode does (render_photo), so finding the face adds almost nothing to a photo's time.
    """
    # numpy costs 0.15 s of start-up (measured) that the CLI's commands never need: imported where pixels are read
    import numpy as np

    image = open_photo(source)
    try:
        width, height = image.size
        factor = max(1, max(width, height) // DETECT_MAX_SIDE)
        image.draft("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
        small = decode(image, source)
    finally:
        image.close()
    return choose_focus(None, np.asarray(small))


def check_photo_source(source: Path) -> tuple[int, int]:
    """Open and decode a photo as `render_photo` does (small: JPEG shrink-on-load to about 1/8),
    so a broken or unsupported file is refused the moment it arrives; its upright size."""
    image = open_photo(source)
    try:
        size = oriented_size(image)
        if image.format == "JPEG":
            image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
        decode(image, source, reduce_factor(image, 8.0)).close()
        return size
    finally:
        image.close()


def _scale(width: int, height: int, variant: Variant) -> float:
    """How many source pixels the variant's crop has per frame pixel."""
    left, _, right, _ = crop_box(width, height, variant.width, variant.height, 0.5, 0.5)
    return (right - left) / variant.width


def _run(pool: ThreadPoolExecutor | None, function, *args) -> Future:  # type: ignore[no-untyped-def,type-arg]
    """Submit to the pool, or with no pool (threads=1) run now: same function, same inputs, same result."""
    if pool is not None:
        return pool.submit(function, *args)
    future: Future = Future()  # type: ignore[type-arg]
    try:
        future.set_result(function(*args))
    except Exception as error:  # raised again by .result(), as a pool's future would
        future.set_exception(error)
    return future


@dataclass(frozen=True)
class Stamp:
    """An overlay cut to the box of its visible pixels, and where that box sits in the frame: pasting only the
    box gives the same frame (a transparent pixel changes nothing) for 40-60 % of the work, as a brand overlay
    leaves most of the frame clear."""

    image: Image.Image  # RGBA
    at: tuple[int, int]


def load_overlay(path: Path) -> Stamp | None:
    """The overlay PNG decoded as RGBA and cut to its visible box (None: nothing to stamp)."""
    with Image.open(path) as overlay:
        overlay.load()
        rgba = overlay._new(overlay.im) if overlay.mode == "RGBA" else overlay.convert("RGBA")
    box = rgba.getbbox()  # of the alpha channel: the pixels the paste changes
    if box is None:
        return None
    return Stamp(rgba if box == (0, 0, *rgba.size) else rgba.crop(box), box[:2])


def halvings(box: tuple[int, int, int, int], width: int, height: int) -> int:
    """How many times `shrink` halves this crop before its last step: while at least 2.2x (2 x REDUCING_GAP) is left."""
    scale = min((box[2] - box[0]) / width, (box[3] - box[1]) / height)
    count = 0
    while scale / 2 ** (count + 1) >= REDUCING_GAP:
        count += 1
    return count


def halvable_box(box: tuple[int, int, int, int], count: int) -> tuple[int, int, int, int]:
    """The crop trimmed to a multiple of 2**count pixels each way (the trim split between both sides), so every
    halving averages whole 2x2 blocks. At most 2**count - 1 pixels of a side of thousands: the aspect moves by
    under 0.15 % (12 MP photo: 1 pixel in 2419), less than anyone sees, and the focus stays centred."""
    left, top, right, bottom = box
    block = 2 ** count
    trim_w, trim_h = (right - left) % block, (bottom - top) % block
    left, top = left + trim_w // 2, top + trim_h // 2
    return left, top, right - (trim_w - trim_w // 2), bottom - (trim_h - trim_h // 2)


def shrink(pixels, box: tuple[int, int, int, int], width: int, height: int) -> Image.Image:  # type: ignore[no-untyped-def]
    """The crop `box` of an RGB numpy array resized to width x height: halvings by 2x2 box averages, then a Gaussian
    blur and OpenCV's bilinear resize (see BLUR_SHARE), or Pillow's bicubic when the crop is smaller than the
    frame. Pure: the same array and box give the same pixels, on any thread."""
    cv2 = opencv()  # imported at first use (0.2 s of start-up), one thread at a time

    left, top, right, bottom = box
    crop = pixels[top:bottom, left:right]
    if right - left < width or bottom - top < height:  # enlarged: the photo is small, Pillow's bicubic is cheap
        return Image.fromarray(crop).resize((width, height), RESAMPLE)
    for _ in range(halvings(box, width, height)):
        crop = cv2.resize(crop, (crop.shape[1] // 2, crop.shape[0] // 2), interpolation=cv2.INTER_AREA)
    scale_x, scale_y = crop.shape[1] / width, crop.shape[0] / height
    if scale_x > 1 or scale_y > 1:
        sigma_x, sigma_y = (BLUR_SHARE * math.sqrt(max(0.0, s * s - 1)) for s in (scale_x, scale_y))
        crop = cv2.GaussianBlur(crop, (0, 0), sigmaX=max(sigma_x, 1e-3), sigmaY=max(sigma_y, 1e-3))
    return Image.fromarray(cv2.resize(crop, (width, height), interpolation=cv2.INTER_LINEAR))


def frame_box(size: tuple[int, int], width: int, height: int, focus: Focus) -> tuple[int, int, int, int]:
    """The crop a frame is made from: crop_box around the focus, trimmed for the halvings `shrink` makes."""
    box = crop_box(size[0], size[1], width, height, focus.x, focus.y)
    return halvable_box(box, halvings(box, width, height))


def _resize_work(box: tuple[int, int, int, int], variant: Variant) -> int:
    """Source pixels the last resize step of a frame reads: what its time grows with."""
    return (box[2] - box[0]) * (box[3] - box[1]) // 4 ** halvings(box, variant.width, variant.height)


def _render_variant(pixels, box: tuple[int, int, int, int], focus: Focus, target: PhotoTarget,  # type: ignore[no-untyped-def]
                    overlay: Future) -> PhotoOutcome:  # type: ignore[type-arg]
    """Crop `box` (its `frame_box` around the focus), resize, stamp the overlay, save. Only reads its inputs:
    safe in parallel."""
    v = target.variant
    height, width = pixels.shape[:2]
    frame = shrink(pixels, box, v.width, v.height)
    stamp = overlay.result()
    if stamp is not None:
        frame.paste(stamp.image, stamp.at, stamp.image)
    left, top, right, bottom = box
    at = ((focus.x * width - left) / (right - left), (focus.y * height - top) / (bottom - top))
    return replace(_save(frame, target), focus_at=at)


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
