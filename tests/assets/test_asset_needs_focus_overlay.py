"""Pure parts: what the calendar needs, crop arithmetic, face detection, the overlay's layout."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from assets.branding import brand_assets, overlay_text
from assets.focus import crop_box, detect_face
from assets.needs import required_renders
from assets.overlay import build_overlay, layout, raqm_available
from campaign.platforms import PLATFORMS
from assets.specs import output_name
from campaign.calendar import load_calendar
from testkit.assets import REPO, TINY, TODAY, calendar_data, face_photo

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def test_required_renders_for_the_sample_calendar_are_deduplicated_sorted_and_merge_platforms() -> None:
    jobs = required_renders(load_calendar(REPO / "calendar.yaml", today=TODAY).calendar)
    outputs = [j.output for j in jobs]
    assert outputs == sorted(set(outputs))
    by_output = {j.output: j for j in jobs}
    # landscape_16x9 serves facebook, mastodon and x: one file, checked against all three.
    assert by_output["priya-sharma/landscape_16x9.en.jpg"].platforms == ("facebook", "mastodon", "x")
    assert by_output["youssef-benali/landscape_16x9.ar.jpg"].kind == "photo"
    assert by_output["aiko-tanaka/landscape_16x9.ja.mp4"].subtitles == "aiko-tanaka.ja.srt"
    # the 9:16 clip serves Instagram's reels and Threads' videos (be-threads posts Pride in French)
    assert by_output["camille-tremblay/story_9x16.fr.mp4"].platforms == ("instagram", "threads")
    for job in jobs:
        assert job.output == output_name(job.testimonial_id, job.variant.name, job.language, job.kind)
    # every language of every channel of every moment is covered
    assert {"en", "nl", "fr", "de", "ja", "ar"} <= {j.language for j in jobs}


def test_required_renders_takes_a_variant_table_override(write_calendar) -> None:  # type: ignore[no-untyped-def]
    jobs = required_renders(write_calendar(calendar_data()).calendar, TINY)
    assert {(j.variant.width, j.variant.height) for j in jobs} <= {(v.width, v.height) for v in TINY.values()}
    assert [j.output for j in jobs] == [
        "ana/feed_4x5.en.jpg", "ana/feed_4x5.fr.jpg", "ana/landscape_16x9.ar.jpg", "ana/landscape_16x9.en.jpg",
        "ana/landscape_16x9.fr.jpg", "ana/landscape_16x9.ja.jpg", "ben/landscape_16x9.en.mp4", "ben/square_1x1.en.mp4",
    ]


@pytest.mark.parametrize("fx", [0.0, 0.1, 0.5, 0.85, 1.0])
def test_crop_box_keeps_the_focus_point_and_the_target_aspect(fx: float) -> None:
    left, top, right, bottom = crop_box(4000, 2000, 1080, 1350, fx, 0.4)
    assert (top, bottom) == (0, 2000)
    assert abs((right - left) / (bottom - top) - 1080 / 1350) < 0.001
    assert 0 <= left and right <= 4000
    assert left <= fx * 4000 <= right


def test_crop_box_centres_on_the_focus_when_it_can() -> None:
    left, _, right, _ = crop_box(4000, 2000, 1000, 1000, 0.6, 0.5)
    assert (left + right) / 2 == 2400


def test_haar_cascade_finds_an_off_centre_face() -> None:
    found = detect_face(np.asarray(face_photo(960, 540, face_x=0.8, face_y=0.45)))
    assert found is not None and found.source == "face"
    assert abs(found.x - 0.8) < 0.05 and abs(found.y - 0.45) < 0.08


def test_no_face_gives_none() -> None:
    assert detect_face(np.asarray(Image.new("RGB", (640, 360), (90, 120, 150)))) is None


@pytest.mark.parametrize("language", ["en", "ja", "ar"])
@pytest.mark.parametrize("size", [(1080, 1350), (1080, 1920), (1280, 720), (1200, 628), (256, 144)])
def test_overlay_draws_only_inside_the_safe_margin(write_calendar, language: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(calendar_data())
    brand = brand_assets(loaded)
    width, height = size
    overlay = build_overlay(width, height, brand, overlay_text(loaded, loaded.calendar.testimonial("ana"), language))
    margin = layout(width, height, brand).margin
    left, top, right, bottom = overlay.getchannel("A").getbbox()
    assert left >= margin and top >= margin and right <= width - margin and bottom <= height - margin


def test_arabic_overlay_is_laid_out_right_to_left_and_shaped(write_calendar) -> None:  # type: ignore[no-untyped-def]
    assert raqm_available(), "libraqm (with libfribidi) is needed for Arabic and Japanese text"
    loaded = write_calendar(calendar_data())
    brand = brand_assets(loaded)
    ana = loaded.calendar.testimonial("ana")
    ar = np.asarray(build_overlay(1280, 720, brand, overlay_text(loaded, ana, "ar")).getchannel("A"))
    en = np.asarray(build_overlay(1280, 720, brand, overlay_text(loaded, ana, "en")).getchannel("A"))
    lower = slice(layout(1280, 720, brand).lower_top, 720)
    # the lower third hugs the right edge in Arabic, the left edge otherwise
    assert ar[lower, 640:].sum() > ar[lower, :640].sum() * 5
    assert en[lower, :640].sum() > en[lower, 640:].sum() * 5
    # shaping matters: the raqm rendering of the Arabic baseline differs from basic (unshaped) layout
    from PIL import ImageFont

    font_path = str(brand.fonts["arabic"])
    text = loaded.calendar.campaign.baseline["ar"]
    shaped = ImageFont.truetype(font_path, 30, layout_engine=ImageFont.Layout.RAQM).getlength(text, direction="rtl")
    basic = ImageFont.truetype(font_path, 30, layout_engine=ImageFont.Layout.BASIC).getlength(text)
    assert shaped != basic


def test_every_platform_in_the_table_is_known_to_the_checks() -> None:
    assert {"instagram", "facebook", "x", "linkedin", "mastodon", "bluesky", "outbox"} <= set(PLATFORMS)
