"""The fast photo path (threads, no extra copies of the decoded photo) writes the same bytes as the plain path."""

from __future__ import annotations

import io
import math
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from assets.focus import DETECT_MAX_SIDE, choose_focus
from assets.photo import PhotoTarget, frame_box, jpeg_pixels, load_overlay, open_photo, render_photo, shrink, to_srgb, upright
from campaign.platforms import VARIANTS
from campaign.errors import AssetError
from testkit.assets import face_photo

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow

# Orientation -> how to store an upright picture so that a viewer applying the EXIF tag shows it upright.
STORE = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
         5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270}


def make_overlays(folder: Path) -> dict[str, Path]:
    """An RGBA overlay per real frame: opaque logo box, half-transparent lower band, soft edge."""
    paths = {}
    for name, v in VARIANTS.items():
        overlay = Image.new("RGBA", (v.width, v.height), (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        draw.rectangle([40, 40, 240, 120], fill=(253, 218, 36, 255))
        draw.rectangle([0, v.height * 2 // 3, v.width, v.height - 40], fill=(17, 17, 17, 150))
        draw.text((60, v.height * 2 // 3 + 20), "Ana Lima — Brazil", fill=(255, 255, 255, 255))
        paths[name] = folder / f"{name}.png"
        overlay.save(paths[name], compress_level=1)
    return paths


def targets(overlays: dict[str, Path], out: Path) -> list[PhotoTarget]:
    return [PhotoTarget(VARIANTS[n], overlays[n], out / f"{n}.jpg", ("outbox",)) for n in VARIANTS]


def plain_render(source: Path, overlays: dict[str, Path], manual_focus: tuple[float, float] | None) -> dict[str, bytes]:
    """The straightforward way, one step after the other: Pillow's decode, exif_transpose + convert copies,
    detection on a second decode of the JPEG, DCT-scaled to about the detection size, then per frame the crop
    resized by `shrink` from a numpy copy of the photo, the overlay opened and converted, JPEG q88."""
    with Image.open(source) as image:
        image.load()
        decoded = ImageOps.exif_transpose(image).convert("RGB")
    with Image.open(source) as image:
        factor = max(1, max(image.size) // DETECT_MAX_SIDE)
        image.draft("RGB", (math.ceil(image.width / factor), math.ceil(image.height / factor)))
        small = ImageOps.exif_transpose(image).convert("RGB")
    focus = choose_focus(manual_focus, np.asarray(small) if manual_focus is None else None)
    pixels = np.array(decoded)
    files = {}
    for name, v in VARIANTS.items():
        frame = shrink(pixels, frame_box(decoded.size, v.width, v.height, focus), v.width, v.height)
        with Image.open(overlays[name]) as overlay:
            overlay = overlay.convert("RGBA")
            frame.paste(overlay, (0, 0), overlay)
        buffer = io.BytesIO()
        frame.save(buffer, format="JPEG", quality=88, subsampling="4:2:0")
        files[name] = buffer.getvalue()
    return files


def finishes(action, seconds: float = 60):  # type: ignore[no-untyped-def]
    """Run `action` in a thread: a deadlock fails the test instead of hanging the suite."""
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = action()
        except BaseException as error:  # noqa: BLE001
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "render_photo did not return (deadlock?)"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result["value"]


@pytest.mark.parametrize("orientation", [1, 6])  # as stored, and turned on decode (all 8: the upright test)
def test_threaded_render_writes_the_same_bytes_as_sequential_and_as_the_plain_path(tmp_path: Path, orientation: int) -> None:
    overlays = make_overlays(tmp_path)
    # 16:9, large enough that the 16:9 and 1.91:1 frames are box-reduced first (reducing_gap); the face is
    # off-centre, so the crops depend on where it is found
    shown = face_photo(3200, 1800, face_x=0.8, face_y=0.45)
    method = STORE[orientation]
    stored = shown.transpose(method) if method is not None else shown
    exif = Image.Exif()
    exif[0x0112] = orientation
    source = tmp_path / "ana.jpg"
    stored.save(source, quality=92, exif=exif)

    runs = {}
    for label, threads in (("sequential", 1), ("threaded", 2), ("threaded again", 2), ("four threads", 4)):
        focus, outcomes = finishes(lambda threads=threads, label=label: render_photo(source, targets(overlays, tmp_path / label), None, threads=threads))
        assert focus.source == "face" and focus.x > 0.6, "the off-centre face is found, whatever the EXIF orientation"
        assert [o.error for o in outcomes] == [None] * len(VARIANTS)
        runs[label] = (focus, {n: (tmp_path / label / f"{n}.jpg").read_bytes() for n in VARIANTS})
    assert runs["threaded"] == runs["sequential"] == runs["threaded again"] == runs["four threads"]
    assert runs["sequential"][1] == plain_render(source, overlays, None), "same bytes as exif_transpose + convert, one by one"


def test_manual_focus_and_a_frame_too_big_keep_their_place_with_threads(tmp_path: Path) -> None:
    overlays = make_overlays(tmp_path)
    source = tmp_path / "small.jpg"
    face_photo(1400, 1000).save(source, quality=92)  # 1000 high: 9:16 would need 1920 x 0.6 = 1152
    results = {}
    for threads in (1, 2):
        focus, outcomes = render_photo(source, targets(overlays, tmp_path / str(threads)), (0.2, 0.5), threads=threads)
        assert focus.source == "calendar"
        errors = [o.error for o in outcomes]
        assert errors[list(VARIANTS).index("story_9x16")] is not None and "too small for story_9x16" in errors[1]
        assert errors.count(None) == len(VARIANTS) - 1, "the other frames are rendered"
        assert not (tmp_path / str(threads) / "story_9x16.jpg").exists()
        results[threads] = [(o.output.name, o.error, o.quality) for o in outcomes], {
            n: (tmp_path / str(threads) / f"{n}.jpg").read_bytes() for n in VARIANTS if n != "story_9x16"}
    assert results[1] == results[2]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_gives_the_pixels_of_exif_transpose_without_keeping_the_file(tmp_path: Path, orientation: int) -> None:
    rng = np.random.default_rng(orientation)
    picture = Image.fromarray(rng.integers(0, 256, (60, 90, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    picture.save(tmp_path / "p.png", exif=exif)  # lossless: compare exact pixels
    with Image.open(tmp_path / "p.png") as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    image = Image.open(tmp_path / "p.png")
    turned = to_srgb(upright(image))
    image.close()  # the file is closed as render_photo does: the decoded pixels must still be usable
    assert turned.mode == "RGB"
    assert np.array_equal(np.asarray(turned), expected)


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_jpeg_decodes_to_the_pixels_pillow_gives_in_every_orientation_and_dct_scale(tmp_path: Path, mode: str) -> None:
    """render_photo decodes plain JPEGs with simplejpeg (jpeg_pixels): exactly Pillow's pixels, turned upright as
    exif_transpose turns them, at full size and at the DCT scale Pillow's `draft` picks for the same shrink;
    a file cut short is left to Pillow, which refuses it."""
    shown = face_photo(331, 217).convert(mode)  # odd sizes: a wrong turn or a wrong rounding cannot hide
    for orientation, method in STORE.items():
        exif = Image.Exif()
        exif[0x0112] = orientation
        source = tmp_path / f"o{orientation}.jpg"
        (shown.transpose(method) if method is not None else shown).save(source, quality=90, exif=exif, progressive=orientation == 3)
        for scale in (1.0, 1.9, 2.0, 3.3, 4.5, 9.0):
            with Image.open(source) as image:
                if scale >= 2:  # the shrink on load render_photo asked Pillow for before
                    image.draft("RGB", (math.ceil(image.width / scale), math.ceil(image.height / scale)))
                expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
            image = open_photo(source)
            pixels = jpeg_pixels(image, source, scale)
            image.close()
            assert pixels is not None and pixels.shape == expected.shape and np.array_equal(pixels, expected), (orientation, scale)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes((tmp_path / "o1.jpg").read_bytes()[:-200])
    image = open_photo(cut)
    assert jpeg_pixels(image, cut) is None
    image.close()


def test_an_overlay_is_stamped_from_its_visible_box_with_the_pixels_of_a_whole_frame_paste(tmp_path: Path) -> None:
    """load_overlay cuts the overlay to its visible pixels; pasting that box where it sits gives the frame a
    paste of the whole overlay gives, soft edges included; a fully transparent overlay stamps nothing."""
    overlays = make_overlays(tmp_path)
    v = VARIANTS["story_9x16"]
    frame = face_photo(v.width, v.height)
    whole = Image.open(overlays["story_9x16"]).convert("RGBA")
    expected = frame.copy()
    expected.paste(whole, (0, 0), whole)
    stamp = load_overlay(overlays["story_9x16"])
    assert stamp is not None and stamp.at == (0, 40) and stamp.image.height < whole.height - 70  # the clear rows are cut
    stamped = frame.copy()
    stamped.paste(stamp.image, stamp.at, stamp.image)
    assert stamped.tobytes() == expected.tobytes()
    clear = tmp_path / "clear.png"
    Image.new("RGBA", (v.width, v.height), (255, 255, 255, 0)).save(clear)
    assert load_overlay(clear) is None


def test_the_resize_differs_from_lanczos_less_than_the_jpeg_noise_the_file_gets() -> None:
    """`shrink` (2x2 box halvings, then blur + bilinear) against Pillow's Lanczos from the same crop, in PSNR, on a
    sample photo: above the PSNR of a q88 JPEG of the Lanczos frame (the noise every published file gets)."""
    decoded = Image.open(Path(__file__).resolve().parents[2] / "assets/samples/raw/priya-sharma.jpg").convert("RGB")
    pixels = np.array(decoded)

    def psnr(a: Image.Image, b: Image.Image) -> float:
        error = np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2)
        return 10 * math.log10(255**2 / error)

    for name, v in VARIANTS.items():
        box = frame_box(decoded.size, v.width, v.height, choose_focus((0.62, 0.35), None))
        lanczos = decoded.resize((v.width, v.height), Image.Resampling.LANCZOS, box=box)
        buffer = io.BytesIO()
        lanczos.save(buffer, format="JPEG", quality=88, subsampling="4:2:0")
        jpeg_noise = psnr(lanczos, Image.open(buffer))
        assert psnr(shrink(pixels, box, v.width, v.height), lanczos) > jpeg_noise + 3, name


@pytest.mark.parametrize("scale", [1.15, 1.6, 2.19])
def test_the_last_resize_step_aliases_no_more_than_an_area_average_on_a_zone_plate(scale: float) -> None:
    """A zone plate (rings of every frequency up to the pixel grid's limit) is the worst case for aliasing: the
    blur + bilinear last step of `shrink` stays as close to Lanczos as OpenCV's area average, where bilinear
    alone folds the fine rings back into false ones at 2.2x."""
    import cv2

    side = 880
    y, x = np.mgrid[0:side, 0:side].astype(np.float64)
    rings = (127.5 + 127.5 * np.cos(np.pi * ((x - side / 2) ** 2 + (y - side / 2) ** 2) / (2 * side * 0.7))).astype(np.uint8)
    pixels = np.dstack([rings] * 3)
    size = round(side / scale)
    lanczos = np.asarray(Image.fromarray(pixels).resize((size, size), Image.Resampling.LANCZOS), dtype=np.float64)

    def psnr(frame) -> float:  # type: ignore[no-untyped-def]
        return 10 * math.log10(255**2 / np.mean((np.asarray(frame, dtype=np.float64) - lanczos) ** 2))

    ours = psnr(shrink(pixels, (0, 0, side, side), size, size))
    area = psnr(cv2.resize(pixels, (size, size), interpolation=cv2.INTER_AREA))
    bilinear = psnr(cv2.resize(pixels, (size, size), interpolation=cv2.INTER_LINEAR))
    assert ours > area - 2, (ours, area)
    if scale > 2:
        assert ours > bilinear + 3, (ours, bilinear)


def test_damaged_photo_and_missing_overlay_raise_with_threads_instead_of_hanging(tmp_path: Path) -> None:
    overlays = make_overlays(tmp_path)
    buffer = io.BytesIO()
    face_photo(2400, 1350).save(buffer, format="JPEG", quality=92)
    damaged = tmp_path / "cut.jpg"
    damaged.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(AssetError, match="damaged or truncated"):
        finishes(lambda: render_photo(damaged, targets(overlays, tmp_path / "cut"), None, threads=2))
    good = tmp_path / "good.jpg"
    good.write_bytes(buffer.getvalue())
    overlays["square_1x1"].unlink()
    with pytest.raises(FileNotFoundError):
        finishes(lambda: render_photo(good, targets(overlays, tmp_path / "missing"), None, threads=2))
