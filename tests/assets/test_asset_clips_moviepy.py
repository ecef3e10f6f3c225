"""Rendered clips read back with moviepy, a second reader independent of the pipeline's PyAV probe.

One 2 s test clip is rendered once, at the real frame sizes of campaign/platforms.py (not the tiny
test frames), for X (landscape 16:9) and Bluesky (square 1:1); every output is then opened
with moviepy's VideoFileClip and checked for length, frame size, sound and branding.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from moviepy import VideoFileClip
from PIL import Image

from assets.branding import brand_assets, overlay_text
from assets.overlay import BAND_ALPHA, build_overlay
from assets.pipeline import render_all
from campaign.platforms import VARIANTS, Variant
from campaign.calendar import LoadedCalendar, load_calendar
from testkit.assets import TODAY, calendar_data, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow

SECONDS = 2.0


@contextmanager
def read_clip(path: Path) -> Iterator[VideoFileClip]:
    """VideoFileClip, closed completely: moviepy 2.2's readers leave the pipes of an ffmpeg that has
    already exited open (their close() only closes them while it runs), a ResourceWarning each."""
    clip = VideoFileClip(str(path))
    try:
        yield clip
    finally:
        readers = [clip.reader, getattr(clip.audio, "reader", None)]
        procs = [getattr(reader, "proc", None) for reader in readers]
        clip.close()
        for proc in procs:
            for pipe in (getattr(proc, "stdout", None), getattr(proc, "stderr", None), getattr(proc, "stdin", None)):
                if pipe is not None:
                    pipe.close()
OUTPUTS = {"ben/landscape_16x9.en.mp4": VARIANTS["landscape_16x9"], "ben/square_1x1.en.mp4": VARIANTS["square_1x1"]}


@dataclass(frozen=True)
class Rendered:
    source: Path
    build: Path
    loaded: LoadedCalendar


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Render ben.mp4 once for the whole module (same calendar as tests/assets, written like `write_calendar`)."""
    root = tmp_path_factory.mktemp("moviepy")
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "clip-day"]
    data["moments"][0]["channels"] = ["xch", "bsky"]
    data["testimonials"][1]["focus"] = {"x": 0.5, "y": 0.5}  # centre crop, whatever the face detector thinks of testsrc
    templates = root / "templates" / "captions"
    templates.mkdir(parents=True)
    (templates / "testimonial.j2").write_text("{{ quote }} — {{ speaker }}\n", encoding="utf-8")
    (root / "calendar.yaml").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    loaded = load_calendar(root / "calendar.yaml", today=TODAY)
    inbox = root / "inbox"
    inbox.mkdir()
    source = make_clip(inbox / "ben.mp4", seconds=SECONDS)
    write_srt(inbox / "ben.en.srt")  # cue from 0.2 s: the first frame has no subtitle on it
    summary = render_all(loaded, inbox, root / "build", workers=1, settle_seconds=0.01)  # variants=None: the real sizes
    assert summary.exit_code == 0, summary.to_dict()
    assert sorted(e["output"] for e in summary.rendered) == sorted(OUTPUTS)
    return Rendered(source, root / "build", loaded)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_moviepy_reads_the_source_duration(rendered: Rendered, output: str) -> None:
    with read_clip(rendered.source) as source, read_clip(rendered.build / output) as clip:
        assert abs(source.duration - SECONDS) < 0.1
        assert abs(clip.duration - source.duration) < 0.1, f"{output}: {clip.duration:.3f} s, source {source.duration:.3f} s"
        assert clip.audio is not None and abs(clip.audio.duration - source.duration) < 0.1


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_moviepy_reads_the_variant_size_from_specs(rendered: Rendered, output: str) -> None:
    variant = OUTPUTS[output]
    with read_clip(rendered.build / output) as clip:
        assert tuple(clip.size) == (variant.width, variant.height)
        assert clip.get_frame(1.0).shape == (variant.height, variant.width, 3), "decoded frames have that size too"
        assert abs(clip.fps - 30) < 0.01


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_moviepy_hears_the_voice_track(rendered: Rendered, output: str) -> None:
    with read_clip(rendered.build / output) as clip:
        assert clip.audio is not None, "no audio track"
        # clip.audio.fps is the rate moviepy resamples to when reading (44100 by default); the file's rate is in the header it parsed
        assert clip.reader.infos["audio_fps"] == 48000 and clip.audio.nchannels == 2
        samples = clip.audio.subclipped(0.5, 1.5).to_soundarray(fps=48000)  # a window away from loudnorm's ramp-up
    assert samples.shape[1] == 2 and len(samples) > 40000
    peak = float(np.abs(samples).max())
    rms = float(np.sqrt(np.mean(samples**2)))
    assert peak > 0.05 and rms > 0.02, f"{output}: silent (peak {peak:.4f}, rms {rms:.4f})"
    assert peak <= 1.0


def reframe(frame: np.ndarray, variant: Variant) -> np.ndarray:
    """The source frame cropped around its centre to the variant's aspect and scaled to its size (independent arithmetic)."""
    height, width = frame.shape[:2]
    if width / height > variant.aspect:
        crop_w, crop_h = round(height * variant.aspect), height
    else:
        crop_w, crop_h = width, round(width / variant.aspect)
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    box = Image.fromarray(frame[top : top + crop_h, left : left + crop_w])
    return np.asarray(box.resize((variant.width, variant.height), Image.Resampling.BICUBIC)).astype(int)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_first_frame_carries_the_branding_where_the_overlay_is_stamped(rendered: Rendered, output: str) -> None:
    variant = OUTPUTS[output]
    loaded = rendered.loaded
    testimonial = loaded.calendar.testimonial("ben")
    text = overlay_text(loaded, testimonial, "en")
    alpha = np.asarray(build_overlay(variant.width, variant.height, brand_assets(loaded), text))[:, :, 3]
    stamped, clear = alpha >= BAND_ALPHA, alpha == 0
    assert stamped.sum() > 0.03 * alpha.size and clear.sum() > 0.5 * alpha.size
    with read_clip(rendered.source) as source, read_clip(rendered.build / output) as clip:
        before = reframe(source.get_frame(0), variant)
        after = clip.get_frame(0).astype(int)
    diff = np.abs(after - before).mean(axis=2)
    inside, outside = float(diff[stamped].mean()), float(diff[clear].mean())
    # A dark band at 72 % opacity over testsrc's bright colour bars changes those pixels a lot; elsewhere
    # the output is the source reframed (only scaling and compression differ).
    assert inside > 50, f"{output}: overlay area barely changed (mean |diff| {inside:.1f}) — branding missing?"
    assert outside < 8, f"{output}: the frame outside the overlay differs from the reframed source (mean |diff| {outside:.1f})"
    assert inside > 3 * outside
    assert after[stamped].mean() < before[stamped].mean() - 40, "the band darkens what is under it"
