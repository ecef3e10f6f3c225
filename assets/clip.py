"""Render every variant of one clip in ONE ffmpeg run: decode once, split, crop, overlay, subtitle, encode.

The filter graph is built by a pure function (`clip_command`) so it can be read and
tested; `render_clip` only runs it. Settings are the ones every platform accepts
(H.264 High yuv420p 30 fps closed GOP, AAC-LC 48 kHz stereo, +faststart), with loudness
normalised to about -14 LUFS / -1 dBTP.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PIL import ImageFont

from assets.branding import FONTS_DIR
from assets.focus import Focus, crop_box
from assets.overlay import Layout
from assets.probe import MediaInfo
from campaign.errors import AssetError
from campaign.platforms import Variant

CRF = 21
PRESET = "veryfast"
LOUDNORM = "loudnorm=I=-14:TP=-1:LRA=11"
#: x264 threads per output, fixed rather than the machine's (x264 would pick 1.5 per core): x264's bytes
#: depend on its thread count, so a clip rendered by a worker on any machine is the file a local render
#: makes. Parallelism comes from several encoders at once instead: ffmpeg (>= 7) runs each output's
#: encoder on a thread of its own, the local pool renders one source per core, a worker renders one
#: output per core. Part of every clip's manifest key (`ENCODER_KEY`): changing it re-renders clips once.
ENCODER_THREADS = 1
#: The sound every output of a source carries: normalised and encoded ONCE per source (`ensure_sound`) into
#: the build folder's cache, then stream-copied into each output (each variant and language): a job saves
#: loudnorm and an AAC encode (about 10 % of its CPU). The encoder is deterministic (same bytes from any
#: worker), so racing workers write identical files and one rename wins.
SOUND_FILTER = f"{LOUDNORM},aresample=48000"
SOUND_KEY = {"filter": SOUND_FILTER, "codec": "aac", "bitrate": "128k", "rate": 48000, "channels": 2, "container": "mp4"}
#: The encoder settings an output's bytes depend on, in the manifest's input key of every clip.
ENCODER_KEY = {"codec": "libx264", "preset": PRESET, "crf": CRF, "threads": ENCODER_THREADS, "sound": SOUND_KEY}
SUBTITLE_FAMILIES = {"latin": "Noto Sans", "japanese": "Noto Sans CJK JP", "arabic": "Noto Sans Arabic"}
SUBTITLE_FONT_FILES = {"latin": "NotoSans-Bold.ttf", "japanese": "NotoSansJP-Bold.otf", "arabic": "NotoSansArabic-Bold.ttf"}


class FfmpegFailed(AssetError):
    """ffmpeg exited with an error or was killed. Locally the source is refused at once; a queue
    worker retries it with backoff first (a crash can be the machine's), and refuses it after N tries."""


@dataclass(frozen=True)
class ClipTarget:
    """One output of this clip."""

    variant: Variant
    overlay: Path
    output: Path
    subtitles: Path | None
    subtitle_script: str  # "latin", "japanese" or "arabic": picks the subtitle font family
    layout: Layout
    seconds: float  # length of the output (source length, or trimmed to the platforms' maximum)
    #: The source's sound made once (`ensure_sound`), stream-copied into this output; None: normalised and
    #: encoded in this render's own graph (only direct callers: the pipeline and workers always pass it).
    sound: Path | None = None


def ffmpeg_exe() -> str:
    # imageio_ffmpeg costs 0.1 s of start-up (measured): imported only when ffmpeg is run
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _escape(value: str) -> str:
    """Quote a filter option value; the values we pass (temp paths, styles) never need more than quotes."""
    if any(c in value for c in "'\\:;[]"):
        raise AssetError(f"internal: {value!r} cannot be passed safely to ffmpeg's filter graph")
    return "'" + value + "'"


def subtitle_style(target: ClipTarget) -> str:
    """ASS style overrides: brand font for the script, sized for a 390 px feed, above the lower third, inside the safe area.

    PlayResX/PlayResY are set to the frame, so every number here is in frame pixels (ffmpeg's
    SRT conversion says 384x288, which libass stretches unevenly on a 9:16 frame).
    """
    v = target.variant
    box = target.layout
    size = subtitle_font_size(box.subtitle_cap_px, target.subtitle_script)
    left, _, right, _ = box.area
    family = SUBTITLE_FAMILIES.get(target.subtitle_script, "Noto Sans")
    outline = max(1.0, round(size * 0.06, 1))
    return (
        f"PlayResX={v.width},PlayResY={v.height},WrapStyle=0,"
        f"FontName={family},FontSize={size},Bold=1,PrimaryColour=&H00FFFFFF,OutlineColour=&H00000000,"
        f"BackColour=&H80000000,BorderStyle=1,Outline={outline},Shadow={round(outline / 2, 1)},Alignment=2,"
        f"MarginL={left},MarginR={v.width - right},MarginV={max(2, v.height - box.subtitle_bottom)}"
    )


def subtitle_font_size(cap_px: float, script: str) -> int:
    """ASS FontSize giving capitals `cap_px` tall: libass sizes a font by its ascent + descent, not its em."""
    latin = ImageFont.truetype(str(FONTS_DIR / SUBTITLE_FONT_FILES["latin"]), 1000)
    top, bottom = latin.getbbox("H")[1::2]
    font = ImageFont.truetype(str(FONTS_DIR / SUBTITLE_FONT_FILES.get(script, SUBTITLE_FONT_FILES["latin"])), 1000)
    ascent, descent = font.getmetrics()
    scale = 1.2 if script == "arabic" else 1.0  # as the stamped text: Arabic letters are small for their size
    return max(6, math.ceil(cap_px * scale * (ascent + descent) / (bottom - top)))


def clip_command(source: Path, info: MediaInfo, focus: Focus, targets: list[ClipTarget], fonts_dir: Path, temp_outputs: list[Path],
                 threads: int | None = None) -> list[str]:
    """The one ffmpeg command for all targets of a clip (the source is decoded once).

    `threads` caps the decoder's and the filter graph's threads (None: ffmpeg's choice, one per core
    and more). A queue worker or a pool process renders on its share of the cores, beside others:
    threads of its own there only contend (2 workers on 2 cores spent 13 % more CPU per render than
    1, measured). Decoding and filtering give the same frames on any number of threads.
    """
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error"]
    if threads:  # the graph's, then the source decoder's (an input option: it goes just before -i)
        args += ["-filter_complex_threads", str(threads), "-threads", str(threads)]
    args += ["-i", str(source)]
    for target in targets:
        args += ["-i", str(target.overlay)]
    sounds = {target.sound for target in targets}
    sound = sounds.pop() if len(sounds) == 1 else None
    if sound is not None:
        args += ["-i", str(sound)]  # input len(targets) + 1
    by_variant: dict[Variant, list[int]] = {}
    for index, target in enumerate(targets):
        by_variant.setdefault(target.variant, []).append(index)
    graph: list[str] = []
    variant_inputs = [f"[s{n}]" for n in range(len(by_variant))]
    graph.append(f"[0:v]split={len(by_variant)}{''.join(variant_inputs)}" if len(by_variant) > 1 else "[0:v]null[s0]")
    for n, (variant, indices) in enumerate(by_variant.items()):
        left, top, right, bottom = crop_box(info.width, info.height, variant.width, variant.height, focus.x, focus.y)
        # Even crop sizes and offsets keep 4:2:0 chroma aligned.
        cw, ch = (right - left) // 2 * 2, (bottom - top) // 2 * 2
        chain = f"[s{n}]crop={cw}:{ch}:{left // 2 * 2}:{top // 2 * 2},scale={variant.width}:{variant.height}:flags=bicubic:out_range=tv,setsar=1"
        if len(indices) > 1:
            graph.append(chain + f",split={len(indices)}" + "".join(f"[c{i}]" for i in indices))
        else:
            graph.append(chain + f"[c{indices[0]}]")
    for i, target in enumerate(targets):
        chain = f"[c{i}][{i + 1}:v]overlay=0:0"
        if target.subtitles is not None:
            chain += (
                f",subtitles=filename={_escape(str(target.subtitles))}:fontsdir={_escape(str(fonts_dir))}"
                f":force_style={_escape(subtitle_style(target))}"
            )
        graph.append(chain + f"[v{i}]")
    if sound is None:
        audio_outs = "".join(f"[a{i}]" for i in range(len(targets)))
        graph.append(f"[0:a:0]{SOUND_FILTER}" + (f",asplit={len(targets)}{audio_outs}" if len(targets) > 1 else "[a0]"))
    args += ["-filter_complex", ";".join(graph)]
    for i, (target, temp) in enumerate(zip(targets, temp_outputs)):
        # A copied sound is cut on an AAC packet (21 ms at 48 kHz): the output lasts `seconds` to within one.
        sound_map, sound_codec = ((f"{len(targets) + 1}:a:0", ["-c:a", "copy"]) if sound is not None else
                                  (f"[a{i}]", sound_encoder()))
        args += [
            "-map", f"[v{i}]", "-map", sound_map, "-t", f"{target.seconds:.3f}",
            "-c:v", "libx264", "-threads", str(ENCODER_THREADS), "-preset", PRESET, "-crf", str(CRF), "-profile:v", "high", "-pix_fmt", "yuv420p", "-color_range", "tv",
            "-r", "30", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-flags", "+cgop",
            *sound_codec,
            "-map_metadata", "-1", "-map_chapters", "-1", "-movflags", "+faststart", "-f", "mp4", str(temp),
        ]
    return args


def sound_path(cache_dir: Path, source_sha256: str) -> Path:
    """Where the sound of the source with this content hash, made with today's settings (`SOUND_KEY`), is cached."""
    settings = hashlib.sha256(json.dumps(SOUND_KEY, sort_keys=True).encode()).hexdigest()[:12]
    return cache_dir / f"{source_sha256[:32]}-{settings}.m4a"


def sound_encoder() -> list[str]:
    """The AAC settings of every output's sound (`SOUND_KEY`), made once per source or in a render's own graph."""
    return ["-c:a", SOUND_KEY["codec"], "-b:a", SOUND_KEY["bitrate"], "-ar", str(SOUND_KEY["rate"]), "-ac", str(SOUND_KEY["channels"])]


def sound_command(source: Path, temp: Path) -> list[str]:
    """Normalise and encode the source's sound once: the audio every output of it stream-copies."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", "-i", str(source),
            "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", SOUND_FILTER, *sound_encoder(),
            "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact", "-f", "mp4", str(temp)]


def ensure_sound(source: Path, cache_dir: Path, source_sha256: str) -> Path:
    """The source's sound (`sound_path`), made now if no render made it before.

    Written to a temp file and renamed: two workers racing both write the same bytes (the AAC
    encoder is deterministic) and one rename wins; no reader ever sees a half-written file.
    """
    path = sound_path(cache_dir, source_sha256)
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    temp = cache_dir / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part"
    try:
        result = subprocess.run(sound_command(source, temp), capture_output=True, text=True, errors="replace")
        if result.returncode != 0:
            detail = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise FfmpegFailed(f"{source.name}: ffmpeg could not read the clip's sound ({detail}) — check that the file plays, "
                               "then export it again")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def render_clip(source: Path, info: MediaInfo, focus: Focus, targets: list[ClipTarget],
                report: Callable[[int], None] | None = None, threads: int | None = None) -> None:
    """Run the one ffmpeg command; outputs appear atomically only when ffmpeg succeeded.

    `report` is told the percent done as ffmpeg encodes (its `-progress` stream: the time of
    the last frame written, against the longest output).
    """
    with tempfile.TemporaryDirectory(prefix="eo-clip-") as work:
        work_dir = Path(work)
        # Subtitle files and fonts are reached through plain temp paths: no quoting surprises in the graph.
        fonts = work_dir / "fonts"
        fonts.symlink_to(FONTS_DIR, target_is_directory=True)
        staged: list[ClipTarget] = []
        for n, target in enumerate(targets):
            if target.subtitles is not None:
                copy = work_dir / f"sub{n}{target.subtitles.suffix.lower()}"
                shutil.copyfile(target.subtitles, copy)
                target = ClipTarget(**{**target.__dict__, "subtitles": copy})
            staged.append(target)
        temps = []
        for target in targets:
            target.output.parent.mkdir(parents=True, exist_ok=True)
            # Unique per render: a killed worker's ffmpeg may still be writing its own temp file.
            temps.append(target.output.parent / f".{target.output.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part.mp4")
        command = clip_command(source, info, focus, staged, fonts, temps, threads)
        returncode, stderr = _run_ffmpeg(command, max(t.seconds for t in targets), report)
        if returncode != 0:
            for temp in temps:
                temp.unlink(missing_ok=True)
            detail = " | ".join(stderr.strip().splitlines()[-3:])
            raise FfmpegFailed(f"{source.name}: ffmpeg could not render this clip ({detail}) — check that the file plays, "
                               "then export it again")
        for target, temp in zip(targets, temps):
            os.replace(temp, target.output)


def _run_ffmpeg(command: list[str], seconds: float, report: Callable[[int], None] | None) -> tuple[int, str]:
    """Run ffmpeg; with `report`, read its `-progress` stream and pass on the percent done."""
    if report is None:
        result = subprocess.run(command, capture_output=True, text=True, errors="replace")
        return result.returncode, result.stderr
    command = command[:1] + ["-progress", "pipe:1", "-nostats"] + command[1:]
    # stderr goes to a file: ffmpeg cannot block on a full pipe while we read its progress
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, errors="replace") as process:
            assert process.stdout is not None
            for line in process.stdout:
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit() and seconds > 0:
                    report(min(99, int(int(value) / 1e6 / seconds * 100)))
            returncode = process.wait()
        errors.seek(0)
        return returncode, errors.read()
