"""Render all outputs of one source (in a worker process) and check each against its platforms.

Everything a worker needs travels in a picklable `SourceTask`; it answers with a
`SourceResult`. A bad source becomes `source_error` (the batch goes on); a problem that
concerns only one output (photo too small for a frame, clip too short for a platform,
a broken subtitle file) becomes that output's `error`.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assets.branding import BrandAssets, OverlayText, file_hash
from assets.clip import ClipTarget, FfmpegFailed, ensure_sound, render_clip
from assets.conformance import check_clip, check_photo
from assets.focus import Focus, choose_focus, crop_box
from assets.needs import RenderJob
from assets.overlay import ensure_overlay, layout
from assets.photo import PhotoTarget, render_photo
from assets.probe import audio_peak_dbfs, first_frame_rgb, probe
from assets.specs import VARIANT_PLACEMENTS, safe_insets
from assets.subtitles import read_subtitles, to_srt
from campaign.errors import AssetError
from campaign.languages import script_of
from campaign.platforms import PLATFORMS, Variant

UPSCALE_WARNING = 1.05  # enlarging a source by more than this is visible on a sharp phone screen
SILENT_DBFS = -50.0  # a voice peaks far above this; a muted export sits at -inf or in the noise floor


@dataclass(frozen=True)
class JobSpec:
    job: RenderJob
    text: OverlayText
    fingerprint: str
    subtitles: Path | None
    input_key: str


@dataclass(frozen=True)
class SourceTask:
    testimonial_id: str
    kind: str
    source: Path
    manual_focus: tuple[float, float] | None
    specs: tuple[JobSpec, ...]
    brand: BrandAssets
    out: Path
    cache_dir: Path
    threads: int = 0  # threads inside one render (a photo's pool, a clip's decoder and filters); 0: all cores (the pool sets its share)
    #: Where the percent of each output goes while it renders: anything with put((output, percent)),
    #: e.g. a multiprocessing manager's queue the parent drains (None: nobody listens).
    progress: Any = None
    source_sha256: str = ""  # recorded in the manifest beside each output
    #: Every variant made from this source in the batch, when this task makes only some (a queue job
    #: makes one): photos decode at the scale all need, so the file is the one a whole batch makes.
    siblings: tuple[Variant, ...] = ()


@dataclass
class JobResult:
    output: str
    input_key: str
    error: str | None = None  # not rendered, with the reason
    problems: list[str] = field(default_factory=list)  # rendered but not conforming
    bytes: int = 0
    sha256: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # rendered, but a person should look (an enlarged source)
    upscale: float = 1.0


@dataclass
class SourceResult:
    task: SourceTask
    source_error: str | None = None  # the source is unusable: it moves to rejected/
    crash: str | None = None  # our failure, not the file's: the source stays where it is
    retryable: bool = False  # ffmpeg failed or we crashed: another try may succeed (queue workers retry)
    focus: str = ""
    jobs: list[JobResult] = field(default_factory=list)


def run_source(task: SourceTask) -> SourceResult:
    """Render one source; never raises for bad input (that is reported in the result)."""
    _report(task, task.specs, 0)
    try:
        if task.kind == "photo":
            return _photo(task)
        return _clip(task)
    except FfmpegFailed as error:
        return SourceResult(task, source_error=str(error), retryable=True)
    except AssetError as error:
        return SourceResult(task, source_error=str(error))
    except Exception as error:  # a bug or a machine problem must not stop the batch or blame the file
        return SourceResult(task, crash=f"{type(error).__name__}: {error}", retryable=True)


def _report(task: SourceTask, specs: tuple[JobSpec, ...] | list[JobSpec], percent: int) -> None:
    if task.progress is not None:
        for spec in specs:
            task.progress.put((spec.job.output, percent))


def _overlay(task: SourceTask, spec: JobSpec) -> Path:
    v = spec.job.variant
    return ensure_overlay(task.cache_dir / task.testimonial_id, spec.fingerprint, v.width, v.height, task.brand, spec.text, v.name)


def _finish(task: SourceTask, spec: JobSpec, problems: list[str], notes: list[str], upscale: float = 1.0) -> JobResult:
    path = task.out / spec.job.output
    warnings = [upscale_warning(task.source.name, spec.job.variant, upscale)] if upscale > UPSCALE_WARNING else []
    if problems:
        path.unlink(missing_ok=True)  # a file a platform would refuse must not be picked up by the planner
        return JobResult(spec.job.output, spec.input_key, problems=problems, notes=notes, warnings=warnings, upscale=upscale)
    data = path.read_bytes()
    return JobResult(spec.job.output, spec.input_key, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), notes=notes,
                     warnings=warnings, upscale=upscale)


def face_zone_warnings(source: str, variant: Variant, face: tuple[float, float]) -> list[str]:
    """The speaker's face (its centre, as shares of the frame) inside a zone the app covers on this variant."""
    left, top, right, bottom = safe_insets(variant.name)
    x, y = face
    if left <= x <= 1 - right and top <= y <= 1 - bottom:
        return []
    placements = " and ".join(VARIANT_PLACEMENTS.get(variant.name, ()))
    return [f"{source}: the face is at {x:.0%} across, {y:.0%} down the {variant.name} frame, under the {placements} interface "
            f"(keep it {top:.0%}-{1 - bottom:.0%} down) — set the testimonial's `focus:` or supply footage framed for 9:16"]


def upscale_warning(source: str, variant: Variant, factor: float) -> str:
    return (f"{source} was enlarged {factor:.1f}x to fill {variant.name} {variant.width}x{variant.height}: it will look soft — "
            f"supply a source at least {factor:.1f}x larger")


def _photo(task: SourceTask) -> SourceResult:
    targets = [
        PhotoTarget(s.job.variant, _overlay(task, s), task.out / s.job.output, s.job.platforms) for s in task.specs
    ]
    focus, outcomes = render_photo(task.source, targets, task.manual_focus, threads=task.threads or None,
                                   decode_for=task.siblings)
    result = SourceResult(task, focus=focus.source)
    for spec, outcome in zip(task.specs, outcomes):
        if outcome.error:
            result.jobs.append(JobResult(spec.job.output, spec.input_key, error=outcome.error))
            continue
        notes = [f"JPEG quality lowered to {outcome.quality} to fit the size limit"] if outcome.quality < 88 else []
        problems = check_photo(outcome.output, spec.job.variant, spec.job.platforms)
        finished = _finish(task, spec, problems, notes, outcome.upscale)
        if focus.source != "centre" and outcome.focus_at is not None:
            finished.warnings += face_zone_warnings(task.source.name, spec.job.variant, outcome.focus_at)
        result.jobs.append(finished)
    return result


def _clip(task: SourceTask) -> SourceResult:
    info = check_clip_source(task.source)
    focus: Focus = choose_focus(task.manual_focus, first_frame_rgb(task.source) if task.manual_focus is None else None)
    with tempfile.TemporaryDirectory(prefix="eo-subs-") as temp:
        return _clip_outputs(task, info, focus, Path(temp))


def check_clip_source(source: Path):  # type: ignore[no-untyped-def]
    """What makes a clip unusable whatever the variant (not a readable video, no picture, no or a
    silent sound track): AssetError with the fix. Run before rendering and on every upload."""
    info = probe(source)
    if not info.has_audio:
        raise AssetError(
            f"{source.name}: the clip has no sound track — a testimonial needs the speaker's voice; "
            "export it again with audio (platforms also require an AAC track)"
        )
    peak = audio_peak_dbfs(source)
    if peak < SILENT_DBFS:
        raise AssetError(
            f"{source.name}: the sound track is silent (peak {peak:.0f} dBFS) — the export was probably muted; "
            "export it again with the speaker's voice"
        )
    return info


def _clip_outputs(task: SourceTask, info, focus: Focus, work: Path) -> SourceResult:  # type: ignore[no-untyped-def]
    result = SourceResult(task, focus=focus.source)
    rendered: list[tuple[JobSpec, ClipTarget, list[str]]] = []
    for spec in task.specs:
        job = spec.job
        specs = [PLATFORMS[p] for p in job.platforms]
        longest = min((s.video_max_seconds for s in specs), default=info.duration)
        shortest = max((s.video_min_seconds for s in specs), default=0.0)
        if info.duration < shortest:
            strict = [p for p in job.platforms if PLATFORMS[p].video_min_seconds > info.duration]
            result.jobs.append(JobResult(job.output, spec.input_key, error=(
                f"the clip lasts {info.duration:.1f} s; {', '.join(strict)} need at least {shortest:g} s — supply a longer clip")))
            continue
        notes = []
        seconds = info.duration
        if info.duration > longest:
            seconds = longest
            notes.append(f"trimmed from {info.duration:.1f} s to {longest:g} s ({', '.join(job.platforms)} limit)")
        subtitles = None
        if spec.subtitles is not None:
            report = read_subtitles(spec.subtitles, clip_seconds=info.duration)
            if not report.ok:
                result.jobs.append(JobResult(job.output, spec.input_key, error=f"subtitle file refused: {report.reason()}"))
                continue
            # ffmpeg reads the cues that were checked, written out again, never the dropped file itself.
            subtitles = work / f"{len(rendered)}.srt"
            subtitles.write_text(to_srt(report.cues), encoding="utf-8")
        target = ClipTarget(
            variant=job.variant,
            overlay=_overlay(task, spec),
            output=task.out / job.output,
            subtitles=subtitles,
            subtitle_script=script_of(job.language),
            layout=layout(job.variant.width, job.variant.height, task.brand, spec.text, job.variant.name),
            seconds=seconds,
        )
        rendered.append((spec, target, notes))
    if rendered:
        # The sound is normalised and encoded once per source, where every worker sees it (the build
        # folder's cache), and stream-copied into each output: every variant and language carries it.
        sound = ensure_sound(task.source, sound_cache(task), task.source_sha256 or file_hash(task.source))
        rendered = [(spec, replace(target, sound=sound), notes) for spec, target, notes in rendered]
        started = [spec for spec, _, _ in rendered]
        report = (lambda percent: _report(task, started, percent)) if task.progress is not None else None
        render_clip(task.source, info, focus, [target for _, target, _ in rendered], report=report,
                    threads=task.threads or None)
    for spec, target, notes in rendered:
        problems = check_clip(target.output, spec.job.variant, spec.job.platforms, expected_seconds=target.seconds)
        v = spec.job.variant
        left, top, right, bottom = crop_box(info.width, info.height, v.width, v.height, focus.x, focus.y)
        finished = _finish(task, spec, problems, notes, v.width / max(1, right - left))
        if focus.source != "centre":
            finished.warnings += face_zone_warnings(task.source.name, v, ((focus.x * info.width - left) / (right - left),
                                                                          (focus.y * info.height - top) / (bottom - top)))
        result.jobs.append(finished)
    return result


def sound_cache(task: SourceTask) -> Path:
    """The sounds' cache: beside the overlays' (`build/.cache/sound`), on the build folder every worker mounts."""
    return task.cache_dir.parent / "sound"


def subtitle_problem(path: Path, clip_seconds: float | None = None) -> str | None:
    """Why a subtitle file cannot be burned in, or None (every problem with its `file:LINE:`)."""
    report = read_subtitles(path, clip_seconds)
    return None if report.ok else report.reason()
