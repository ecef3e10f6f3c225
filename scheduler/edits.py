"""What a person does to the calendar from the console or the API: preview a change, save it.

The calendar file stays the truth: a change is written into `calendar.yaml` by the round-trip
writer (`campaign.calendar.writer`: untouched lines byte for byte), after the same checks as
`validate` (every problem as `file:LINE`), refused on a stale copy, committed where the folder
is a git repository (the person as author), then planned and synced into the store at once
and signalled to every daemon on the store. Before that, `preview` says what the save would
do to the store ("adds 4 posts, moves 2, cancels 1 (already approved: 1)").

The console's forms and the API build the same `Change`s and call these functions, so the
same changes give the same file. Who may change what (`Editor`): admins everything; editors
the moments of their channels, and quotes and alt text in their channels' languages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from campaign.calendar import history
from campaign.calendar.loader import LoadedCalendar
from campaign.calendar.writer import (
    Draft, Saved, StaleCalendar, check_text, read_text, save_text, text_hash, unified_diff,
)
from campaign.errors import CalendarError, Problem
from campaign.post import PlannedPost
from scheduler.actions import ActionError, NotAllowed, Outcome
from scheduler.plan import Plan, plan_posts
from scheduler.plan.template_check import checked_plan
from scheduler.store import Store, states, sync_plan
from scheduler.store.calendar_edits import copy_text, remember_copy, signal_saved
from scheduler.store.rows import from_db
from scheduler.store.schema import posts
from scheduler.store.sync import SyncReport

SECTIONS = ("moments", "testimonials", "blackouts", "channels", "overrides")
#: What a section's entries are called in messages and commit subjects.
NOUNS = {"moments": "moment", "testimonials": "testimonial", "blackouts": "blackout", "channels": "channel",
         "overrides": "caption of post"}
EDITING_ROLES = ("editor", "admin")

__all__ = ["Change", "Editor", "Impact", "Preview", "Saved", "StaleCalendar", "apply", "preview", "revert"]


@dataclass(frozen=True)
class Editor:
    """Who makes the change: `role` and the channels they act for (None: every channel)."""

    name: str
    role: str
    channels: tuple[str, ...] | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class Change:
    """One entry of the calendar set, added or removed.

    `key`: the entry's id (moments, testimonials, channels), its position (blackouts, from 0)
    or the post id (overrides); None adds `value` as a new entry. `value`: the whole entry as
    plain data (what a form or a JSON body gives); None removes the entry."""

    section: str
    key: str | int | None
    value: dict[str, Any] | None

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ActionError(f"there is no section {self.section!r} to edit — one of {', '.join(SECTIONS)}")
        if self.key is None and self.value is None:
            raise ActionError("nothing to do: give an entry to add, or the id of one to change or remove")


@dataclass
class Impact:
    """What a save does to the store, post by post."""

    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # same post, another time
    changed: list[str] = field(default_factory=list)  # same post and time, other content
    cancelled: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)  # moved, changed or cancelled posts that were approved
    not_applied: list[str] = field(default_factory=list)  # already out or in flight: the change cannot reach them
    held: list[str] = field(default_factory=list)  # new or changed posts the plan holds (a caption too long...)

    @property
    def nothing(self) -> bool:
        return not (self.added or self.moved or self.changed or self.cancelled or self.not_applied)

    def sentence(self) -> str:
        """'adds 4 posts, moves 2, cancels 1 (already approved: 1)'."""
        if self.nothing:
            return "changes no post"
        parts = []
        for verb, found in (("adds", self.added), ("moves", self.moved), ("changes", self.changed),
                            ("cancels", self.cancelled)):
            if found:
                parts.append(f"{verb} {len(found)}" + (" post" + ("s" if len(found) != 1 else "") if not parts else ""))
        text = ", ".join(parts) if parts else "changes no post"
        if self.approved:
            text += f" (already approved: {len(self.approved)})"
        if self.held:
            text += f"; {len(self.held)} held by plan errors"
        if self.not_applied:
            text += f"; {len(self.not_applied)} already published or in flight (not changed)"
        return text


@dataclass
class Preview:
    """A change checked against the current file, not written: its text, diff, problems (with
    their lines, to show beside the fields), the plan and what a save would do to the store."""

    base_hash: str  # the file the change applies to
    text: str
    diff: str
    problems: list[Problem]
    warnings: list[Problem]
    plan: Plan | None
    impact: Impact | None
    loaded: LoadedCalendar | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def posts_of(self, moment_id: str) -> list[PlannedPost]:
        return [p for p in self.plan.posts if p.moment_id == moment_id] if self.plan else []


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    saved: Saved
    impact: Impact
    report: SyncReport | None
    commit: str | None


# -- permissions ------------------------------------------------------------------------------------

def check_allowed(who: Editor, before: dict[str, Any], changes: Sequence[Change]) -> None:
    """NotAllowed, with the reason, for a change outside what `who` may do. `before`: the
    calendar as plain data (the file as it is now)."""
    if who.role == "designer":
        _only_files(who, before, changes)
        return
    if who.role not in EDITING_ROLES:
        raise NotAllowed(f"{who.name} is a{'n' if who.role[:1] in 'aeiou' else ''} {who.role}: only editors and admins "
                         "change the calendar")
    if who.is_admin:
        return
    mine = set(who.channels) if who.channels is not None else None
    channel_languages = {c.get("id"): c.get("languages") or [] for c in before.get("channels") or [] if isinstance(c, dict)}
    languages = {lang for cid, langs in channel_languages.items() if mine is None or cid in mine for lang in langs}
    for change in changes:
        old = _entry(before, change.section, change.key) if change.key is not None else None
        if change.section == "moments":
            for entry in (old, change.value):
                named = [c for c in (entry or {}).get("channels") or [] if mine is not None and c not in mine]
                if named:
                    raise NotAllowed(f"moment {(entry or {}).get('id')} names channel{'s' if len(named) > 1 else ''} "
                                     f"{', '.join(named)}; {who.name} edits moments of {', '.join(sorted(mine or ()))} only "
                                     "— remove those channels, or ask an admin")
        elif change.section == "testimonials" and old is not None and change.value is not None:
            for where in _changed_paths(old, change.value):
                if len(where) == 2 and where[0] in ("quote", "alt_text") and where[1] in languages:
                    continue
                shown = ".".join(str(p) for p in where)
                raise NotAllowed(f"{who.name} may change quotes and alt text in {', '.join(sorted(languages))} only, "
                                 f"not `{shown}` of testimonial {change.key} — ask an admin")
        elif change.section == "overrides":
            channel = str(change.key).split(".")[2] if str(change.key).count(".") >= 3 else None
            if mine is not None and channel not in mine:
                raise NotAllowed(f"post {change.key} is on channel {channel}; {who.name} edits {', '.join(sorted(mine))} only")
        else:
            raise NotAllowed(f"editors change moments, quotes, alt text and captions; "
                             f"{NOUNS[change.section]}s are changed by an admin")


#: What a designer may change in the calendar: which file is a testimonial's photo, clip or subtitles
#: (assigning an uploaded file on the media desk), nothing else.
FILE_KEYS = ("photo", "clip", "subtitles")


def _only_files(who: Editor, before: dict[str, Any], changes: Sequence[Change]) -> None:
    for change in changes:
        old = _entry(before, change.section, change.key) if change.key is not None else None
        if change.section != "testimonials" or old is None or change.value is None:
            raise NotAllowed(f"{who.name} is a designer: designers assign files to testimonials and change nothing "
                             "else in the calendar — ask an editor or an admin")
        for where in _changed_paths(old, change.value):
            if where[0] not in FILE_KEYS:
                shown = ".".join(str(p) for p in where)
                raise NotAllowed(f"{who.name} is a designer: designers change a testimonial's photo, clip and "
                                 f"subtitles files only, not `{shown}` of {change.key}")


def may_edit(role: str) -> bool:
    return role in EDITING_ROLES


# -- preview and save ----------------------------------------------------------------------------------

def draft_with(path: Path, changes: Sequence[Change], text: str | None = None) -> Draft:
    """The calendar (or `text`) with `changes` made, not written."""
    return _changed(Draft.open(path, text), changes)


def _changed(draft: Draft, changes: Sequence[Change]) -> Draft:
    path = draft.path
    for change in changes:
        where: tuple[str | int, ...] = (change.section,) if change.key is None else (change.section, change.key)
        try:
            if change.value is None:
                draft.delete(where)
            elif change.key is None:
                draft.append(change.section, change.value)
            else:
                if change.section != "overrides":
                    draft.node(where)  # an entry to change must exist (a typo must not add one)
                draft.set(where, change.value)
        except (KeyError, IndexError):
            raise ActionError(f"there is no {NOUNS[change.section]} {change.key} in {path.name} "
                              "(someone may have removed it: reload)") from None
    return draft


def preview(store: Store, path: Path, changes: Sequence[Change], *, who: Editor, now: dt.datetime,
            build: Path, base_hash: str | None = None, text: str | None = None) -> Preview:
    """`changes` made to the current file and checked, nothing written: the problems (each
    with its line), the plan, and what saving would do to the store. NotAllowed for a change
    outside `who`'s rights; StaleCalendar when the file moved on since `base_hash`."""
    current = read_text(path)
    if base_hash is not None and text_hash(current) != base_hash:
        raise StaleCalendar(path, base_hash, current, copy_text(store, base_hash))
    draft = Draft.open(path, current)
    check_allowed(who, draft.get(()), changes)
    new_text = _changed(draft, changes).text() if text is None else text
    return _checked(store, path, current, new_text, now=now, build=build)


def _checked(store: Store, path: Path, current: str, new_text: str, *, now: dt.datetime, build: Path) -> Preview:
    diff = unified_diff(current, new_text, path.name)
    check = TemplateCheck(build, now.date())
    try:
        loaded = check_text(path, new_text, today=now.date(), checks=[check])
    except CalendarError as error:
        return Preview(text_hash(current), new_text, diff, list(error.problems), list(error.warnings), None, None)
    plan = check.plan or plan_posts(loaded, build_dir=build, today=now.date())
    return Preview(text_hash(current), new_text, diff, [], list(loaded.warnings), plan, impact_of(store, plan), loaded)


class TemplateCheck:
    """`validate`'s second half: every caption template rendered for every post. It keeps the
    plan it made (`plan`), the one a valid save schedules: the calendar is planned once."""

    def __init__(self, build: Path, today: dt.date) -> None:
        self.build, self.today = build, today
        self.plan: Plan | None = None

    def __call__(self, loaded: LoadedCalendar) -> list[str]:
        problems, _rendered, self.plan = checked_plan(loaded, build_dir=self.build, today=self.today)
        return problems


def opened(store: Store, path: Path, now: dt.datetime) -> tuple[str, str]:
    """The calendar's text and hash as a form is opened on it (the copy is kept in the store,
    so a stale save can show what changed since)."""
    text = read_text(path)
    digest = text_hash(text)
    remember_copy(store, digest, text, now)
    return text, digest


def apply(store: Store, path: Path, changes: Sequence[Change], *, who: Editor, now: dt.datetime, build: Path,
          base_hash: str | None, message: str | None = None) -> Applied:
    """Save `changes`: checked as `validate` checks, refused on a stale copy (`base_hash`: the
    file the person saw; None: whatever it is now), committed, scheduled, signalled."""
    current = read_text(path)
    if base_hash is not None and text_hash(current) != base_hash:
        raise StaleCalendar(path, base_hash, current, copy_text(store, base_hash))
    draft = Draft.open(path, current)
    before = draft.get(())
    check_allowed(who, before, changes)
    return _save(store, path, current, _changed(draft, changes).text(), who=who, now=now, build=build,
                 message=message or describe(before, changes))


def revert(store: Store, path: Path, sha: str, *, who: Editor, now: dt.datetime, build: Path,
           base_hash: str | None) -> Applied:
    """Undo one saved change (a new commit), checked and scheduled like any save. Admins only:
    a commit may touch any part of the calendar."""
    if not who.is_admin:
        raise NotAllowed(f"only admins revert a change; {who.name} is a{'n' if who.role[:1] in 'aeiou' else ''} {who.role}")
    current = read_text(path)
    if base_hash is not None and text_hash(current) != base_hash:
        raise StaleCalendar(path, base_hash, current, copy_text(store, base_hash))
    try:
        new_text = history.reverted_text(path, sha, current)
        subject = history.subject(path, sha)
    except history.HistoryError as error:
        raise ActionError(str(error)) from None
    return _save(store, path, current, new_text, who=who, now=now, build=build, message=f'Revert "{subject}"')


def _save(store: Store, path: Path, current: str, new_text: str, *, who: Editor, now: dt.datetime, build: Path,
          message: str) -> Applied:
    commits: list[str] = []

    def commit(saved: Saved) -> None:
        if history.repository(path) is not None:
            commits.append(history.commit(path, message, who.name))

    check = TemplateCheck(build, now.date())
    saved = save_text(path, new_text, expected_hash=text_hash(current), base_text=current, today=now.date(),
                      checks=[check], after_write=commit)
    plan = check.plan or plan_posts(saved.loaded, build_dir=build, today=now.date())
    impact = impact_of(store, plan)
    report = sync_plan(store, plan, now, actor=who.name) if saved.changed else None
    if saved.changed:
        signal_saved(store, str(path.resolve()), saved.new_hash, who.name, now)
        store.add_audit(now, who.name, "calendar-edit", path.name,
                        f"{message} — {impact.sentence()}" + (f" (commit {commits[0][:8]})" if commits else ""))
    said = (f"saved: {message} — {impact.sentence()}" + (f"; commit {commits[0][:8]}" if commits else "")
            if saved.changed else "nothing to save: the calendar already says that")
    return Applied(Outcome(said, tuple(impact.added + impact.moved + impact.changed + impact.cancelled)), saved, impact,
                   report, commits[0] if commits else None)


# -- what a save does to the store ---------------------------------------------------------------------

def impact_of(store: Store, plan: Plan) -> Impact:
    """Compare the plan with the store as `sync_plan` would, without writing anything."""
    wanted = {p.id: p for p in plan.posts}
    impact = Impact()
    with store.engine.begin() as conn:
        rows = conn.execute(select(posts.c.id, posts.c.content_hash, posts.c.state, posts.c.scheduled_at)).all()
    existing = {r.id: r for r in rows}
    for post_id, post in wanted.items():
        row = existing.get(post_id)
        if row is None or row.state == states.CANCELLED:
            impact.added.append(post_id)
            if post.held:
                impact.held.append(post_id)
            continue
        if row.content_hash == post.content_hash():
            continue
        if row.state not in states.REWRITABLE:
            impact.not_applied.append(post_id)
            continue
        (impact.moved if from_db(row.scheduled_at) != post.scheduled_at else impact.changed).append(post_id)
        if row.state == states.APPROVED:
            impact.approved.append(post_id)
        if post.held:
            impact.held.append(post_id)
    for post_id, row in existing.items():
        if post_id in wanted:
            continue
        if row.state in states.CANCELLABLE:
            impact.cancelled.append(post_id)
            if row.state == states.APPROVED:
                impact.approved.append(post_id)
        elif row.state in (states.PUBLISHING, states.UNKNOWN):
            impact.not_applied.append(post_id)
    return impact


# -- commit messages -----------------------------------------------------------------------------------

def describe(before: dict[str, Any], changes: Sequence[Change]) -> str:
    """A commit subject naming what changed: 'Edit moment europe-day: titles.fr, date'."""
    parts = []
    for change in changes:
        noun = NOUNS[change.section]
        name = change.key if change.key is not None else (change.value or {}).get("id", "")
        if change.section == "blackouts":
            name = (change.value or _entry(before, "blackouts", change.key) or {}).get("reason", change.key)
        if change.key is None:
            parts.append(f"Add {noun} {name}".rstrip())
        elif change.value is None:
            parts.append(f"Remove {noun} {name}")
        else:
            old = _entry(before, change.section, change.key) or {}
            changed = [".".join(str(p) for p in where) for where in _changed_paths(old, change.value)]
            shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
            parts.append(f"{'Edit' if old else 'Set'} {noun} {name}" + (f": {shown}" if shown and old else ""))
    return "; ".join(parts)[:200] or "Edit the calendar"


def _entry(data: dict[str, Any], section: str, key: str | int | None) -> dict[str, Any] | None:
    found = data.get(section)
    if isinstance(found, dict):
        value = found.get(str(key))
        return value if isinstance(value, dict) else None
    if not isinstance(found, list) or key is None:
        return None
    if isinstance(key, int):
        return found[key] if -len(found) <= key < len(found) and isinstance(found[key], dict) else None
    return next((e for e in found if isinstance(e, dict) and str(e.get("id")) == key), None)


def _changed_paths(old: Any, new: Any, where: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every key path whose value differs (per language for quotes, titles, links)."""
    if isinstance(old, dict) and isinstance(new, dict) and (not where or len(where) < 2):
        found: list[tuple[str | int, ...]] = []
        for key in list(old) + [k for k in new if k not in old]:
            if old.get(key) != new.get(key) or (key in old) != (key in new):
                found += _changed_paths(old.get(key), new.get(key), where + (key,))
        return found
    return [where] if old != new else []

