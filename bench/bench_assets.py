#!/usr/bin/env python3
"""Asset pipeline speed against baselines measured in the same run (ratios, not absolute times).

    python -m bench.bench_assets [--quick] [--only photo]

1. one 4:5 variant of a 30 s 1080p clip: plain ffmpeg command (perf-baselines.md) vs the pipeline (goal <= 1.15x)
2. three variants: three separate pipeline runs vs one split run (goal: under 0.85x; wall and ffmpeg CPU time)
3. a 12 MP JPEG: naive Pillow for 2 variants vs the pipeline for all 5 (goal: under 0.5x)
4. one 4:5 variant composited frame by frame with moviepy (CompositeVideoClip of the cropped/resized clip
   + ImageClip of the same overlay PNG, write_videofile libx264/aac) vs the pipeline: why clips are one ffmpeg graph
`--quick` uses a 10 s clip and times step 4 on its first 3 s only (all methods on the same 3 s).
`--only photo` runs step 3 alone (no clip is made), to iterate on the photo renderer.
The full run takes several minutes on 2 cores (moviepy alone takes minutes on the 30 s clip).
"""

from __future__ import annotations

import argparse
import resource
import dataclasses
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from assets.branding import brand_assets, overlay_text
from assets.clip import ClipTarget, ensure_sound, ffmpeg_exe, render_clip
from assets.focus import CENTRE, crop_box
from assets.overlay import build_overlay, layout
from assets.photo import PhotoTarget, render_photo
from assets.probe import probe
from campaign.platforms import VARIANTS
from campaign.calendar import load_calendar


def timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cpu_timed(action) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds of this process, all threads: what the work costs, whatever else the machine runs."""
    start = time.process_time()
    action()
    return time.process_time() - start


def children_cpu_timed(action) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall seconds, and CPU seconds of the child processes (ffmpeg) the action ran and waited for:
    what the renders cost, far less swayed than wall time by what else the machine runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = timed(action)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def make_media(folder: Path, seconds: int, with_clip: bool = True) -> tuple[Path, Path, Path]:
    clip = folder / "clip.mp4"
    if with_clip:
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip)], check=True)
    photo = folder / "photo.jpg"
    image = Image.linear_gradient("L").resize((4032, 3024)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, 4032, 97):
        draw.line([(i, 0), (4032 - i, 3024)], fill=(i % 255, 90, 200 - i % 180), width=9)
    image.filter(ImageFilter.GaussianBlur(1)).save(photo, quality=92)
    subtitles = folder / "clip.en.srt"
    cues = "".join(f"{n + 1}\n00:00:{n:02d},000 --> 00:00:{n:02d},900\nSubtitle line number {n + 1}\n\n" for n in range(min(seconds, 59)))
    subtitles.write_text(cues, encoding="utf-8")
    return clip, photo, subtitles


def moviepy_composite(clip: Path, overlay: Path, width: int, height: int, seconds: float, output: Path) -> None:
    """The frame-by-frame way: moviepy crops, resizes and blends every frame in Python, then pipes rgb24 to ffmpeg.

    Same crop box as the pipeline (centre focus), cropped before resizing (cheaper than resizing the
    full frame first), same encoder preset and CRF as assets/clip.py, AAC audio. No subtitles, no
    loudnorm: this is less work than the pipeline does.
    """
    from moviepy import CompositeVideoClip, ImageClip, VideoFileClip

    from assets.clip import CRF, PRESET

    source = VideoFileClip(str(clip))
    try:
        if seconds < source.duration:
            source = source.subclipped(0, seconds)
        w, h = source.size
        left, top, right, bottom = crop_box(w, h, width, height, CENTRE.x, CENTRE.y)
        base = source.cropped(x1=left, y1=top, x2=right, y2=bottom).resized((width, height))
        stamp = ImageClip(str(overlay)).with_duration(source.duration).with_position((0, 0))
        CompositeVideoClip([base, stamp], size=(width, height)).write_videofile(
            str(output), fps=30, codec="libx264", audio_codec="aac", preset=PRESET, ffmpeg_params=["-crf", str(CRF)],
            temp_audiofile_path=str(output.parent), logger=None)  # moviepy's temp audio file goes to the cwd otherwise
    finally:
        source.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s clip instead of 30 s")
    parser.add_argument("--only", choices=["photo"], help="run only this figure (3. photo), to iterate fast; default: every figure")
    args = parser.parse_args()
    seconds = 10 if args.quick else 30
    loaded = load_calendar(REPO / "calendar.yaml")
    brand = brand_assets(loaded)
    text = overlay_text(loaded, loaded.calendar.testimonial("camille-tremblay"), "en")
    with tempfile.TemporaryDirectory(prefix="bench-assets-") as work:
        folder = Path(work)
        only_photo = args.only == "photo"
        clip, photo, subtitles = make_media(folder, seconds, with_clip=not only_photo)
        overlays = {}
        for name in VARIANTS:
            v = VARIANTS[name]
            overlays[name] = folder / f"{name}.png"
            build_overlay(v.width, v.height, brand, text).save(overlays[name])
        info = None if only_photo else probe(clip)

        def target(name: str) -> ClipTarget:
            v = VARIANTS[name]
            return ClipTarget(v, overlays[name], folder / "out" / f"{name}.mp4", subtitles, "latin", layout(v.width, v.height, brand), info.duration)

        caches = iter(range(1000))

        def render(targets: list[ClipTarget], cache: Path | None = None) -> None:
            """As the pipeline renders: the sound made once per source (a new cache: made here, timed), then stream-copied."""
            sound = ensure_sound(clip, cache or folder / f"sound{next(caches)}", "bench")
            render_clip(clip, info, CENTRE, [dataclasses.replace(t, sound=sound) for t in targets])

        clip_note = "" if only_photo else f"clip: {seconds} s 1920x1080 30 fps; "
        print(f"{clip_note}photo: 4032x3024 JPEG q92 ({photo.stat().st_size / 1e6:.1f} MB)")

        if not only_photo:
            # 1. plain ffmpeg (baseline command of perf-baselines.md) vs the pipeline, one 4:5 variant
            plain = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-i", str(overlays["feed_4x5"]), "-filter_complex",
                     "[0:v]scale=-2:1350,crop=1080:1350[s];[s][1:v]overlay", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                     "-c:a", "copy", "-movflags", "+faststart", str(folder / "plain.mp4")]
            base = timed(lambda: subprocess.run(plain, check=True))
            ours = timed(lambda: render([target("feed_4x5")]))
            print(f"1. one 4:5 variant   plain ffmpeg {base:6.1f} s | pipeline {ours:6.1f} s (+subtitles, loudnorm + AAC made once) "
                  f"| ratio {ours / base:.2f} (goal <= 1.15)")

            # 2. three variants: separate runs vs one split run
            three = ["feed_4x5", "story_9x16", "landscape_16x9"]
            # separate runs as render workers make them: the first makes the sound, the others copy it
            shared = folder / "sound-shared"
            runs = [children_cpu_timed(lambda n=n: render([target(n)], shared)) for n in three]
            separate, separate_cpu = sum(w for w, _ in runs), sum(c for _, c in runs)
            split, split_cpu = children_cpu_timed(lambda: render([target(n) for n in three]))
            print(f"2. three variants    separate runs {separate:6.1f} s | one split run {split:6.1f} s | ratio {split / separate:.2f} "
                  f"(goal < 0.85) | ffmpeg CPU time ratio {split_cpu / separate_cpu:.2f} ({split_cpu:.1f} / {separate_cpu:.1f} s)")

        # 3. photos: naive Pillow for 2 variants vs the pipeline for all 5
        def naive(names: list[str]) -> None:
            for name in names:
                v = VARIANTS[name]
                with Image.open(photo) as image:
                    image.load()
                    frame = ImageOps.fit(image, (v.width, v.height), Image.Resampling.LANCZOS)
                with Image.open(overlays[name]) as overlay:
                    frame.paste(overlay, (0, 0), overlay)
                frame.save(folder / f"naive-{name}.jpg", quality=88)

        targets = [PhotoTarget(VARIANTS[n], overlays[n], folder / "photos" / f"{n}.jpg", ("outbox",)) for n in VARIANTS]
        # Medians of 7 (a render is 0.1-0.3 s: one scheduling hiccup moves a median of 3), taken in turns.
        naive_times, ours_times, naive_cpu, ours_cpu = [], [], [], []
        for _ in range(7):
            naive_times.append(timed(lambda: naive(["feed_4x5", "story_9x16"])))
            ours_times.append(timed(lambda: render_photo(photo, targets, None)))
        for _ in range(7):
            naive_cpu.append(cpu_timed(lambda: naive(["feed_4x5", "story_9x16"])))
            ours_cpu.append(cpu_timed(lambda: render_photo(photo, targets, None)))
        naive_t, ours_t = statistics.median(naive_times), statistics.median(ours_times)
        print(f"3. 12 MP photo       naive Pillow, 2 variants {naive_t:5.2f} s | pipeline, all 5 variants (face detection included) "
              f"{ours_t:5.2f} s | ratio {ours_t / naive_t:.2f} (goal < 0.5) | CPU time (all threads) ratio "
              f"{statistics.median(ours_cpu) / statistics.median(naive_cpu):.2f}: steadier on a busy machine, blind to the 2 threads")

        if only_photo:
            return

        # 4. moviepy frame by frame vs the pipeline (and plain ffmpeg), one 4:5 variant, same clip, same overlay
        from importlib.metadata import version

        from moviepy.config import FFMPEG_BINARY  # moviepy.__version__ says 2.1.2 in the 2.2.1 wheel: ask the installed distribution

        window = min(3.0, info.duration) if args.quick else info.duration
        v = VARIANTS["feed_4x5"]
        if window < info.duration:
            cut = ["-t", f"{window:.3f}"]
            base_w = timed(lambda: subprocess.run(plain[:-1] + cut + [str(folder / "plain-window.mp4")], check=True))
            windowed = dataclasses.replace(target("feed_4x5"), seconds=window)
            ours_w = timed(lambda: render([windowed]))
        else:
            base_w, ours_w = base, ours
        composited = folder / "moviepy.mp4"
        mpy = timed(lambda: moviepy_composite(clip, overlays["feed_4x5"], v.width, v.height, window, composited))
        out = probe(composited)
        if (out.width, out.height) != (v.width, v.height) or abs(out.duration - window) > 0.1:
            raise SystemExit(f"moviepy wrote {out.width}x{out.height} {out.duration:.2f} s, expected {v.width}x{v.height} {window:.2f} s")
        same = "same ffmpeg" if Path(FFMPEG_BINARY).resolve() == Path(ffmpeg_exe()).resolve() else f"OTHER ffmpeg {FFMPEG_BINARY}"
        print(f"4. 4:5, first {window:g} s   moviepy {version('moviepy')} frame by frame ({same}) {mpy:6.1f} s | pipeline {ours_w:6.1f} s "
              f"| plain ffmpeg {base_w:6.1f} s | ratio moviepy/pipeline {mpy / ours_w:.1f}x, moviepy/plain {mpy / base_w:.1f}x "
              f"(perf-baselines: 18x vs plain)")


if __name__ == "__main__":
    main()
