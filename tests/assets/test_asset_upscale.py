"""A source smaller than a variant needs is rendered, with a warning that says by how much, kept in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from application.commands.assets import _print_summary
from assets.pipeline import render_all
from testkit.assets import TINY, calendar_data, face_photo, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def test_an_enlarged_photo_is_a_warning_with_its_factor_in_render_and_the_manifest(write_calendar, inbox: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    loaded = write_calendar(data)
    face_photo(180, 225, face_x=0.5).save(inbox / "ana.jpg", quality=92)  # 4:5 needs 216x270: 1.2x; 16:9 needs 256 wide: 1.42x
    out = tmp_path / "build"
    summary = render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0)
    assert summary.exit_code == 0, summary.to_dict()
    by_output = {e["output"]: e for e in summary.rendered}
    assert by_output["ana/feed_4x5.en.jpg"]["upscale"] == 1.2
    assert by_output["ana/landscape_16x9.en.jpg"]["upscale"] == 1.42
    assert "enlarged 1.2x" in by_output["ana/feed_4x5.en.jpg"]["warnings"][0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outputs"]["ana/landscape_16x9.ja.jpg"]["upscale"] == 1.42
    assert "enlarged 1.4x" in manifest["outputs"]["ana/landscape_16x9.ja.jpg"]["warnings"][0]
    _print_summary(summary, out)
    printed = capsys.readouterr().err
    assert "WARNING" in printed and "ana/feed_4x5.fr.jpg: ana.jpg was enlarged 1.2x to fill feed_4x5 216x270" in printed
    assert "(6 with a warning)" in printed


def test_a_large_enough_photo_has_no_warning(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    loaded = write_calendar(data)
    face_photo(960, 540).save(inbox / "ana.jpg", quality=92)
    summary = render_all(loaded, inbox, tmp_path / "build", workers=1, variants=TINY, settle_seconds=0)
    assert summary.rendered and all(not e["warnings"] and e["upscale"] is None for e in summary.rendered)


def test_an_enlarged_clip_is_a_warning_with_its_factor(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "clip-day"]
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=1.0, size="160x90")  # 16:9 needs 256x144: 1.6x; 1:1 needs 200: 90 -> 2.2x
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    out = tmp_path / "build"
    summary = render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0)
    assert summary.exit_code == 0, summary.to_dict()
    by_output = {e["output"]: e for e in summary.rendered}
    assert by_output["ben/landscape_16x9.en.mp4"]["upscale"] == 1.6
    assert by_output["ben/square_1x1.en.mp4"]["upscale"] == 2.22
    assert "enlarged 2.2x" in by_output["ben/square_1x1.en.mp4"]["warnings"][0]
    assert json.loads((out / "manifest.json").read_text())["outputs"]["ben/square_1x1.en.mp4"]["upscale"] == 2.22


def test_a_face_under_the_reels_interface_is_a_warning() -> None:
    from campaign.platforms import VARIANTS
    from assets.worker import face_zone_warnings

    story = VARIANTS["story_9x16"]
    assert face_zone_warnings("ben.mp4", story, (0.5, 0.4)) == []
    low = face_zone_warnings("ben.mp4", story, (0.5, 0.8))
    assert low and "80% down" in low[0] and "reels and stories" in low[0]
    assert face_zone_warnings("ben.mp4", story, (0.03, 0.4)), "6 % at the sides belong to Reels"
    assert face_zone_warnings("ben.mp4", VARIANTS["landscape_16x9"], (0.5, 0.9)) == [], "no app interface on a feed image"


def test_a_9x16_photo_with_the_face_low_in_the_frame_warns(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["channels"][3]["variants"] = {"photo": "story_9x16"}  # a channel that posts photos full screen, 9:16
    data["moments"][0]["channels"] = ["bsky"]
    loaded = write_calendar(data)
    face_photo(540, 960, face_x=0.5, face_y=0.7).save(inbox / "ana.jpg", quality=92)  # a portrait, face near the bottom
    summary = render_all(loaded, inbox, tmp_path / "build", workers=1, variants=TINY, settle_seconds=0)
    assert summary.exit_code == 0, summary.to_dict()
    story = next(e for e in summary.rendered if e["variant"] == "story_9x16")
    assert any("under the reels and stories interface" in w for w in story["warnings"]), story
