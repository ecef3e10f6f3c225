"""Edit the calendar in the browser: forms for moments, testimonials, blackouts and (admins)
channels; the post cards a change produces while typing; a confirmation that says what the
save does to the store; the git history of the file, and revert.

Thin: every save is `scheduler.edits.apply` (the API's too), which writes `calendar.yaml`
through the round-trip writer, commits, schedules and signals the daemons. Without
JavaScript the forms still work (Preview and Save are plain submits); with htmx the preview
follows the typing. A form carries the hash of the file it was opened on: a save on a
stale copy is refused, shows what changed meanwhile and keeps what the person typed.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from campaign.calendar import history
from campaign.calendar.writer import Draft, StaleCalendar, read_text, text_hash
from campaign.errors import CalendarError, Problem
from console import edit_forms as forms
from console.accounts import Account
from console.app import FLASH_COOKIE, Console, _back, _base, _error, _now, page, render
from scheduler import edits
from scheduler.actions import ActionError, NotAllowed
from scheduler.plan.preview import make_card

#: The sections a form edits, what one entry is called, and who may open its forms.
SECTIONS = {"moments": "moment", "testimonials": "testimonial", "blackouts": "blackout", "channels": "channel",
            "overrides": "caption"}
#: Cards shown in a preview (a moment on ten channels in three languages is thirty).
MAX_CARDS = 36


def editor(me: Account) -> edits.Editor:
    return edits.Editor(me.name, me.role, None if me.role == "admin" else me.channels)


def _path(console: Console) -> Path:
    return console.config.calendar.resolve()


# -- pages --------------------------------------------------------------------------------------------

@page("viewer")
def edit_index(request: Request, console: Console, me: Account) -> Response:
    if not edits.may_edit(me.role):
        return _error(request, console, me, 403, "Only editors and admins change the calendar; you are a "
                                                 f"{me.role}. The calendar page shows what it plans.")
    path = _path(console)
    text, digest = edits.opened(console.store, path, _now(console))
    data = Draft.open(path, text).get(())
    mine = set(me.channels) if me.role != "admin" and me.channels is not None else None
    moments = [(m, mine is None or set(m.get("channels") or []) <= mine) for m in data.get("moments") or []]
    commits = history.log(path, 1) if history.repository(path) else []
    return render(request, console, "edit_index.html.j2", me, data=data, moments=moments, admin=me.role == "admin",
                  digest=digest, file=path.name, last=commits[0] if commits else None,
                  modified=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                  git=history.repository(path) is not None)


@page("viewer")
def edit_form(request: Request, console: Console, me: Account) -> Response:
    section, key = _section_key(request)
    if isinstance(section, Response):
        return section
    path = _path(console)
    text, digest = edits.opened(console.store, path, _now(console))
    old = _entry(Draft.open(path, text).get(()), section, key)
    if section == "overrides" and console.store.get(str(key)) is None:
        return _error(request, console, me, 404, f"There is no post {key} in the store.")
    if key is not None and old is None and section != "overrides":
        return _error(request, console, me, 404, f"There is no {SECTIONS[section]} {key} in {path.name} "
                                                 "(someone may have removed or renamed it).")
    denied = _may_open(me, section, key, old)
    if denied:
        return _error(request, console, me, 403, denied)
    entry = old or ({"caption": _current_caption(console, key)} if section == "overrides" else {})
    return _form_page(request, console, me, section, key, entry, digest)


@page("viewer", post=True)
def edit_preview(request: Request, console: Console, me: Account) -> Response:
    """The htmx fragment under the form: problems beside their fields, the cards, the impact."""
    section, key = _section_key(request)
    if isinstance(section, Response):
        return section
    if not edits.may_edit(me.role):
        return _error(request, console, me, 403, f"Only editors and admins change the calendar; you are a {me.role}.")
    context = _previewed(request, console, me, section, key)
    names = sorted(f.name for f in _fields(console, me, section, {}))
    return render(request, console, "_edit_preview.html.j2", me, fragment=True, all_fields=names, **context)


@page("viewer", post=True)
def edit_save(request: Request, console: Console, me: Account) -> Response:
    """Save: first the confirmation (what it does to the store), then, confirmed, the save."""
    section, key = _section_key(request)
    if isinstance(section, Response):
        return section
    if not edits.may_edit(me.role):
        return _error(request, console, me, 403, f"Only editors and admins change the calendar; you are a {me.role}.")
    form = request.state.form
    deleting = form.get("delete") == "1"
    if form.get("confirm") != "1" or form.get("back") == "1":
        context = _previewed(request, console, me, section, key, deleting=deleting)
        if form.get("back") == "1" or context["problems"] or context["field_problems"] or context["stale"] or context["refused"]:
            return _form_page(request, console, me, section, key, None, context["base_hash"], context=context,
                              status_code=200 if form.get("back") == "1" else 409 if context["stale"] else 422)
        return render(request, console, "edit_confirm.html.j2", me, replay=_replay(form), deleting=deleting, **context)
    try:
        change, _old = _change(request, console, me, section, key, deleting=deleting)
        done = edits.apply(console.store, _path(console), [change], who=editor(me), now=_now(console),
                           build=console.config.build, base_hash=form.get("base_hash") or None)
    except (StaleCalendar, CalendarError, ActionError) as error:
        if isinstance(error, NotAllowed):
            return _error(request, console, me, 403, str(error))
        context = _previewed(request, console, me, section, key, deleting=deleting)
        if isinstance(error, CalendarError):
            context["problems"] = context["problems"] or [str(p) for p in error.problems]
        elif isinstance(error, ActionError):
            context["refused"] = str(error)
        return _form_page(request, console, me, section, key, None, context["base_hash"], context=context,
                          status_code=409 if isinstance(error, StaleCalendar) else 422)
    return _redirect(request, console, _target_after(section, key, change, deleting), done.outcome.message)


@page("viewer")
def history_page(request: Request, console: Console, me: Account) -> Response:
    path = _path(console)
    repo = history.repository(path)
    commits = history.log(path, 100) if repo else []
    return render(request, console, "edit_history.html.j2", me, commits=commits, git=repo is not None, file=path.name)


@page("viewer")
def commit_page(request: Request, console: Console, me: Account) -> Response:
    path = _path(console)
    sha = request.path_params["sha"]
    try:
        shown = history.show(path, sha)
    except history.HistoryError as error:
        return _error(request, console, me, 404, str(error))
    _text, digest = edits.opened(console.store, path, _now(console))
    return render(request, console, "edit_commit.html.j2", me, sha=sha, shown=shown, digest=digest, file=path.name)


@page("admin", post=True)
def revert_action(request: Request, console: Console, me: Account) -> Response:
    """Revert one commit (a new commit): the confirmation first, as for every save."""
    form = request.state.form
    sha = str(form.get("sha", ""))
    path = _path(console)
    now = _now(console)
    if form.get("confirm") != "1":
        try:
            current = read_text(path)
            reverted = history.reverted_text(path, sha, current)
            seen = edits.preview(console.store, path, [], who=editor(me), now=now, build=console.config.build,
                                 text=reverted)
        except (history.HistoryError, StaleCalendar) as error:
            return _back(request, f"Not done: {error}")
        context = {"section": "history", "key": sha, "problems": [str(p) for p in seen.problems], "stale": None,
                   "impact": seen.impact.sentence() if seen.impact else "", "diff": seen.diff, "cards": [],
                   "base_hash": seen.base_hash, "field_problems": {}, "refused": None, "noun": f"revert of {sha[:8]}"}
        return render(request, console, "edit_confirm.html.j2", me, replay=[("sha", sha), ("base_hash", seen.base_hash)],
                      deleting=False, action=f"{_base(request)}/history/revert", **context)
    try:
        done = edits.revert(console.store, path, sha, who=editor(me), now=now, build=console.config.build,
                            base_hash=form.get("base_hash") or None)
    except (StaleCalendar, CalendarError, ActionError) as error:
        return _back(request, f"Not done: {error}", "/history")
    return _redirect(request, console, "/history", done.outcome.message)


# -- the pieces ---------------------------------------------------------------------------------------

def _section_key(request: Request) -> tuple[Any, Any]:
    section = request.path_params["section"]
    console: Console = request.app.state.console
    if section not in SECTIONS:
        return _error(request, console, request.state.account, 404, f"There is nothing called {section!r} to edit."), None
    key: str | int | None = request.path_params.get("key", "new")
    if key == "new":
        key = None
    elif section == "blackouts":
        try:
            key = int(str(key))
        except ValueError:
            return _error(request, console, request.state.account, 404, "Blackouts are numbered from 0."), None
    return section, key


def _may_open(me: Account, section: str, key: Any, old: dict[str, Any] | None) -> str | None:
    """Why this person may not open this form (None: they may)."""
    if not edits.may_edit(me.role):
        return f"Only editors and admins change the calendar; you are a {me.role}."
    if me.role == "admin":
        return None
    if section in ("blackouts", "channels"):
        return f"{SECTIONS[section].capitalize()}s are changed by an admin."
    if section == "testimonials" and key is None:
        return "New testimonials are added by an admin (editors change quotes and alt text)."
    if section == "moments" and old is not None and me.channels is not None:
        outside = sorted(set(old.get("channels") or []) - set(me.channels))
        if outside:
            return (f"Moment {key} names channel{'s' if len(outside) > 1 else ''} {', '.join(outside)}; you edit "
                    f"moments of {', '.join(me.channels)} only.")
    return None


def _entry(data: dict[str, Any], section: str, key: Any) -> dict[str, Any] | None:
    return edits._entry(data, section, key) if key is not None else None


def _languages_allowed(console: Console, me: Account) -> set[str] | None:
    if me.role == "admin" or me.channels is None:
        return None
    calendar = console.calendar()
    return {lang for c in (calendar.channels if calendar else []) if c.id in me.channels for lang in c.languages}


def _fields(console: Console, me: Account, section: str, entry: dict[str, Any]) -> list[forms.Field]:
    calendar = console.calendar()
    if section == "moments":
        return forms.moment_fields(entry, calendar, channels_allowed=None if me.role == "admin" else me.channels)
    if section == "testimonials":
        return forms.testimonial_fields(entry, calendar, languages_allowed=_languages_allowed(console, me))
    if section == "blackouts":
        return forms.blackout_fields(entry, calendar)
    if section == "channels":
        return forms.channel_fields(entry)
    return [forms.Field("caption", "Caption, as it will be posted (empty: the template's)", "textarea",
                        value=entry.get("caption", ""))]


def _change(request: Request, console: Console, me: Account, section: str, key: Any, *,
            deleting: bool = False) -> tuple[edits.Change, dict[str, Any] | None]:
    """The change the form describes, made on the entry as the current file has it."""
    form = request.state.form
    values = {k: str(v) for k, v in form.items()}
    lists = {k: [str(v) for v in form.getlist(k)] for k in ("channels", "languages", "testimonials")}
    old = _entry(Draft.open(_path(console)).get(()), section, key)
    if deleting:
        return edits.Change(section, key, None), old
    if section == "moments":
        value = forms.moment_from_form(values, lists, old)
    elif section == "testimonials":
        value = forms.testimonial_from_form(values, old, languages_allowed=_languages_allowed(console, me))
    elif section == "blackouts":
        value = forms.blackout_from_form(values, lists, old)
    elif section == "channels":
        if old is None:
            raise ActionError("channels are added in calendar.yaml itself (they need credentials set up first)")
        value = forms.channel_from_form(values, old)
    else:
        caption = values.get("caption", "").replace("\r\n", "\n").strip()
        if not caption:
            if old is None:
                raise ActionError("the caption is empty: write the post's own words, or leave it to the template")
            return edits.Change("overrides", key, None), old  # back to the template's caption
        value = {"caption": caption}
    if key is not None and old is None and section != "overrides":
        raise ActionError(f"there is no {SECTIONS[section]} {key} any more (someone removed it): reload")
    return edits.Change(section, key if (key is not None or section == "overrides") else None, value), old


def _previewed(request: Request, console: Console, me: Account, section: str, key: Any, *,
               deleting: bool = False) -> dict[str, Any]:
    """The change checked against the current file: what the preview, the confirmation and a
    refused save show."""
    form = request.state.form
    path = _path(console)
    base_hash = str(form.get("base_hash") or "")
    context: dict[str, Any] = {"section": section, "key": key, "problems": [], "field_problems": {}, "stale": None,
                               "impact": "", "diff": "", "cards": [], "refused": None, "noun": SECTIONS[section],
                               "base_hash": base_hash}
    now = _now(console)
    try:
        change, _old = _change(request, console, me, section, key, deleting=deleting)
        try:
            seen = edits.preview(console.store, path, [change], who=editor(me), now=now, build=console.config.build,
                                 base_hash=base_hash or None)
        except StaleCalendar as stale:
            context["stale"] = stale.diff or "(the copy you opened is no longer known: reload to see the file as it is)"
            seen = edits.preview(console.store, path, [change], who=editor(me), now=now, build=console.config.build)
            edits.opened(console.store, path, now)
            context["base_hash"] = seen.base_hash  # saving again applies the input to the current file
    except NotAllowed as error:
        context["refused"] = str(error)
        return context
    except (ActionError, CalendarError) as error:
        context["refused"] = str(error) if isinstance(error, ActionError) else None
        context["problems"] = [str(p) for p in getattr(error, "problems", [])]
        return context
    names = {f.name for f in _fields(console, me, section, {})}
    entry_id = change.value.get("id") if change.value else key
    for problem in seen.problems:
        name = _field_of(problem, section, entry_id if section != "blackouts" else key, names)
        if name:
            context["field_problems"].setdefault(name, []).append(_short(problem))
        else:
            context["problems"].append(str(problem))
    context["diff"] = seen.diff
    if seen.impact is not None:
        context["impact"] = seen.impact.sentence()
        context["cards"] = _cards(console, request, seen, section, change, entry_id)
    return context


def _field_of(problem: Problem, section: str, entry: Any, names: set[str]) -> str | None:
    """The form field a problem is about (`moments[x].titles.ja` -> `titles.ja`), if any."""
    where = problem.where or ""
    prefix = f"{section}[{entry}]"
    if not where.startswith(prefix):
        return None
    tokens = re.findall(r"[^.\[\]]+", where[len(prefix):])
    if not tokens:
        return None
    if len(tokens) > 1 and f"{tokens[0]}.{tokens[1]}" in names:
        return f"{tokens[0]}.{tokens[1]}"
    return tokens[0] if tokens[0] in names else None


def _short(problem: Problem) -> str:
    return f"line {problem.line}: {problem.message}" if problem.line else problem.message


def _cards(console: Console, request: Request, seen: edits.Preview, section: str, change: edits.Change,
           entry_id: Any) -> list[Any]:
    plan, impact = seen.plan, seen.impact
    assert plan is not None and impact is not None
    if section == "moments" and change.value is not None:
        chosen = seen.posts_of(str(entry_id))
    elif section == "testimonials" and change.value is not None:
        chosen = [p for p in plan.posts if p.media and p.media.testimonial_id == entry_id]
    else:
        touched = set(impact.added + impact.moved + impact.changed)
        chosen = [p for p in plan.posts if p.id in touched]
    calendar = seen.loaded.calendar if seen.loaded else None
    channels = {c.id: c for c in calendar.channels} if calendar else {}
    base = _base(request)
    # the console's thumbnails are served per stored post: only where it carries the same file
    stored = {p.id: p.media.path if p.media else None for p in console.store.posts_by_id([p.id for p in chosen[:MAX_CARDS]])}
    cards = []
    for post in chosen[:MAX_CARDS]:
        rendered = plan.is_rendered(post)
        same_file = post.media is not None and stored.get(post.id) == post.media.path
        thumb = f"{base}/thumb/{post.id}" if rendered and same_file else None
        cards.append(make_card(post, thumbnail=thumb, rendered=rendered, channel=channels.get(post.channel_id)))
    return cards


def _form_page(request: Request, console: Console, me: Account, section: str, key: Any, entry: dict[str, Any] | None,
               digest: str, *, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    """The form; after a refused save, with the person's input as they typed it."""
    if entry is None:  # re-show what was typed
        form = request.state.form
        fields = _fields(console, me, section, {})
        for f in fields:
            f.value = [str(v) for v in form.getlist(f.name)] if f.kind == "checks" else (
                form.get(f.name) == "on" if f.kind == "checkbox" else str(form.get(f.name, "")))
    else:
        fields = _fields(console, me, section, entry)
    context = context or {"problems": [], "field_problems": {}, "stale": None, "impact": "", "diff": "", "cards": [],
                          "refused": None}
    for f in fields:
        f.problems = context["field_problems"].get(f.name, [])
    groups: dict[str, list[forms.Field]] = {}
    for f in fields:
        groups.setdefault(f.group, []).append(f)
    title = (f"New {SECTIONS[section]}" if key is None else f"{SECTIONS[section].capitalize()} {key}")
    return render(request, console, "edit_form.html.j2", me, status_code=status_code, section=section, key=key,
                  key_path="new" if key is None else key, title=title, groups=groups, base_hash=digest,
                  noun=SECTIONS[section], **{k: v for k, v in context.items() if k not in ("section", "key", "base_hash", "noun")})


def _redirect(request: Request, console: Console, target: str, message: str) -> Response:
    """Post/redirect/get to `target`, with the outcome as the one-time message."""
    response = RedirectResponse(_base(request) + target, status_code=303)
    response.set_cookie(FLASH_COOKIE, console.signer.flash(message[:1500]), max_age=60, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path=_base(request) or "/")
    return response


def _replay(form: Any) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in form.multi_items() if k not in ("csrf", "confirm", "back")]


def _target_after(section: str, key: Any, change: edits.Change, deleting: bool) -> str:
    if deleting:
        return "/edit"
    if section == "overrides":
        return f"/posts/{key}"
    if section == "blackouts":
        return "/edit" if key is None else f"/edit/blackouts/{key}"
    new_id = (change.value or {}).get("id", key)
    return f"/edit/{section}/{new_id}"


def _current_caption(console: Console, post_id: Any) -> str:
    post = console.store.get(str(post_id))
    return post.caption if post is not None else ""


def routes() -> list[Route]:
    return [
        Route("/edit", edit_index, methods=["GET"]),
        Route("/edit/{section}/{key:path}/preview", edit_preview, methods=["POST"]),
        Route("/edit/{section}/{key:path}", edit_form, methods=["GET"]),
        Route("/edit/{section}/{key:path}", edit_save, methods=["POST"]),
        Route("/history", history_page, methods=["GET"]),
        Route("/history/revert", revert_action, methods=["POST"]),
        Route("/history/{sha}", commit_page, methods=["GET"]),
    ]
