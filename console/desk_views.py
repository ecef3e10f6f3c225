"""What the designers' desk shows: each testimonial's raw files and every variant each channel needs.

Plain data read from the calendar, the inbox, the build folder's manifest, the render
progress the renderers record in the store, and the media approvals; no HTTP. The console's
pages and `GET /api/v1/media` both show exactly this.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assets.inbox import REJECTED_DIR, file_owners, rejected_files
from assets.intake import REPLACED_DIR, original_name
from assets.manifest import Manifest
from assets.needs import required_renders
from assets.progress import QUEUED, RENDERING
from campaign.calendar.models import Calendar
from campaign.platforms import VARIANTS
from scheduler.plan.preview import feed_crop, safe_zone_boxes
from scheduler.store import Store
from scheduler.store.media_approvals import MediaApprovals
from scheduler.store.renders import render_progress

#: What each state means to a designer (the page's words; the API gives the key).
STATE_WORDS = {
    "rendered": "rendered, up to date", "stale": "made from an earlier file; the new one renders next",
    "queued": "waits to render", "rendering": "rendering", "refused": "refused",
    "missing": "waits for its file in the inbox", "pending": "not rendered yet",
}


@dataclass
class RawFile:
    role: str  # photo, clip, subtitles
    name: str
    language: str | None = None
    present: bool = False
    bytes: int = 0
    versions: list[str] = field(default_factory=list)  # earlier files of this name, in replaced/ (newest first)


@dataclass
class VariantView:
    output: str
    kind: str
    variant: str
    label: str
    language: str
    width: int
    height: int
    platforms: list[str]
    state: str
    percent: int = 0
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    upscale: float | None = None
    version: int = 0  # the rendered file's modification time (ns): a new render is a new image URL
    crops: dict[str, float] = field(default_factory=dict)  # platform -> the aspect its feed shows
    zones: list[dict[str, Any]] = field(default_factory=list)  # the apps' safe zones, % of the frame

    @property
    def words(self) -> str:
        return STATE_WORDS.get(self.state, self.state)

    @property
    def feed_aspect(self) -> float | None:
        return next(iter(self.crops.values()), None)


@dataclass
class TestimonialMedia:
    id: str
    name: str
    country: str
    files: list[RawFile]
    variants: list[VariantView]
    approval_needed: dict[str, list[str]]  # kind -> channels with media_approval that post it
    approvals: dict[str, dict[str, Any]]  # kind -> {sha256, approved_by, approved_at, current}

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = defaultdict(int)
        for v in self.variants:
            found[v.state] += 1
        return dict(found)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for view, raw in zip(self.variants, data["variants"]):
            raw["feed_aspect"] = view.feed_aspect
        return data


@dataclass
class RejectedView:
    file: str  # its name in rejected/
    name: str  # the name it had when it arrived
    reason: str
    bytes: int


def desk(calendar: Calendar | None, inbox: Path, build: Path, store: Store, testimonial: str | None = None) -> list[TestimonialMedia]:
    """Every testimonial (or just one) with its raw files and the state of each variant it needs."""
    if calendar is None:
        return []
    manifest = Manifest.load(Path(build))
    jobs = required_renders(calendar)
    progress = {p.output: p for p in render_progress(store, testimonial=testimonial)}
    approvals = MediaApprovals(store.engine).all()
    media_channels: dict[tuple[str, str], set[str]] = defaultdict(set)
    for job in jobs:
        for channel in calendar.channels:
            if channel.media_approval and channel.platform.value in job.platforms:
                media_channels[(job.testimonial_id, job.kind)].add(channel.id)
    found = []
    for t in calendar.testimonials:
        if testimonial is not None and t.id != testimonial:
            continue
        files = [_raw(inbox, "photo", t.photo)] if t.photo else []
        files += [_raw(inbox, "clip", t.clip)] if t.clip else []
        files += [_raw(inbox, "subtitles", name, language) for language, name in sorted(t.subtitles.items())]
        variants = [_variant(job, manifest, progress.get(job.output), Path(inbox), Path(build))
                    for job in jobs if job.testimonial_id == t.id]
        kinds = {"photo": t.photo, "clip": t.clip}
        approved = {}
        for kind in ("photo", "clip"):
            given = approvals.get((t.id, kind))
            if given is not None:
                source = Path(inbox) / (kinds[kind] or "")
                known = manifest.sources.get(kinds[kind] or "")
                current = given.is_file(source) or (known is not None and not _changed(source, known)
                                                     and known.get("sha256") == given.sha256)
                approved[kind] = {"sha256": given.sha256, "approved_by": given.approved_by,
                                  "approved_at": given.approved_at.isoformat(), "current": current}
        found.append(TestimonialMedia(t.id, t.name, t.country, files, variants,
                                      {k: sorted(v) for (tid, k), v in media_channels.items() if tid == t.id}, approved))
    return found


def rejected(inbox: Path) -> list[RejectedView]:
    """The files in rejected/ with the reason each was refused and the name it arrived with."""
    found = []
    for path, why in rejected_files(Path(inbox)):
        note = path.with_name(path.name + ".why.txt")
        lines = why.splitlines()
        reason = "\n".join(line for line in lines[1:] if line and not line.startswith("Fix it and drop")) or why
        found.append(RejectedView(path.name, original_name(note) or path.name, reason.strip(), path.stat().st_size))
    return found


def unknown_names(calendar: Calendar | None, inbox: Path) -> list[str]:
    """Rejected files whose name no testimonial gives (they can be assigned to one)."""
    known = file_owners(calendar) if calendar else {}
    return [r.file for r in rejected(inbox) if r.name not in known]


def inbox_path(inbox: Path, area: str, name: str) -> Path | None:
    """A raw file the desk may show: in the inbox, rejected/ or replaced/, never outside (no links out)."""
    folder = {"inbox": Path(inbox), "rejected": Path(inbox) / REJECTED_DIR, "replaced": Path(inbox) / REPLACED_DIR}.get(area)
    if folder is None or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = folder / name
    return path if path.is_file() and not path.is_symlink() else None


def _changed(source: Path, known: dict[str, Any] | None) -> bool:
    """The inbox holds another file than the one last rendered (size or modification time differ)."""
    try:
        stat = source.stat()
    except OSError:
        return False
    return known is None or (known.get("size"), known.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns)


def _raw(inbox: Path, role: str, name: str, language: str | None = None) -> RawFile:
    path = Path(inbox) / name
    present = path.is_file() and not path.is_symlink()
    stem, suffix = Path(name).stem, Path(name).suffix
    replaced = Path(inbox) / REPLACED_DIR
    versions = sorted((p.name for p in replaced.glob(f"{stem}.*{suffix}")), reverse=True) if replaced.is_dir() else []
    return RawFile(role, name, language, present, path.stat().st_size if present else 0, versions)


def _variant(job, manifest: Manifest, progress, inbox: Path, build: Path) -> VariantView:  # type: ignore[no-untyped-def]
    variant = VARIANTS.get(job.variant.name, job.variant)
    view = VariantView(job.output, job.kind, variant.name, variant.label, job.language, variant.width, variant.height,
                       list(job.platforms), state="pending",
                       crops={p: c for p in job.platforms if (c := feed_crop(p, variant.name))},
                       zones=safe_zone_boxes(variant.name))
    recorded = manifest.outputs.get(job.output)
    refused = manifest.refusal(job.output)
    source = inbox / job.source
    if progress is not None and progress.state in (QUEUED, RENDERING):
        view.state, view.percent = progress.state, progress.percent
    elif (recorded or refused) and _changed(source, manifest.sources.get(job.source)):
        view.state = "stale"  # what is shown was made from (or refused for) an earlier file
    elif refused is not None:
        view.state, view.reason = "refused", str(refused.get("reason"))
    elif recorded and (build / job.output).is_file():
        view.state, view.percent = "rendered", 100
    elif not source.is_file():
        view.state, view.reason = "missing", f"waits for {job.source} in the inbox"
    elif job.subtitles and not (inbox / job.subtitles).is_file():
        view.state, view.reason = "missing", f"waits for its subtitles {job.subtitles} in the inbox"
    if recorded:
        view.warnings = list(recorded.get("warnings") or [])
        view.notes = list(recorded.get("notes") or [])
        view.upscale = recorded.get("upscale")
        try:
            view.version = (build / job.output).stat().st_mtime_ns
        except OSError:
            pass
    return view
