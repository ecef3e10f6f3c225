"""A file that arrives through the console or the API goes into the inbox through the inbox's own checks.

The checks are the pipeline's, called here at once instead of at the next render: the name
must be one the calendar gives (`inbox.file_owners`), a photo must open and decode
(`photo.check_photo_source`), a clip must be a readable video with a voice
(`worker.check_clip_source`), a subtitle file is read line by line (`subtitles.read_subtitles`).
A refused file goes to `rejected/` beside its `.why.txt` (`inbox.reject`), exactly as a
render would leave it. An accepted file never overwrites one in the inbox: the earlier
version moves to `replaced/` first, under its name and the time it was replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assets.inbox import REJECTED_DIR, Owner, file_owners, reject, unknown_name
from assets.photo import check_photo_source
from assets.subtitles import MAX_BYTES as SUBTITLE_MAX_BYTES
from assets.subtitles import SUFFIXES as SUBTITLE_SUFFIXES
from assets.subtitles import read_subtitles
from assets.worker import check_clip_source
from campaign.calendar.models import Calendar
from campaign.errors import AssetError

REPLACED_DIR = "replaced"
UPLOADS_DIR = ".uploads"  # unfinished uploads: hidden, so the inbox and the pipeline never list them
MB = 1024 * 1024
GB = 1024 * MB
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")
CLIP_SUFFIXES = (".mp4", ".mov", ".m4v")
ROLES = ("photo", "clip", "subtitles")
#: Largest file taken per role: a 200 MP photo is refused by the renderer anyway; Facebook takes clips
#: up to 10 GB (the largest any platform takes); a subtitle file is a few kB.
MAX_BYTES = {"photo": 200 * MB, "clip": 10 * GB, "subtitles": SUBTITLE_MAX_BYTES}
MAX_UPLOAD_BYTES = max(MAX_BYTES.values())
MAX_NAME = 200
_TEMP_SUFFIXES = (".part", ".crdownload", ".tmp", ".why.txt")


@dataclass
class Arrival:
    """What an uploaded file became: in the inbox (accepted) or in rejected/ with the reasons."""

    name: str
    accepted: bool
    reasons: list[str] = field(default_factory=list)
    path: str = ""  # where it is now, relative to the inbox: "lukas-weber.jpg" or "rejected/lukas-weber.jpg"
    testimonial: str | None = None
    role: str | None = None
    language: str | None = None
    replaced: str | None = None  # where the earlier version went, relative to the inbox
    bytes: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def role_of(name: str) -> str | None:
    """The kind of file a name's extension says it is (photo, clip, subtitles), None for anything else."""
    suffix = Path(name).suffix.lower()
    for role, suffixes in (("photo", PHOTO_SUFFIXES), ("clip", CLIP_SUFFIXES), ("subtitles", SUBTITLE_SUFFIXES)):
        if suffix in suffixes:
            return role
    return None


def name_problem(name: str) -> str | None:
    """Why a name cannot be a file in the inbox (a path, hidden, a temporary name, control characters)."""
    if not name or len(name) > MAX_NAME:
        return f"a file name is 1 to {MAX_NAME} characters"
    if "/" in name or "\\" in name or name in (".", ".."):
        return f"{name!r} is a path — give the file itself, named as the calendar names it"
    if name.startswith("."):
        return f"{name} is a hidden file name (it starts with a dot) — the inbox ignores those; rename it"
    if name.lower().endswith(_TEMP_SUFFIXES):
        return f"{name} has the name of a temporary file, which the inbox ignores — rename it"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return f"{name!r} contains control characters — rename it"
    return None


def upload_problem(name: str, length: int, role: str | None = None) -> tuple[str, str] | None:
    """Refuse an upload before any byte arrives: ("name" | "type" | "size", why), or None.

    A bad name, a type the inbox never takes, or more bytes than a file of that kind may have.
    """
    problem = name_problem(name)
    if problem:
        return "name", problem
    kind = role_of(name)
    if kind is None:
        return "type", (f"{name}: only photos ({', '.join(PHOTO_SUFFIXES)}), clips ({', '.join(CLIP_SUFFIXES)}) and "
                        f"subtitles ({', '.join(SUBTITLE_SUFFIXES)}) are taken")
    if role and role != kind:
        return "type", f"{name} is a {kind} file by its extension, not a {role}"
    limit = MAX_BYTES[kind]
    if length > limit:
        return "size", f"{name} is {_size(length)}; a {kind} may be at most {_size(limit)} — export it smaller"
    if length <= 0:
        return "size", f"{name} is empty — copy the file again"
    return None


def source_problem(path: Path, role: str) -> str | None:
    """The pipeline's own checks of a source file, run now: None when it would render."""
    try:
        if role == "photo":
            check_photo_source(path)
        elif role == "clip":
            check_clip_source(path)
        else:
            report = read_subtitles(path)
            if not report.ok:
                return "\n".join(report.problems)
    except AssetError as error:
        return str(error)
    return None


def receive(staged: Path, name: str, inbox: Path, calendar: Calendar, *, now: dt.datetime) -> Arrival:
    """Take a finished upload (`staged`, anywhere on the inbox's file system) into the inbox as `name`.

    Refused files are moved to rejected/ with their reasons; accepted ones land in the inbox,
    the earlier file of that name (if any) moved to replaced/ first. Never raises for a bad file.
    """
    inbox = Path(inbox)
    problem = name_problem(name)
    if problem:
        name = _safe_name(name)
    staged = _named(staged, name)
    # No hash here: reading a GB file again would halve the upload's speed; the renderer hashes
    # each source once (manifest), and an approval hashes the file it approves.
    arrival = Arrival(name=name, accepted=False, bytes=staged.stat().st_size)
    owner = file_owners(calendar).get(name)
    if owner is not None:
        arrival.testimonial, arrival.role, arrival.language = owner.testimonial, owner.role, owner.language
    if problem is None and owner is None:
        problem = unknown_name(name, file_owners(calendar))
    if problem is None and owner is not None:
        problem = source_problem(staged, owner.role)
    if problem is not None:
        return _refused(arrival, staged, inbox, problem)
    arrival.replaced = _set_aside(inbox, name, now)
    os.replace(staged, inbox / name)
    arrival.accepted, arrival.path = True, name
    return arrival


def refuse(staged: Path, name: str, inbox: Path, reason: str) -> Arrival:
    """Keep an upload in rejected/ with `reason` (a refusal decided before the inbox's checks:
    the calendar does not load, the file could not be assigned as asked)."""
    name = name if name_problem(name) is None else _safe_name(name)
    staged = _named(staged, name)
    return _refused(Arrival(name=name, accepted=False, bytes=staged.stat().st_size), staged, Path(inbox), reason)


def _refused(arrival: Arrival, staged: Path, inbox: Path, reason: str) -> Arrival:
    moved = reject(staged, inbox, reason)
    arrival.reasons = reason.splitlines()
    arrival.path = str(moved.relative_to(inbox))
    return arrival


def retry(rejected_name: str, inbox: Path, calendar: Calendar, *, now: dt.datetime) -> Arrival:
    """Put a file from rejected/ through the checks again (after the calendar or the file was fixed)."""
    folder = Path(inbox) / REJECTED_DIR
    path = folder / rejected_name
    if name_problem(rejected_name) or not path.is_file() or path.is_symlink():
        raise AssetError(f"there is no file {rejected_name!r} in {folder}")
    note = path.with_name(path.name + ".why.txt")
    name = original_name(note) or rejected_name
    staging = Path(inbox) / UPLOADS_DIR / f"retry-{hashlib.sha256(rejected_name.encode()).hexdigest()[:12]}"
    staging.mkdir(parents=True, exist_ok=True)
    staged = staging / name
    os.replace(path, staged)
    note.unlink(missing_ok=True)
    try:
        return receive(staged, name, inbox, calendar, now=now)
    finally:
        _remove_empty(staging)


def delete_rejected(rejected_name: str, inbox: Path) -> bool:
    """Remove a rejected file and its note (the console audits who did it)."""
    folder = Path(inbox) / REJECTED_DIR
    path = folder / rejected_name
    if name_problem(rejected_name) or not path.is_file():
        return False
    path.unlink()
    path.with_name(path.name + ".why.txt").unlink(missing_ok=True)
    return True


def original_name(note: Path) -> str | None:
    """The name a rejected file had in the inbox (its note's first line says it; rejected/ may add -1, -2)."""
    try:
        first = note.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    except OSError:
        return None
    suffix = " was not rendered:"
    found = first[: -len(suffix)] if first.endswith(suffix) else None
    return found if found and name_problem(found) is None else None


def _set_aside(inbox: Path, name: str, now: dt.datetime) -> str | None:
    """Move the inbox's file called `name` (if any) to replaced/, never over another one."""
    current = inbox / name
    if not (current.exists() or current.is_symlink()):
        return None
    folder = inbox / REPLACED_DIR
    if folder.is_symlink():
        raise AssetError(f"{folder} is a symbolic link — make replaced/ a real folder inside the inbox")
    folder.mkdir(exist_ok=True)
    stem, suffix = Path(name).stem, Path(name).suffix
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stem}.{stamp}{suffix}"
    counter = 1
    while target.exists() or target.is_symlink():
        target = folder / f"{stem}.{stamp}-{counter}{suffix}"
        counter += 1
    os.replace(current, target)
    return str(target.relative_to(inbox))


def _named(staged: Path, name: str) -> Path:
    """The staged file renamed to `name` in its own folder (reject() keeps a file's name)."""
    if staged.name == name:
        return staged
    target = staged.parent / name
    os.replace(staged, target)
    return target


def _safe_name(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")).lstrip(".")
    for suffix in _TEMP_SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)] + suffix.replace(".", "-")
    return (base or "unnamed")[:MAX_NAME]


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _size(count: int) -> str:
    return f"{count / GB:.1f} GB" if count >= GB else f"{count / MB:.1f} MB" if count >= MB else f"{count / 1000:.0f} kB"


__all__ = ["Arrival", "Owner", "ROLES", "MAX_BYTES", "MAX_UPLOAD_BYTES", "receive", "refuse", "retry", "delete_rejected",
           "upload_problem", "name_problem", "role_of", "source_problem", "original_name"]
