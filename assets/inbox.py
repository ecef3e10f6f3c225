"""The designers' inbox: which files are there, which are still being copied, and moving rejects aside.

A rejected file is never deleted: it moves to `<inbox>/rejected/` beside `<name>.why.txt`
saying what is wrong and what to do, so a designer sees it in the folder they use.
"""

from __future__ import annotations

import difflib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from campaign.calendar.models import Calendar

REJECTED_DIR = "rejected"
DEFAULT_SETTLE_SECONDS = 2.0


def inbox_files(inbox: Path) -> list[Path]:
    """Regular, visible files at the top of the inbox (not the rejected/ folder, not temp files).

    Symbolic links are listed too (also broken ones), so the pipeline can refuse those that
    leave the inbox with the reason (`link_leaving`) instead of ignoring them in silence.
    """
    if not inbox.is_dir():
        return []
    return sorted(
        p for p in inbox.iterdir()
        if (p.is_file() or p.is_symlink()) and not p.name.startswith(".")
        and not p.name.endswith((".part", ".crdownload", ".tmp", ".why.txt"))
    )


@dataclass(frozen=True)
class Owner:
    """Whose file a name in the inbox is, and as what: `photo`, `clip` or `subtitles` in `language`."""

    testimonial: str
    role: str
    language: str | None = None


def file_owners(calendar: Calendar) -> dict[str, Owner]:
    """Every file name the calendar's testimonials give, and whose it is (the names the inbox takes)."""
    found: dict[str, Owner] = {}
    for t in calendar.testimonials:
        if t.photo:
            found[t.photo] = Owner(t.id, "photo")
        if t.clip:
            found[t.clip] = Owner(t.id, "clip")
        for language, name in t.subtitles.items():
            found[name] = Owner(t.id, "subtitles", language)
    return found


def unknown_name(name: str, known: Iterable[str]) -> str:
    """Why a file whose name no testimonial gives is refused, with the closest known name."""
    guess = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {guess[0]}?" if guess else "add it to a testimonial's photo:, clip: or subtitles: in the calendar"
    return f"{name} matches no testimonial in the calendar — rename it ({hint})"


def link_leaving(path: Path, inbox: Path) -> str | None:
    """Why a symbolic link in the inbox is refused, or None for a plain file or a link inside it.

    A link to a file elsewhere (`ln -s ~/.ssh/id_rsa talk.en.srt`) would have the pipeline
    read, stamp and publish a file nobody dropped in the inbox. Only links whose every hop
    stays inside the inbox are followed.
    """
    if not path.is_symlink():
        return None
    root = inbox.resolve()
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return (f"{path.name} is a symbolic link to {os.readlink(path)!s}, which does not exist or loops — "
                "copy the file itself into the inbox")
    if target != root and root not in target.parents:
        return (f"{path.name} is a symbolic link to {target}, outside the inbox — links that leave the inbox are "
                "never followed; copy the file itself into the inbox")
    return None


def still_changing(paths: Iterable[Path], settle_seconds: float) -> set[Path]:
    """Files whose size or modification time changes over `settle_seconds` (a copy in progress).

    Files untouched for longer than the interval are taken as complete without waiting, so a
    run over an old inbox does not sleep. This compares against the file system's real time
    (a copy happens in real time), so it deliberately uses `time`, not the campaign clock.
    """
    paths = list(paths)
    now = time.time()
    first = {}
    for path in paths:
        stat = path.stat()
        if now - stat.st_mtime < settle_seconds + 0.05:
            first[path] = (stat.st_size, stat.st_mtime_ns)
    if not first:
        return set()
    time.sleep(settle_seconds)
    changing = set()
    for path, before in first.items():
        try:
            stat = path.stat()
        except FileNotFoundError:
            changing.add(path)
            continue
        if (stat.st_size, stat.st_mtime_ns) != before:
            changing.add(path)
    return changing


def reject(path: Path, inbox: Path, reason: str) -> Path:
    """Move a bad source to `<inbox>/rejected/` with a note; never overwrite an earlier reject."""
    folder = inbox / REJECTED_DIR
    if folder.is_symlink():  # files (and notes) must never be moved or written outside the inbox
        raise OSError(f"{folder} is a symbolic link — make rejected/ a real folder inside the inbox")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        target = folder / f"{path.stem}-{counter}{path.suffix}"
        counter += 1
    path.replace(target)
    note = target.with_name(target.name + ".why.txt")
    note.write_text(
        f"{path.name} was not rendered:\n{reason}\n\nFix it and drop the file in the inbox again.\n", encoding="utf-8"
    )
    return target


def rejected_files(inbox: Path) -> list[tuple[Path, str]]:
    """Each rejected file and the note saying why (what the console and designers read)."""
    folder = inbox / REJECTED_DIR
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.endswith(".why.txt") or path.name.startswith("."):
            continue
        note = path.with_name(path.name + ".why.txt")
        why = note.read_text(encoding="utf-8", errors="replace") if note.is_file() else "no note was written"
        found.append((path, why.strip()))
    return found
