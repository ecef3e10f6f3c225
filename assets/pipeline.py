"""`render_all`: render what the calendar needs from the inbox, in parallel, incrementally, never losing a file.

Used by `run.py render`, the daemon's inbox watcher and the demo. The parent process
decides what is stale (cheap: stats, hashes cached by size+mtime, the manifest) and hands
whole sources to a process pool, so each photo or clip is decoded once.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from assets.branding import brand_assets, overlay_fingerprint, overlay_text
from assets.clip import ENCODER_KEY
from assets.inbox import DEFAULT_SETTLE_SECONDS, file_owners, inbox_files, link_leaving, reject, still_changing, unknown_name
from assets.manifest import PIPELINE_VERSION, Manifest, input_key
from assets.needs import RenderJob, required_renders
from assets.progress import RenderListener
from assets.speech.drafts import draft_name
from campaign.platforms import Variant
from assets.subtitles import read_subtitles
from assets.worker import JobSpec, SourceResult, SourceTask, run_source
from campaign.calendar.loader import LoadedCalendar

DEFAULT_INBOX = Path("inbox")
DEFAULT_OUT = Path("build")
CACHE_DIR = ".cache/overlays"


@dataclass(frozen=True)
class ProgressEvent:
    """Sent after each source: how many outputs are done out of how many need rendering."""

    done: int
    total: int
    message: str


ProgressFn = Callable[[ProgressEvent], None]


SUMMARY_LISTS = ("rendered", "skipped", "rejected", "missing", "errors", "queued")
#: Hands the sources to render to someone else (render workers) instead of rendering them here,
#: with the manifest (source hashes, refusals found here) to save beside the workers' records;
#: answers one summary entry per output it queued.
Dispatch = Callable[[list[SourceTask], Manifest], list[dict[str, Any]]]


@dataclass
class RenderSummary:
    """What a run did. Every entry has a human reason; `to_dict()` is the `--json` output."""

    rendered: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # rendered but failed the platform check
    queued: list[dict[str, Any]] = field(default_factory=list)  # handed to render workers (`render --queue`)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """0 when everything needed was rendered or already up to date, 1 otherwise."""
        return 1 if (self.rejected or self.missing or self.errors) else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "counts": {k: len(getattr(self, k)) for k in SUMMARY_LISTS},
            **{k: getattr(self, k) for k in SUMMARY_LISTS},
            "seconds": round(self.seconds, 3),
        }


def render_all(
    loaded: LoadedCalendar,
    inbox: Path,
    out: Path,
    *,
    workers: int | None = None,
    progress: ProgressFn | None = None,
    variants: Mapping[str, Variant] | None = None,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    move_rejected: bool = True,
    listener: RenderListener | None = None,
    dispatch: Dispatch | None = None,
) -> RenderSummary:
    """Render every missing or stale output the calendar needs; report the rest with reasons.

    `variants` replaces frame sizes (tests use tiny frames); `settle_seconds` is how long a
    recently modified file is watched for a copy still in progress. `listener` is told each
    output's progress (queued, rendering with percent, done, refused with the reason). `workers`:
    sources rendered at once (None: one per core, as each clip encoder runs on one thread). With
    `dispatch`, what needs rendering is handed to it (one job per output on the render queue)
    and listed as `queued`; the workers record their renders in the manifest themselves.
    """
    started = time.monotonic()
    inbox, out = Path(inbox), Path(out)
    calendar = loaded.calendar
    summary = RenderSummary()
    brand = brand_assets(loaded)
    manifest = Manifest.load(out)
    jobs = required_renders(calendar, variants)
    files: dict[str, Path] = {}
    for path in inbox_files(inbox):
        leaving = link_leaving(path, inbox)
        if leaving:
            _reject(summary, path, inbox, leaving, move_rejected)
        elif path.is_file():
            files[path.name] = path
    testimonials = {t.id: t for t in calendar.testimonials}

    owners = {name: owner.testimonial for name, owner in file_owners(calendar).items()}
    drafts: dict[str, str] = {}  # subtitle drafts (assets.speech): never burned in, never rejected
    for t in calendar.testimonials:
        if t.clip:
            drafts.update({draft_name(t.clip, lang): t.id for lang in {*t.subtitles, t.spoken_language}})
    for name, path in files.items():
        if name in drafts and name not in owners:
            summary.skipped.append({"source": name, "testimonial": drafts[name],
                                    "reason": "a subtitle draft: it waits for a person's approval and is never burned in"})
        elif name not in owners:
            _reject(summary, path, inbox, unknown_name(name, owners), move_rejected)

    groups: dict[tuple[str, str], list[RenderJob]] = defaultdict(list)
    for job in jobs:
        groups[job.source_key].append(job)
    wanted = {j.source for j in jobs} | {j.subtitles for j in jobs if j.subtitles}
    for name in sorted(set(owners) & set(files) - wanted):
        summary.skipped.append({"source": name, "reason": "no moment in the calendar uses this file"})
    changing = still_changing([files[n] for n in sorted(wanted) if n in files], settle_seconds)
    # Every subtitle file is parsed before any clip renders: a bad one is refused for its language only.
    bad_subtitles: dict[str, str] = {}
    for name in sorted({j.subtitles for j in jobs if j.subtitles}):
        path = files.get(name)
        if path is None or path in changing:
            continue
        report = read_subtitles(path)
        if not report.ok:
            bad_subtitles[name] = f"subtitle file refused: {report.reason()}"
            _reject(summary, path, inbox, "\n".join(report.problems), move_rejected, testimonial=owners.get(name))
            manifest.sources.pop(name, None)
    settled = {name: path for name, path in files.items() if path not in changing and name not in bad_subtitles}
    caption_tracks(calendar, settled, {j.subtitles for j in jobs if j.subtitles}, out)

    tasks: list[SourceTask] = []
    for (testimonial_id, kind), group in sorted(groups.items()):
        source_name = group[0].source
        source = files.get(source_name)
        if source is None:
            summary.missing.append({
                "source": source_name, "testimonial": testimonial_id, "outputs": [j.output for j in group],
                "reason": f"{source_name} is not in the inbox {inbox} — drop the {kind} there",
            })
            continue
        if source in changing:
            summary.rejected.append({"source": source_name, "moved_to": None,
                                     "reason": f"{source_name} is still being copied (its size keeps changing) — it will render on the next run"})
            continue
        source_hash = manifest.source_hash(source)
        testimonial = testimonials[testimonial_id]
        specs: list[JobSpec] = []
        for job in group:
            subtitle_path, subtitle_hash = None, None
            if job.subtitles:
                if job.subtitles in bad_subtitles:
                    _refuse(summary, manifest, out, job.output, None, bad_subtitles[job.subtitles], "rejected",
                            source=job.subtitles, testimonial=testimonial_id, language=job.language)
                    if listener:
                        listener.refused(job, bad_subtitles[job.subtitles])
                    continue
                subtitle_path = files.get(job.subtitles)
                draft = draft_name(source_name, job.language)
                if subtitle_path is None and draft in files:
                    # The old render (earlier subtitles) must not go out while the new ones wait for a person.
                    _refuse(summary, manifest, out, job.output, None,
                            f"subtitles: draft — {draft} waits for approval (console, or `python run.py subtitles approve "
                            f"{testimonial_id} --language {job.language}`)", "missing",
                            source=job.subtitles, testimonial=testimonial_id, language=job.language)
                    continue
                if subtitle_path is None:
                    summary.missing.append({"source": job.subtitles, "testimonial": testimonial_id, "outputs": [job.output],
                                            "reason": f"subtitle file {job.subtitles} is not in the inbox {inbox} — drop it there"})
                    continue
                if subtitle_path in changing:
                    summary.rejected.append({"source": job.subtitles, "output": job.output, "moved_to": None,
                                             "reason": f"{job.subtitles} is still being copied — it will render on the next run"})
                    continue
                subtitle_hash = manifest.source_hash(subtitle_path)
            text = overlay_text(loaded, testimonial, job.language)
            fingerprint = overlay_fingerprint(brand, text)
            key = input_key({
                "source": source_hash, "brand": fingerprint, "subtitles": subtitle_hash, "kind": job.kind,
                "variant": [job.variant.name, job.variant.width, job.variant.height], "platforms": list(job.platforms),
                "focus": [testimonial.focus.x, testimonial.focus.y] if testimonial.focus else None,
                # A clip's bytes depend on the encoder's settings (its thread count too): a change re-renders
                # clips once; photos' keys stay as they were (no photo re-rendered for a clip setting).
                **({"encoder": ENCODER_KEY} if job.kind == "clip" else {}),
            })
            if manifest.is_current(job.output, key, out):
                summary.skipped.append({"output": job.output, "source": source_name, "reason": "up to date"})
                continue
            refused = manifest.refusal(job.output, key)
            if refused is not None:  # same inputs, same outcome: not rendered again only to be refused again
                getattr(summary, refused["listed_as"]).append({
                    "output": job.output, "source": source_name, "testimonial": testimonial_id, "moved_to": None,
                    "variant": job.variant.name, "language": job.language, "kind": job.kind, "problems": [],
                    "reason": refused["reason"] + " (inputs unchanged since; not rendered again)"})
                _remove_output(out, job.output)
                if listener:
                    listener.refused(job, refused["reason"])
                continue
            specs.append(JobSpec(job, text, fingerprint, subtitle_path, key))
        if specs:
            focus = (testimonial.focus.x, testimonial.focus.y) if testimonial.focus else None
            tasks.append(SourceTask(testimonial_id, kind, source, focus, tuple(specs), brand, out, out / CACHE_DIR,
                                    source_sha256=source_hash))

    total = sum(len(t.specs) for t in tasks)
    if listener:
        listener.queued([spec.job for task in tasks for spec in task.specs])
    if dispatch is not None:
        summary.queued += dispatch(tasks, manifest)
        summary.seconds = time.monotonic() - started
        return summary
    done = 0
    for result in _run(tasks, workers or os.cpu_count() or 1, listener):
        done += len(result.task.specs)
        collect(summary, manifest, result, inbox, move_rejected)
        if listener:
            tell_listener(listener, result)
        manifest.save()  # after each source: an interrupted batch keeps what it finished
        if progress:
            progress(ProgressEvent(done, total, _describe(result)))
    manifest.save()  # refusals found before rendering; writes nothing when nothing changed
    summary.seconds = time.monotonic() - started
    return summary


def _run(tasks: list[SourceTask], workers: int, listener: RenderListener | None = None):  # type: ignore[no-untyped-def]
    """Yield results as sources finish; clips first (they take longest), in a pool when it pays."""
    tasks = sorted(tasks, key=lambda t: (t.kind != "clip", -len(t.specs)))
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_source(replace(task, progress=ProgressRelay(listener, task)) if listener else task)
        return
    processes = min(workers, len(tasks))
    # Each process gets its share of the cores for its photo threads (more only oversubscribes).
    tasks = [replace(task, threads=max(1, (os.cpu_count() or 1) // processes)) for task in tasks]
    # spawn, not fork: the daemon calls this from a thread, and forking a threaded process is unsafe.
    context = multiprocessing.get_context("spawn")
    with contextlib.ExitStack() as stack:
        if listener:  # the processes put (output, percent) on a managed queue; a thread here passes it on
            queue = stack.enter_context(context.Manager()).Queue()
            relay = threading.Thread(target=_drain, args=(queue, listener, tasks), name="render-progress", daemon=True)
            relay.start()
            stack.callback(relay.join)
            stack.callback(queue.put, None)
            tasks = [replace(task, progress=queue) for task in tasks]
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=processes, mp_context=context))
        futures = {pool.submit(run_source, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a crashed worker must not stop the batch
                yield SourceResult(futures[future], crash=f"the worker rendering it failed ({error})")


class ProgressRelay:
    """Progress put by a render in this process, passed straight to the listener."""

    def __init__(self, listener: RenderListener, task: SourceTask) -> None:
        self.listener = listener
        self.jobs = {spec.job.output: spec.job for spec in task.specs}

    def put(self, item: tuple[str, int]) -> None:
        output, percent = item
        self.listener.rendering(self.jobs[output], percent)


def _drain(queue, listener: RenderListener, tasks: list[SourceTask]) -> None:  # type: ignore[no-untyped-def]
    jobs = {spec.job.output: spec.job for task in tasks for spec in task.specs}
    while (item := queue.get()) is not None:
        output, percent = item
        listener.rendering(jobs[output], percent)


def tell_listener(listener: RenderListener, result: SourceResult) -> None:
    """Each output of a finished source: done, or refused with the reason the summary gives."""
    specs = {spec.job.output: spec.job for spec in result.task.specs}
    problem = result.source_error or (result.crash and result.crash + " — the source stays in the inbox; run again")
    if problem:
        for job in specs.values():
            listener.refused(job, problem)
        return
    for outcome in result.jobs:
        job = specs[outcome.output]
        if outcome.error:
            listener.refused(job, outcome.error)
        elif outcome.problems:
            listener.refused(job, broken_rule(outcome.problems))
        else:
            listener.done(job)


def collect(summary: RenderSummary, manifest: Manifest, result: SourceResult, inbox: Path, move: bool) -> None:
    task = result.task
    if result.source_error:
        _reject(summary, task.source, inbox, result.source_error, move, testimonial=task.testimonial_id)
        manifest.sources.pop(task.source.name, None)
        for spec in task.specs:  # renders of an earlier version of this file are stale now
            manifest.refuse(spec.job.output, None, result.source_error, "rejected")
            _remove_output(task.out, spec.job.output)
        if task.kind == "clip":  # caption tracks travel with the clip: a refused clip leaves none behind
            _remove_caption_tracks(task.out / task.testimonial_id)
        return
    if result.crash:
        summary.errors.append({"source": task.source.name, "problems": [result.crash],
                               "reason": result.crash + " — the source stays in the inbox; run again"})
        return
    for job in result.jobs:
        spec = next(s for s in task.specs if s.job.output == job.output)
        base = {"output": job.output, "source": task.source.name, "testimonial": task.testimonial_id,
                "variant": spec.job.variant.name, "language": spec.job.language, "kind": task.kind}
        if job.error:
            summary.rejected.append({**base, "moved_to": None, "reason": job.error})
            manifest.refuse(job.output, job.input_key, job.error, "rejected")
            _remove_output(task.out, job.output)
        elif job.problems:
            reason = broken_rule(job.problems)
            summary.errors.append({**base, "problems": job.problems, "reason": reason})
            manifest.refuse(job.output, job.input_key, reason, "errors")
            _remove_output(task.out, job.output)
        else:
            upscale = round(job.upscale, 2) if job.upscale > 1 else None
            summary.rendered.append({**base, "bytes": job.bytes, "platforms": list(spec.job.platforms), "focus": result.focus,
                                     "notes": job.notes, "warnings": job.warnings, "upscale": upscale})
            manifest.record(job.output, {
                "upscale": upscale, "warnings": job.warnings,  # the preview shows them beside the post
                "notes": job.notes,  # trimmed for a platform's limit, quality lowered (the media desk shows them)
                **base, "input_key": job.input_key, "source_sha256": task.source_sha256 or None,
                "brand_fingerprint": spec.fingerprint, "platforms": list(spec.job.platforms),
                "bytes": job.bytes, "sha256": job.sha256, "pipeline_version": PIPELINE_VERSION,
            })


def broken_rule(problems: list[str]) -> str:
    return "the rendered file breaks a platform rule and was removed: " + "; ".join(problems)


CAPTIONS = "captions"  # build/<testimonial>/captions/<language>.srt|.vtt


def caption_tracks(calendar: Any, files: Mapping[str, Path], used: set[str], out: Path) -> None:
    """Keep `build/<testimonial>/captions/<language><ext>` equal to each subtitle file the clips burn
    in that passed the checks (drafts never: they have other names), for platforms that take
    caption tracks beside the clip; a copy whose file left the inbox or was refused is removed."""
    for testimonial in calendar.testimonials:
        if not testimonial.clip:
            continue
        folder = out / testimonial.id / CAPTIONS
        keep: set[str] = set()
        for language, name in sorted(testimonial.subtitles.items()):
            source = files.get(name)
            if source is None or name not in used:
                continue
            target = folder / (language + Path(name).suffix.lower())
            data = source.read_bytes()
            if not target.is_file() or target.read_bytes() != data:
                folder.mkdir(parents=True, exist_ok=True)
                temporary = target.with_name(target.name + ".tmp")
                temporary.write_bytes(data)
                temporary.replace(target)
            keep.add(target.name)
        if folder.is_dir():
            for stale in folder.iterdir():
                if stale.name not in keep:
                    stale.unlink()


def _remove_caption_tracks(folder: Path) -> None:
    """Delete the testimonial's caption copies, and its build folder when nothing else is left in it."""
    captions = folder / CAPTIONS
    if captions.is_dir():
        for copy in captions.iterdir():
            copy.unlink()
        captions.rmdir()
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _remove_output(out: Path, output: str) -> None:
    """Delete a stale render: the planner and the daemon must never take it for the current one."""
    (out / output).unlink(missing_ok=True)


def _refuse(summary: RenderSummary, manifest: Manifest, out: Path, output: str, key: str | None, reason: str,
            listed_as: str, **details: Any) -> None:
    getattr(summary, listed_as).append({"output": output, "moved_to": None, "reason": reason, **details})
    manifest.refuse(output, key, reason, listed_as)
    _remove_output(out, output)


def _reject(summary: RenderSummary, path: Path, inbox: Path, reason: str, move: bool, testimonial: str | None = None) -> None:
    moved = None
    if move and path.exists():
        try:
            moved = str(reject(path, inbox, reason))
        except OSError as error:
            reason += f" (could not move it to rejected/: {error}; it stays in the inbox)"
    entry = {"source": path.name, "moved_to": moved, "reason": reason}
    if testimonial:
        entry["testimonial"] = testimonial
    summary.rejected.append(entry)


def _describe(result: SourceResult) -> str:
    name = result.task.source.name
    if result.source_error:
        return f"{name}: rejected"
    ok = sum(1 for j in result.jobs if not j.error and not j.problems)
    return f"{name}: {ok}/{len(result.jobs)} rendered"



@contextlib.contextmanager
def render_lock(out: Path):  # type: ignore[no-untyped-def]
    """One render of a build folder at a time across processes (the daemon's inbox job and the
    console's background renders share `build/`, its manifest and its overlay cache)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".render.lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
