"""Posts read well on a phone: every variant of the sample, shrunk to a 390 px feed, is read back by Tesseract;
text sizes meet the feed minimums; nothing stamped enters the zones Reels and Stories cover.

The sample is rendered once for the module: the photos through `render_all` (the real pipeline),
the clips through the real ffmpeg graph (`render_clip`) for their first 1.4 s, enough for one
frame with the overlay and a subtitle cue.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assets.branding import brand_assets, overlay_fingerprint, overlay_text
from assets.clip import ClipTarget, render_clip, subtitle_style
from assets.focus import choose_focus, detect_face
from assets.needs import required_renders
from assets.overlay import build_overlay, ensure_overlay, layout, plan_overlay
from assets.pipeline import render_all
from assets.probe import first_frame_rgb, probe
from campaign.platforms import VARIANTS
from assets.specs import FEED_WIDTH, MIN_SLOGAN_CAP_PX, MIN_TEXT_CAP_PX, safe_insets
from campaign.calendar import load_calendar
from campaign.languages import script_of
from testkit.assets import REPO, TODAY, ffmpeg
from testkit.ocr import require_tesseract, slogan_read_back

pytestmark = pytest.mark.slow  # renders media and reads it back with Tesseract

RAW = REPO / "assets" / "samples" / "raw"
READ_BACK = 0.8
CLIP_SECONDS = 1.4
FRAME_AT = 1.1  # every sample clip shows its first subtitle cue by then


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return load_calendar(REPO / "calendar.yaml", today=TODAY)


@pytest.fixture(scope="module")
def sample_frames(sample, tmp_path_factory) -> list[tuple[str, str, Path]]:  # type: ignore[no-untyped-def]
    """(output name, language, image path) for every variant the sample calendar needs: photos and clip frames."""
    work = tmp_path_factory.mktemp("sample")
    inbox, out = work / "inbox", work / "build"
    inbox.mkdir()
    for photo in RAW.glob("*.jpg"):
        shutil.copyfile(photo, inbox / photo.name)  # a copy: links that leave the inbox are refused
    summary = render_all(sample, inbox, out, workers=2, settle_seconds=0, move_rejected=False)
    frames = [(e["output"], e["language"], out / e["output"]) for e in summary.rendered]
    assert len(frames) == sum(1 for j in required_renders(sample.calendar) if j.kind == "photo")

    brand = brand_assets(sample)
    jobs = [j for j in required_renders(sample.calendar) if j.kind == "clip"]
    for source in sorted({j.source for j in jobs}):
        group = [j for j in jobs if j.source == source]
        testimonial = sample.calendar.testimonial(group[0].testimonial_id)
        info = probe(RAW / source)
        focus = choose_focus(None, first_frame_rgb(RAW / source))
        targets = []
        for job in group:
            text = overlay_text(sample, testimonial, job.language)
            v = job.variant
            targets.append(ClipTarget(
                variant=v, overlay=ensure_overlay(work / "overlays", overlay_fingerprint(brand, text), v.width, v.height, brand, text, v.name),
                output=out / job.output, subtitles=RAW / job.subtitles if job.subtitles else None,
                subtitle_script=script_of(job.language), layout=layout(v.width, v.height, brand, text, v.name), seconds=CLIP_SECONDS,
            ))
        render_clip(RAW / source, info, focus, targets)
        for job, target in zip(group, targets):
            frame = target.output.with_suffix(".png")
            subprocess.run([ffmpeg(), "-v", "error", "-y", "-ss", str(FRAME_AT), "-i", str(target.output), "-frames:v", "1", str(frame)], check=True)
            frames.append((job.output, job.language, frame))
    return frames


def test_every_variant_of_the_sample_is_read_back_by_ocr_at_feed_width(sample, sample_frames) -> None:  # type: ignore[no-untyped-def]
    languages = {language for _, language, _ in sample_frames}
    require_tesseract(languages)
    baseline = sample.calendar.campaign.baseline
    assert {"photo", "clip"} == {"clip" if name.endswith(".mp4") else "photo" for name, _, _ in sample_frames}

    def judge(item: tuple[str, str, Path]) -> tuple[str, float, str]:
        name, language, path = item
        with Image.open(path) as image:
            score, text = slogan_read_back(image, baseline[language], language)
        return name, score, text

    with ThreadPoolExecutor(2) as pool:  # Tesseract runs as a process: two at a time on two cores
        results = list(pool.map(judge, sample_frames))
    failed = [f"{name}: {score:.0%} read back ({text.strip()!r})" for name, score, text in results if score < READ_BACK]
    assert not failed, f"{len(failed)} of {len(results)} variants not legible at {FEED_WIDTH} px:\n" + "\n".join(failed)


def _cap_at_feed(font_path: str, size: int, frame_width: int) -> float:
    from PIL import ImageFont

    top, bottom = ImageFont.truetype(font_path, size).getbbox("H")[1::2]
    return (bottom - top) * FEED_WIDTH / frame_width


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_stamped_text_is_large_enough_at_feed_width_in_every_language(sample, variant: str) -> None:  # type: ignore[no-untyped-def]
    brand = brand_assets(sample)
    latin = str(brand.fonts["latin"])
    v = VARIANTS[variant]
    for testimonial in sample.calendar.testimonials:
        for language in sample.calendar.campaign.baseline:
            plan = plan_overlay(v.width, v.height, brand, overlay_text(sample, testimonial, language), v.name)
            assert _cap_at_feed(latin, plan.slogan_size, v.width) >= MIN_SLOGAN_CAP_PX, (variant, language, plan.slogan_size)
            assert _cap_at_feed(latin, plan.name_size, v.width) >= MIN_TEXT_CAP_PX, (variant, testimonial.id, language)
            assert _cap_at_feed(latin, plan.country_size, v.width) >= MIN_TEXT_CAP_PX, (variant, testimonial.id, language)
            if v.aspect > 1.5:  # wide frames: the slogan on two lines (three for the longest baselines)
                assert len([line for line in plan.lines if line.element == "slogan"]) <= 3
            # nothing overlaps: two lines of subtitles fit between the slogan band and the lower third
            band_bottom = next(e.box[3] for e in plan.elements if e.name == "slogan band")
            subtitle_lines = 2 * 1.6 * plan.layout.subtitle_cap_px / 0.714
            assert band_bottom + subtitle_lines < plan.layout.subtitle_bottom, (variant, testimonial.id, language)


def _subtitle_frame(tmp_path: Path, target: ClipTarget, text: str) -> np.ndarray:
    """The subtitle alone, burned by libass through our style on a black frame of the variant's size."""
    srt = tmp_path / "cue.srt"
    srt.write_text(f"1\n00:00:00,000 --> 00:00:01,000\n{text}\n", encoding="utf-8")
    fonts = tmp_path / "fonts"
    if not fonts.exists():
        fonts.symlink_to(REPO / "assets" / "brand" / "fonts", target_is_directory=True)
    v = target.variant
    frame = tmp_path / "frame.png"
    graph = f"subtitles=filename={srt}:fontsdir={fonts}:force_style='{subtitle_style(target)}'"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=black:s={v.width}x{v.height}:d=1",
                    "-vf", graph, "-frames:v", "1", str(frame)], check=True)
    return np.asarray(Image.open(frame).convert("L"))


def _target(sample, variant: str, language: str, testimonial: str = "camille-tremblay") -> ClipTarget:  # type: ignore[no-untyped-def]
    brand = brand_assets(sample)
    v = VARIANTS[variant]
    text = overlay_text(sample, sample.calendar.testimonial(testimonial), language)
    return ClipTarget(v, Path("unused.png"), Path("unused.mp4"), None, script_of(language), layout(v.width, v.height, brand, text, v.name), 1.0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_subtitles_are_large_enough_at_feed_width_as_libass_draws_them(sample, tmp_path: Path, variant: str) -> None:  # type: ignore[no-untyped-def]
    target = _target(sample, variant, "en")
    pixels = _subtitle_frame(tmp_path, target, "HHHH")
    rows = np.nonzero((pixels > 200).any(axis=1))[0]  # the white fill, not the black outline
    cap = (rows.max() - rows.min() + 1) * FEED_WIDTH / target.variant.width
    assert cap >= MIN_TEXT_CAP_PX, f"{variant}: subtitle capitals {cap:.1f} px tall at {FEED_WIDTH} px"
    # and they sit above the lower third, not on it
    assert rows.max() < target.layout.lower_top


def _zones_px(variant: str) -> tuple[int, int, int, int]:
    v = VARIANTS[variant]
    left, top, right, bottom = safe_insets(variant)
    return round(left * v.width), round(top * v.height), v.width - round(right * v.width), v.height - round(bottom * v.height)


def test_safe_zones_are_meta_s_figures_per_placement() -> None:
    from assets.specs import SAFE_ZONES, VARIANT_PLACEMENTS

    assert (SAFE_ZONES["reels"].top, SAFE_ZONES["reels"].bottom, SAFE_ZONES["reels"].left, SAFE_ZONES["reels"].right) == (0.14, 0.35, 0.06, 0.06)
    assert (SAFE_ZONES["stories"].top, SAFE_ZONES["stories"].bottom) == (0.14, 0.20)
    assert set(VARIANT_PLACEMENTS["story_9x16"]) == {"reels", "stories"}
    assert safe_insets("story_9x16") == (0.06, 0.14, 0.06, 0.35)  # one file serves both: the union


@pytest.mark.parametrize("language", ["en", "fr", "de", "ja", "ar"])
def test_no_stamped_element_enters_the_reels_and_stories_zones(sample, tmp_path: Path, language: str) -> None:  # type: ignore[no-untyped-def]
    brand = brand_assets(sample)
    v = VARIANTS["story_9x16"]
    left, top, right, bottom = _zones_px("story_9x16")
    for testimonial in sample.calendar.testimonials:
        text = overlay_text(sample, testimonial, language)
        plan = plan_overlay(v.width, v.height, brand, text, v.name)
        for element in plan.elements:
            l, t, r, b = element.box
            assert l >= left and t >= top and r <= right and b <= bottom, (testimonial.id, element)
        # the pixels agree with the boxes
        l, t, r, b = build_overlay(v.width, v.height, brand, text, v.name).getchannel("A").getbbox()
        assert l >= left and t >= top and r <= right and b <= bottom, (testimonial.id, (l, t, r, b))
    # subtitles as libass draws them: a long cue wraps inside the safe area, above the lower third
    target = _target(sample, "story_9x16", language)
    long_cue = {"ja": "ベルギーの開かれた協力の力を実感しました。研究所で毎日それを感じています。",
                "ar": "لسنا نحن من يقول إن بلجيكا رائعة، بل الآخرون يقولون ذلك كل يوم"}.get(
        language, "Here I could love whoever I want, openly, and nobody ever asked me why")
    pixels = _subtitle_frame(tmp_path, target, long_cue)
    ys, xs = np.nonzero(pixels > 40)  # outline and shadow included
    assert len(xs) > 0, "the subtitle was drawn"
    assert xs.min() >= left and xs.max() < right and ys.min() >= top and ys.max() < bottom


def test_the_face_in_the_sample_stories_is_outside_the_zones(sample_frames) -> None:  # type: ignore[no-untyped-def]
    """OpenCV's face detector, run on the rendered 9:16 frames, finds the face in the safe area."""
    stories = [path for name, _, path in sample_frames if "story_9x16" in name]
    assert stories
    left, top, right, bottom = _zones_px("story_9x16")
    v = VARIANTS["story_9x16"]
    for path in stories:
        face = detect_face(np.asarray(Image.open(path).convert("RGB")))
        assert face is not None, f"{path.name}: no face found"
        assert left <= face.x * v.width <= right and top <= face.y * v.height <= bottom, (path.name, face)


def test_each_aspect_ratio_has_its_own_layout(sample) -> None:  # type: ignore[no-untyped-def]
    brand = brand_assets(sample)
    text = overlay_text(sample, sample.calendar.testimonial("lukas-weber"), "en")

    def plan(variant: str):  # type: ignore[no-untyped-def]
        v = VARIANTS[variant]
        return plan_overlay(v.width, v.height, brand, text, v.name)

    def box(p, name: str) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
        return next(e.box for e in p.elements if e.name == name)

    wide, portrait, tall = plan("landscape_16x9"), plan("feed_4x5"), plan("story_9x16")
    # 16:9: the slogan on two lines in a band that hugs it; name and country share one line
    assert [line.text for line in wide.lines if line.element == "slogan"] == ["We don't say Belgium", "is great, others do"]
    area_w = wide.layout.area[2] - wide.layout.area[0]
    assert box(wide, "slogan band")[2] - box(wide, "slogan band")[0] < area_w * 0.8
    assert box(wide, "name")[1] < box(wide, "country")[3] and box(wide, "country")[1] < box(wide, "name")[3]
    # a larger slogan, in feed pixels, than on 4:5
    assert wide.slogan_size / 1280 > portrait.slogan_size / 1080
    # 4:5: name above country
    assert box(portrait, "name")[3] <= box(portrait, "country")[1]
    # 9:16: everything starts below the top 14 % and ends above the bottom 35 %
    assert tall.layout.area[1] >= 0.14 * 1920 and box(tall, "lower band")[3] <= 0.65 * 1920
