"""What a designer does to the media: take an upload in, approve media, retry or delete a rejected file.

One function per action, shared by the console's desk and `/api/v1/media`, as
`scheduler.actions` is for posts. Each one is audited in the store. Rendering is not started
here: the caller asks its renderer (the console's background renders, the daemon's inbox job).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from assets.branding import file_hash
from assets.inbox import file_owners
from assets.intake import ROLES, Arrival, name_problem, receive, retry, role_of
from assets.intake import delete_rejected as remove_rejected
from campaign.calendar.models import Calendar
from campaign.calendar.writer import Draft, StaleCalendar
from campaign.errors import AssetError, CalendarError
from scheduler.actions import ActionError, Outcome
from scheduler.edits import Change, Editor, apply
from scheduler.store import Store
from scheduler.store.media_approvals import MediaApprovals

KINDS = ("photo", "clip")


def take_upload(store: Store, *, staged: Path, name: str, inbox: Path, calendar: Calendar, by: str,
                now: dt.datetime) -> Arrival:
    """A finished upload into the inbox through the inbox's checks; a replaced photo or clip loses its approval."""
    arrival = receive(staged, name, inbox, calendar, now=now)
    _after(store, arrival, by, now, "media-upload")
    return arrival


def retry_rejected(store: Store, *, file: str, inbox: Path, calendar: Calendar, by: str, now: dt.datetime) -> Arrival:
    """Put a rejected file through the checks again (after the file or the calendar was fixed)."""
    try:
        arrival = retry(file, inbox, calendar, now=now)
    except AssetError as error:
        raise ActionError(str(error)) from None
    _after(store, arrival, by, now, "media-retry")
    return arrival


def delete_rejected(store: Store, *, file: str, inbox: Path, by: str, now: dt.datetime) -> Outcome:
    if not remove_rejected(file, inbox):
        raise ActionError(f"there is no file {file!r} in rejected/ (someone may have deleted or retried it already)")
    store.add_audit(now, by, "media-delete-rejected", file)
    return Outcome(f"deleted rejected/{file}")


def approve_media(store: Store, *, testimonial: str, kind: str, inbox: Path, calendar: Calendar, by: str,
                  now: dt.datetime) -> Outcome:
    """Approve a testimonial's photo or clip as it is now in the inbox; releases the posts held for it."""
    if kind not in KINDS:
        raise ActionError(f"media approval is for a photo or a clip, not {kind!r}")
    try:
        found = calendar.testimonial(testimonial)
    except StopIteration:
        raise ActionError(f"there is no testimonial {testimonial!r} in the calendar") from None
    name = found.photo if kind == "photo" else found.clip
    if not name:
        raise ActionError(f"{testimonial} has no {kind} in the calendar")
    path = Path(inbox) / name
    if not path.is_file() or path.is_symlink():
        raise ActionError(f"{name} is not in the inbox — upload it before approving it")
    released = MediaApprovals(store.engine).approve(testimonial, kind, file_hash(path), by=by, now=now, file=path)
    more = f"; {len(released)} held post{'s' if len(released) != 1 else ''} released" if released else ""
    return Outcome(f"approved {testimonial}'s {kind} ({name}){more}", tuple(released))


def _after(store: Store, arrival: Arrival, by: str, now: dt.datetime, action: str) -> None:
    if arrival.accepted:
        detail = f"accepted as {arrival.testimonial}'s {arrival.role}" + (f" ({arrival.language})" if arrival.language else "")
        if arrival.replaced:
            detail += f"; the earlier file moved to {arrival.replaced}"
        store.add_audit(now, by, action, arrival.name, detail)
        if arrival.replaced and arrival.role in KINDS and arrival.testimonial:
            MediaApprovals(store.engine).revoke(arrival.testimonial, arrival.role, by=by, now=now,
                                                why=f"{arrival.name} was replaced by a new upload")
    else:
        store.add_audit(now, by, action, arrival.name, "refused: " + "; ".join(arrival.reasons)[:900])


def assign_file(store: Store, *, calendar_path: Path, name: str, testimonial: str, role: str, language: str | None,
                by: str, by_role: str, channels: tuple[str, ...] | None, now: dt.datetime, build: Path) -> Outcome:
    """Make `name` a testimonial's photo, clip or subtitles in `language`, in calendar.yaml (the
    round-trip writer, checked as `validate` checks, committed and scheduled like every edit).

    A designer may do this and nothing else to the calendar (`scheduler.edits` checks it)."""
    problem = name_problem(name)
    if problem:
        raise ActionError(problem)
    if role not in ROLES:
        raise ActionError(f"a file is a testimonial's {', '.join(ROLES[:-1])} or {ROLES[-1]}, not {role!r}")
    if role_of(name) != role:
        raise ActionError(f"{name} is not a {role} file by its extension ({role_of(name) or 'unknown type'})")
    if role == "subtitles" and not language:
        raise ActionError("say which language the subtitles are in")
    entry = Draft.open(calendar_path).get(("testimonials", testimonial))
    if not isinstance(entry, dict):
        raise ActionError(f"there is no testimonial {testimonial!r} in {Path(calendar_path).name}")
    value = dict(entry)
    if role == "subtitles":
        value["subtitles"] = {**(entry.get("subtitles") or {}), str(language): name}
    else:
        value[role] = name
    what = f"{testimonial}'s {role}" + (f" ({language})" if role == "subtitles" else "")
    try:
        applied = apply(store, Path(calendar_path), [Change("testimonials", testimonial, value)],
                        who=Editor(by, by_role, channels), now=now, build=Path(build), base_hash=None,
                        message=f"{name} is {what}")
    except (CalendarError, StaleCalendar) as error:
        raise ActionError(f"the calendar was not changed: {error}") from None
    return Outcome(f"{name} is now {what} in {Path(calendar_path).name}: {applied.outcome.message}")


def owner_of(calendar: Calendar, name: str):  # type: ignore[no-untyped-def]
    """Whose file `name` is in the calendar (None: no testimonial gives it)."""
    return file_owners(calendar).get(name)
