"""Photos through the whole pipeline: frames, overlay, crop keeps the face, every awkward input."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assets.branding import brand_assets
from assets.focus import detect_face
from assets.overlay import layout
from assets.pipeline import render_all
from campaign.platforms import PLATFORMS
from testkit.assets import TINY, calendar_data, face_photo

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def render(loaded, inbox: Path, out: Path, **kwargs):  # type: ignore[no-untyped-def]
    return render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0.01, **kwargs)


def photo_only(data):  # type: ignore[no-untyped-def]
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    return data


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (50.0, 50.0, 0.0)  # GPSLatitude
    return exif


def test_photo_renders_every_variant_stamped_and_without_metadata(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(photo_only(calendar_data()))
    face_photo(960, 540).save(inbox / "ana.jpg", quality=92, exif=exif_with_gps())
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    assert sorted(e["output"] for e in summary.rendered) == [
        "ana/feed_4x5.en.jpg", "ana/feed_4x5.fr.jpg", "ana/landscape_16x9.ar.jpg",
        "ana/landscape_16x9.en.jpg", "ana/landscape_16x9.fr.jpg", "ana/landscape_16x9.ja.jpg",
    ]
    for entry in summary.rendered:
        with Image.open(tmp_path / "build" / entry["output"]) as image:
            variant = TINY[entry["variant"]]
            assert image.format == "JPEG" and image.mode == "RGB"
            assert image.size == (variant.width, variant.height)
            assert not image.getexif(), "EXIF (and GPS) must be stripped"
            assert "icc_profile" not in image.info
        # readable by the web host that serves media to Instagram and by the rest of the team
        assert (tmp_path / "build" / entry["output"]).stat().st_mode & 0o044 == 0o044
    assert (tmp_path / "build" / "manifest.json").stat().st_mode & 0o044 == 0o044
    assert (inbox / "ana.jpg").exists(), "a rendered source stays in the inbox"
    manifest = json.loads((tmp_path / "build" / "manifest.json").read_text())
    entry = manifest["outputs"]["ana/feed_4x5.en.jpg"]
    assert {"source_sha256", "brand_fingerprint", "pipeline_version", "sha256", "bytes", "input_key"} <= set(entry)


def test_overlay_text_is_on_the_image_inside_the_safe_margins(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = photo_only(calendar_data())
    data["testimonials"][0]["focus"] = {"x": 0.5, "y": 0.5}  # deterministic crop: compare with a plain crop
    loaded = write_calendar(data)
    Image.new("RGB", (960, 540), (40, 140, 60)).save(inbox / "ana.jpg", quality=95)
    render(loaded, inbox, tmp_path / "build")
    stamped = np.asarray(Image.open(tmp_path / "build/ana/landscape_16x9.en.jpg"), dtype=int)
    plain = np.full_like(stamped, (40, 140, 60))
    box = layout(256, 144, brand_assets(loaded))
    changed = np.abs(stamped - plain).sum(axis=2) > 60
    assert changed[box.lower_top :, :].sum() > 200, "the lower third (name, country) is drawn"
    assert changed[: box.margin + 30, :].sum() > 200, "the top band (logo, baseline) is drawn"
    m = box.margin
    outside = changed.copy()
    ring = 4  # JPEG's 8x8 blocks smear a sharp band edge over a few pixels
    outside[m - ring : 144 - m + ring, m - ring : 256 - m + ring] = False
    assert outside.sum() == 0, "nothing is drawn in the safe margin"


def test_crop_keeps_an_off_centre_face_found_by_detection(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(photo_only(calendar_data()))
    face_photo(1600, 900, face_x=0.82, face_y=0.5).save(inbox / "ana.jpg", quality=92)
    summary = render(loaded, inbox, tmp_path / "build")
    portrait = next(e for e in summary.rendered if e["output"] == "ana/feed_4x5.en.jpg")
    assert portrait["focus"] == "face"
    image = np.asarray(Image.open(tmp_path / "build/ana/feed_4x5.en.jpg"))
    skin = (np.abs(image.astype(int) - (200, 160, 130)).sum(axis=2) < 40).sum()
    # A centre crop of a 16:9 photo to 4:5 would cut this face off entirely.
    assert skin > 0.12 * image.shape[0] * image.shape[1]
    crop = Image.open(tmp_path / "build/ana/feed_4x5.en.jpg").resize((432, 540))
    found = detect_face(np.asarray(crop))
    assert found is not None and 0.25 < found.x < 0.75


def test_manual_focus_wins_over_detection(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = photo_only(calendar_data())
    data["testimonials"][0]["focus"] = {"x": 0.1, "y": 0.5}
    loaded = write_calendar(data)
    face_photo(1600, 900, face_x=0.82).save(inbox / "ana.jpg", quality=92)
    summary = render(loaded, inbox, tmp_path / "build")
    assert {e["focus"] for e in summary.rendered} == {"calendar"}
    image = np.asarray(Image.open(tmp_path / "build/ana/feed_4x5.en.jpg"))
    skin = (np.abs(image.astype(int) - (200, 160, 130)).sum(axis=2) < 40).sum()
    assert skin < 0.01 * image.shape[0] * image.shape[1], "the crop follows the manual point, left of the face"


def test_exif_rotated_phone_photo_is_turned_upright(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = photo_only(calendar_data())
    data["testimonials"][0]["focus"] = {"x": 0.5, "y": 0.5}
    loaded = write_calendar(data)
    # Stored landscape, top half red / bottom half blue; orientation 6 means "rotate 90° clockwise to view".
    stored = Image.new("RGB", (800, 600), (220, 0, 0))
    stored.paste((0, 0, 220), (0, 300, 800, 600))
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(inbox / "ana.jpg", exif=exif, quality=95)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    upright = np.asarray(Image.open(tmp_path / "build/ana/feed_4x5.en.jpg"), dtype=int)
    mid = upright.shape[0] // 2
    # viewed upright, the red half is on the right and the blue half on the left
    assert upright[mid, 20, 2] > 150 and upright[mid, -20, 0] > 150


def test_cmyk_16bit_and_palette_alpha_images_become_srgb(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = photo_only(calendar_data())
    data["testimonials"].append({**data["testimonials"][0], "id": "cai", "photo": "cai.jpg"})
    data["testimonials"].append({**data["testimonials"][0], "id": "sam", "photo": "sam.png"})
    data["testimonials"].append({**data["testimonials"][0], "id": "pal", "photo": "pal.png"})
    data["moments"][0]["testimonials"] = ["cai", "sam", "pal"]
    loaded = write_calendar(data)
    Image.new("CMYK", (600, 600), (0, 255, 255, 0)).save(inbox / "cai.jpg", quality=95)  # red in CMYK
    sixteen = Image.fromarray(np.full((600, 600), 40000, dtype=np.uint16))  # 16-bit grey, ~61 %
    assert sixteen.mode.startswith("I;16")
    sixteen.save(inbox / "sam.png")
    palette = Image.new("P", (600, 600), 1)
    palette.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    palette.info["transparency"] = 0
    palette.paste(0, (0, 0, 600, 100))  # a transparent strip
    palette.save(inbox / "pal.png", transparency=0)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    def centre(name: str) -> np.ndarray:
        image = Image.open(tmp_path / "build" / name)
        assert image.mode == "RGB"
        return np.asarray(image, dtype=int)[135, 108]
    red = centre("cai/feed_4x5.en.jpg")
    assert red[0] > 180 and red[1] < 90 and red[2] < 90
    grey = centre("sam/feed_4x5.en.jpg")
    assert 140 < grey[0] < 175 and abs(grey[0] - grey[2]) < 6, "16-bit values scaled, not clipped to white"
    green = centre("pal/feed_4x5.en.jpg")
    assert green[1] > 150 and green[0] < 60


def test_photo_too_small_for_a_variant_rejects_only_that_variant(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(photo_only(calendar_data()))
    # 160 px high: enough for the tiny 16:9 (144 high) but not for 4:5 (270 high; 160 < 0.6 x 270)
    face_photo(284, 160).save(inbox / "ana.jpg", quality=92)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    rejected = {e["output"]: e["reason"] for e in summary.rejected}
    assert set(rejected) == {"ana/feed_4x5.en.jpg", "ana/feed_4x5.fr.jpg"}
    assert "too small for feed_4x5" in rejected["ana/feed_4x5.en.jpg"]
    assert {e["variant"] for e in summary.rendered} == {"landscape_16x9"}
    assert (inbox / "ana.jpg").exists(), "the source still serves other variants: it stays"


def test_corrupt_truncated_and_unsupported_photos_are_moved_aside_with_a_note(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = photo_only(calendar_data())
    for tid, name in (("tru", "tru.jpg"), ("bad", "bad.jpg"), ("hei", "hei.heic")):
        data["testimonials"].append({**data["testimonials"][0], "id": tid, "photo": name})
    data["moments"][0]["testimonials"] = ["ana", "tru", "bad", "hei"]
    loaded = write_calendar(data)
    face_photo(960, 540).save(inbox / "ana.jpg", quality=92)
    buffer = io.BytesIO()
    face_photo(960, 540).save(buffer, format="JPEG", quality=92)
    (inbox / "tru.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (inbox / "bad.jpg").write_bytes(b"this is not a jpeg at all" * 10)
    (inbox / "hei.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    reasons = {e["source"]: e["reason"] for e in summary.rejected}
    assert set(reasons) == {"tru.jpg", "bad.jpg", "hei.heic"}
    assert "truncated" in reasons["tru.jpg"]
    assert "not an image we can read" in reasons["bad.jpg"]
    assert "HEIC" in reasons["hei.heic"]
    for name in reasons:
        assert (inbox / "rejected" / name).exists(), "never deleted: moved to rejected/"
        assert (inbox / "rejected" / f"{name}.why.txt").read_text().startswith(f"{name} was not rendered")
    assert len(summary.rendered) == 6, "the good photo still rendered"


def test_real_size_square_is_squeezed_under_the_byte_limit(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """End to end at the real 1080x1080 frame. Even pure noise stays under Bluesky's 1 MB at quality 88
    (about 0.9 MB), so the limit is lowered here to make the quality loop run."""
    monkeypatch.setitem(PLATFORMS, "bluesky", replace(PLATFORMS["bluesky"], image_max_bytes=600_000))
    data = calendar_data()
    data["moments"] = [{"id": "sky", "title": "Sky", "date": "2027-05-09", "pillar": "innovation",
                        "channels": ["bsky"], "testimonials": ["ana"], "media": "photo"}]
    loaded = write_calendar(data)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (1200, 1200, 3), dtype=np.uint8)).save(inbox / "ana.jpg", quality=100)
    summary = render_all(loaded, inbox, tmp_path / "build", workers=1, settle_seconds=0.01)
    assert summary.exit_code == 0, summary.to_dict()
    out = tmp_path / "build/ana/square_1x1.en.jpg"
    with Image.open(out) as image:
        assert image.size == (1080, 1080)
    assert out.stat().st_size <= 600_000
    assert "quality lowered" in summary.rendered[0]["notes"][0]
