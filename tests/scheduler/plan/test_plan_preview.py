"""`preview`: one self-contained HTML page, rendered in headless Chromium and screenshotted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageDraw, ImageStat

from campaign.calendar.loader import LoadedCalendar
from scheduler.plan import plan_posts
from scheduler.plan.preview import caption_segments, render_preview

REPO = Path(__file__).resolve().parents[3]
WINDOW = (1400, 2000)
COLOURS = ["#2E5E8C", "#8C2E5E", "#2E8C5E", "#8C6A2E", "#5E2E8C", "#2E7F8C"]


def make_stand_in_assets(loaded: LoadedCalendar, build: Path, clips: int = 1) -> None:
    """Small stand-ins for rendered assets (the asset pipeline makes the real ones)."""
    made_clips = 0
    for post in plan_posts(loaded, build_dir=build).posts:
        media = post.media
        target = build / media.path
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        colour = COLOURS[sum(map(ord, media.testimonial_id)) % len(COLOURS)]
        width, height = media.width // 5, media.height // 5
        image = Image.new("RGB", (width, height), colour)
        draw = ImageDraw.Draw(image)
        draw.ellipse((width * 0.3, height * 0.18, width * 0.7, height * 0.18 + width * 0.4), fill="#F2D3B8")
        draw.rectangle((0, height * 0.78, width, height), fill="#111111")
        draw.rectangle((8, height * 0.82, width * 0.6, height * 0.82 + 6), fill="#FDDA24")
        draw.text((8, height * 0.88), media.testimonial_id.replace("-", " ").title(), fill="white")
        if media.kind == "photo":
            image.save(target, "JPEG", quality=85)
        elif made_clips < clips:
            frame = target.with_suffix(".png")
            image.save(frame)
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-loop", "1", "-i", str(frame), "-t", "1.5",
                            "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-pix_fmt", "yuv420p", "-r", "10", str(target)],
                           check=True, timeout=60)
            frame.unlink()
            made_clips += 1


def find_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("headless Chromium is needed for the preview test — install it: apt-get install chromium")
    return found


def screenshot(html: Path, png: Path, profile: Path) -> None:
    command = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
               html.resolve().as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=False)


def test_caption_segments_shorten_links_and_mark_hashtags() -> None:
    segments = caption_segments("Title\nhttps://www.belgium.be/en/embracing-openness?utm_source=x #Pride #Love")
    kinds = [kind for kind, _text, _href in segments]
    assert kinds == ["text", "link", "text", "tag", "text", "tag"]
    assert segments[1][1] == "belgium.be/en/embracing-openn…" and segments[1][2].endswith("utm_source=x")


@pytest.mark.slow  # Chromium
def test_preview_renders_in_chromium(sample: LoadedCalendar, tmp_path: Path) -> None:
    build = tmp_path / "build"
    make_stand_in_assets(sample, build)
    out = tmp_path / "preview.html"
    result = subprocess.run([sys.executable, str(REPO / "run.py"), "preview", "--build", str(build), "-o", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count('<article class="card') == 65
    assert "data:image/jpeg;base64," in html and "not rendered yet" in html  # thumbnails and placeholders
    # Each image is inlined once, however many posts show it (a CSS rule per file, a class per card).
    plan = plan_posts(sample, build_dir=build)
    rendered = {p.media.path for p in plan.posts if p.media and plan.is_rendered(p)}
    assert html.count("data:image/jpeg;base64,") == len(rendered) < html.count('class="thumb ')
    assert "@font-face" in html and "http://" not in html.split("<body>")[0]  # self-contained head
    assert 'dir="rtl"' in html and "Week 10" in html
    png = tmp_path / "preview.png"
    screenshot(out, png, tmp_path / "profile")
    assert png.is_file(), "Chromium wrote no screenshot"
    with Image.open(png) as image:
        assert image.size == WINDOW
        stat = ImageStat.Stat(image.convert("L"))
        assert stat.stddev[0] > 20, "the screenshot looks blank"
        # the dark header band and the light page are both there
        top = image.crop((0, 0, WINDOW[0], 120)).convert("L")
        assert ImageStat.Stat(top).mean[0] < 80


@pytest.mark.slow  # writes the whole preview with its thumbnails (~6 s)
def test_preview_autoescapes_captions(sample: LoadedCalendar, sample_copy) -> None:
    moments = [m.model_copy(update={"title": "<script>alert(1)</script> & co"}) for m in sample.calendar.moments]
    loaded = sample_copy(moments=moments)
    html = render_preview(plan_posts(loaded), loaded.calendar, templates_dir=REPO / "templates")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_a_held_post_says_so_on_the_preview(tmp_path: Path) -> None:
    """A post the plan calls unpublishable (caption over X's 280) is marked held with the reason,
    so a manager reading the page does not take it for a post that will go out."""
    import datetime as dt

    from testkit import plan as plankit

    cal = plankit.calendar([plankit.channel("be-x", platform="x")],
                           [plankit.moment("long", channels=("be-x",), date=dt.date(2027, 5, 10), title="z" * 300)])
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert plan.posts[0].held
    html = render_preview(plan, cal)
    card = html.split('id="long.2027.be-x.en"')[1].split("</article>")[0]
    assert 'class="held"' in card and "will not be published" in card and "280" in card


def test_a_thumbnail_is_made_once_per_file_content_and_read_from_the_build_cache(tmp_path: Path, monkeypatch) -> None:
    """The preview, the console and the results page keep each thumbnail in build/.cache/thumbs by the
    file's content: the next one reads it (no ffmpeg), and a changed file gets a new one."""
    from scheduler.plan import preview

    clip = tmp_path / "clip.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x568:rate=10:duration=2",
                    "-pix_fmt", "yuv420p", str(clip)], check=True)
    cache = tmp_path / "build" / preview.THUMB_CACHE
    first = preview.thumbnail_data_uri(clip, "clip", cache=cache)
    assert first is not None and first.startswith("data:image/jpeg;base64,") and len(list(cache.iterdir())) == 1

    def no_ffmpeg(*_args, **_kwargs):
        raise AssertionError("ffmpeg ran again for a thumbnail already made")

    monkeypatch.setattr(preview, "_clip_frame", no_ffmpeg)
    assert preview.thumbnail_data_uri(clip, "clip", cache=cache) == first
    monkeypatch.undo()
    clip.write_bytes(clip.read_bytes() + b"\0")  # another file content: another thumbnail
    assert preview.thumbnail_data_uri(clip, "clip", cache=cache) is not None and len(list(cache.iterdir())) == 2
