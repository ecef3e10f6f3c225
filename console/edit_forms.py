"""The edit forms' fields: a calendar entry to form fields and back, one function pair per section.

Each form shows one entry (a moment, a testimonial, a blackout, a channel). Reading a form
back starts from the entry as the file has it, so keys the form does not show (subtitles, API
settings) stay; an optional key the entry did not have is only added when the person gave it
a value other than its default, so a save never adds lines nobody asked for. Fields are
named by their key path (`titles.ja`), as `validate`'s messages name them, so a problem is
shown beside its field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from campaign.calendar.models import Calendar

PILLARS = ("innovation", "partnerships", "diversity")
MEDIA = ("auto", "photo", "clip")


@dataclass
class Field:
    """One input: `kind` text | textarea | date | select | checks | checkbox; `group` collects the
    per-language inputs under one heading; `locked` shows it without letting it change."""

    name: str
    label: str
    kind: str = "text"
    value: Any = ""
    choices: tuple[str, ...] = ()
    help: str = ""
    group: str = ""
    locked: bool = False
    required: bool = False
    rtl: bool = False
    problems: list[str] = field(default_factory=list)


def languages_of(calendar: Calendar | None) -> tuple[str, ...]:
    """Every language the campaign writes (its baselines), English first."""
    if calendar is None:
        return ("en",)
    found = list(calendar.campaign.baseline)
    return tuple(sorted(found, key=lambda lang: (lang != "en", found.index(lang))))


# -- moments --------------------------------------------------------------------------------------

def moment_fields(entry: Mapping[str, Any], calendar: Calendar | None, *, channels_allowed: Iterable[str] | None = None) -> list[Field]:
    langs = languages_of(calendar)
    channel_ids = tuple(c.id for c in calendar.channels) if calendar else tuple(entry.get("channels") or ())
    testimonial_ids = tuple(t.id for t in calendar.testimonials) if calendar else tuple(entry.get("testimonials") or ())
    titles = entry.get("titles") or {}
    hashtags, link = entry.get("hashtags") or [], entry.get("link")
    fields = [
        Field("id", "Id (lower-case letters, digits, dashes; it names the posts)", value=entry.get("id", ""), required=True),
        Field("title", "Title (English, and the fallback)", value=entry.get("title", ""), required=True),
        *[Field(f"titles.{lang}", lang, value=titles.get(lang, ""), group="Titles per language", rtl=lang == "ar")
          for lang in langs if lang != "en"],
        Field("date", "Date (one day)", "date", value=_day(entry.get("date")),
              help="or a range: start and end"),
        Field("start", "Start", "date", value=_day(entry.get("start"))),
        Field("end", "End", "date", value=_day(entry.get("end"))),
        Field("recurrence", "Recurrence", "select", value=entry.get("recurrence") or "", choices=("", "yearly")),
        Field("pillar", "Pillar", "select", value=entry.get("pillar", ""), choices=("",) + PILLARS, required=True),
        Field("channels", "Channels", "checks", value=list(entry.get("channels") or []), choices=channel_ids,
              help=("you edit moments of " + ", ".join(channels_allowed)) if channels_allowed is not None else ""),
        Field("languages", "Languages (none ticked: every language of each channel)", "checks",
              value=list(entry.get("languages") or []), choices=langs),
        Field("testimonials", "Testimonials", "checks", value=list(entry.get("testimonials") or []), choices=testimonial_ids),
        Field("media", "Media", "select", value=entry.get("media") or "auto", choices=MEDIA),
        Field("template", "Caption template (templates/captions/NAME.j2)", value=entry.get("template") or "testimonial"),
        Field("hashtags", "Hashtags (without #, separated by spaces)",
              value=" ".join(hashtags) if isinstance(hashtags, list) else ""),
        *[Field(f"hashtags.{lang}", lang, value=" ".join(hashtags.get(lang, [])) if isinstance(hashtags, dict) else "",
                group="Hashtags per language (replace the common ones)") for lang in langs],
        Field("link", "Link (https://…)", value=link if isinstance(link, str) else ""),
        *[Field(f"link.{lang}", lang, value=link.get(lang, "") if isinstance(link, dict) else "",
                group="Link per language (a language without one falls back to en)") for lang in langs],
    ]
    if channels_allowed is not None:
        allowed = set(channels_allowed)
        for f in fields:
            if f.name == "channels":
                f.choices = tuple(c for c in f.choices if c in allowed or c in f.value)
    return fields


def moment_from_form(form: Mapping[str, str], lists: Mapping[str, list[str]], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """The moment the form describes, as the calendar would hold it."""
    old = dict(old or {})
    new: dict[str, Any] = dict(old)
    new["id"] = form.get("id", "").strip()
    new["title"] = form.get("title", "").strip()
    titles = {k.split(".", 1)[1]: v.strip() for k, v in form.items() if k.startswith("titles.") and v.strip()}
    _put(new, old, "titles", titles, {})
    for key in ("date", "start", "end"):
        _put(new, old, key, _parse_day(form.get(key, "")), None)
    _put(new, old, "recurrence", form.get("recurrence") or None, None)
    new["pillar"] = form.get("pillar", "")
    new["channels"] = _in_order(lists.get("channels", []), old.get("channels"))
    _put(new, old, "languages", _in_order(lists.get("languages", []), old.get("languages")) or None, None)
    _put(new, old, "testimonials", _in_order(lists.get("testimonials", []), old.get("testimonials")), [])
    _put(new, old, "media", form.get("media") or "auto", "auto")
    _put(new, old, "template", form.get("template", "").strip() or "testimonial", "testimonial")
    per_tags = {k.split(".", 1)[1]: _tags(v) for k, v in form.items() if k.startswith("hashtags.") and _tags(v)}
    _put(new, old, "hashtags", per_tags or _tags(form.get("hashtags", "")), [])
    per_link = {k.split(".", 1)[1]: v.strip() for k, v in form.items() if k.startswith("link.") and v.strip()}
    common = form.get("link", "").strip()
    if per_link and common and "en" not in per_link:
        per_link = {"en": common, **per_link}
    _put(new, old, "link", per_link or common or None, None)
    return _ordered(new, old)


# -- testimonials ---------------------------------------------------------------------------------

def testimonial_fields(entry: Mapping[str, Any], calendar: Calendar | None, *, languages_allowed: Iterable[str] | None = None) -> list[Field]:
    langs = languages_of(calendar)
    quote, alt = entry.get("quote") or {}, entry.get("alt_text") or {}
    allowed = set(languages_allowed) if languages_allowed is not None else None
    locked_all = allowed is not None
    focus = entry.get("focus") or {}
    fields = [
        Field("id", "Id", value=entry.get("id", ""), required=True, locked=locked_all),
        Field("name", "Name", value=entry.get("name", ""), required=True, locked=locked_all),
        Field("country", "Country (English name or ISO code)", value=entry.get("country", ""), required=True, locked=locked_all),
        Field("spoken_language", "Spoken language", "select", value=entry.get("spoken_language", ""),
              choices=("",) + langs, locked=locked_all),
        Field("pillar", "Pillar", "select", value=entry.get("pillar", ""), choices=("",) + PILLARS, locked=locked_all),
        *[Field(f"quote.{lang}", lang, "textarea", value=quote.get(lang, ""), group="Quote per language", rtl=lang == "ar",
                locked=allowed is not None and lang not in allowed) for lang in langs],
        *[Field(f"alt_text.{lang}", lang, "textarea", value=alt.get(lang, ""), group="Alt text per language (empty: generated)",
                rtl=lang == "ar", locked=allowed is not None and lang not in allowed) for lang in langs],
        Field("photo", "Photo file (as dropped in the inbox)", value=entry.get("photo") or "", locked=locked_all),
        Field("clip", "Clip file", value=entry.get("clip") or "", locked=locked_all),
        Field("consent_until", "Consent until", "date", value=_day(entry.get("consent_until")), required=True, locked=locked_all),
        Field("focus.x", "Focus x (0–1, where the face is; empty: detected)", value=_number(focus.get("x")),
              group="Focus", locked=locked_all),
        Field("focus.y", "Focus y (0–1)", value=_number(focus.get("y")), group="Focus", locked=locked_all),
    ]
    return fields


def testimonial_from_form(form: Mapping[str, str], old: Mapping[str, Any] | None, *,
                          languages_allowed: Iterable[str] | None = None) -> dict[str, Any]:
    old = dict(old or {})
    allowed = set(languages_allowed) if languages_allowed is not None else None
    new: dict[str, Any] = dict(old)
    for key in ("quote", "alt_text"):
        given = {k.split(".", 1)[1]: v.strip() for k, v in form.items() if k.startswith(f"{key}.")}
        merged = dict(old.get(key) or {})
        for lang, text in given.items():
            if allowed is not None and lang not in allowed:
                continue
            if text:
                merged[lang] = text
            else:
                merged.pop(lang, None)
        _put(new, old, key, merged, {})
    if allowed is not None:  # an editor changes quotes and alt text only
        return _ordered(new, old)
    for key in ("id", "name", "country"):
        new[key] = form.get(key, "").strip()
    new["spoken_language"] = form.get("spoken_language", "")
    new["pillar"] = form.get("pillar", "")
    for key in ("photo", "clip"):
        _put(new, old, key, form.get(key, "").strip() or None, None)
    new["consent_until"] = _parse_day(form.get("consent_until", "")) or form.get("consent_until", "")
    x, y = _parse_number(form.get("focus.x", "")), _parse_number(form.get("focus.y", ""))
    _put(new, old, "focus", {"x": x, "y": y} if x is not None and y is not None else None, None)
    return _ordered(new, old)


# -- blackouts ------------------------------------------------------------------------------------

def blackout_fields(entry: Mapping[str, Any], calendar: Calendar | None) -> list[Field]:
    channels = entry.get("channels", "all")
    channel_ids = tuple(c.id for c in calendar.channels) if calendar else ()
    return [
        Field("start", "Start (YYYY-MM-DD HH:MM, local)", value=_minute(entry.get("start")), required=True),
        Field("end", "End (YYYY-MM-DD HH:MM)", value=_minute(entry.get("end")), required=True),
        Field("timezone", "Time zone (empty: the campaign's)", value=entry.get("timezone") or ""),
        Field("reason", "Reason", value=entry.get("reason", ""), required=True),
        Field("channels", "Channels (none ticked: all)", "checks",
              value=[] if channels == "all" else list(channels or []), choices=channel_ids),
    ]


def blackout_from_form(form: Mapping[str, str], lists: Mapping[str, list[str]], old: Mapping[str, Any] | None) -> dict[str, Any]:
    old = dict(old or {})
    new: dict[str, Any] = dict(old)
    for key in ("start", "end"):
        value = form.get(key, "").strip().replace("T", " ")
        new[key] = old[key] if key in old and _minute(old[key]) == value else value
    new["reason"] = form.get("reason", "").strip()
    _put(new, old, "timezone", form.get("timezone", "").strip() or None, None)
    new["channels"] = _in_order(lists.get("channels", []), old.get("channels")) or "all"
    return _ordered(new, old, ("start", "end", "timezone", "reason", "channels"))


# -- channels (admins) ------------------------------------------------------------------------------

def channel_fields(entry: Mapping[str, Any]) -> list[Field]:
    return [
        Field("id", "Id", value=entry.get("id", ""), locked=True),
        Field("slots", "Posting slots (local HH:MM, separated by spaces or commas)",
              value=" ".join(_slot(s) for s in entry.get("slots") or []), required=True),
        Field("timezone", "Time zone (IANA, e.g. Asia/Tokyo)", value=entry.get("timezone", ""), required=True),
        Field("approval", "Nothing goes out before approval", "checkbox", value=bool(entry.get("approval", False))),
        Field("grace", "Grace (how late a post may still go out: 90m, 2h, 1d)", value=str(entry.get("grace") or "")),
    ]


def channel_from_form(form: Mapping[str, str], old: Mapping[str, Any]) -> dict[str, Any]:
    old = dict(old)
    new = dict(old)
    slots = [s for s in re.split(r"[\s,]+", form.get("slots", "")) if s]
    new["slots"] = old["slots"] if [_slot(s) for s in old.get("slots") or []] == slots else slots
    new["timezone"] = form.get("timezone", "").strip()
    _put(new, old, "approval", form.get("approval") == "on", False)
    _put(new, old, "grace", form.get("grace", "").strip() or None, None)
    return _ordered(new, old)


# -- helpers --------------------------------------------------------------------------------------

def _put(new: dict[str, Any], old: Mapping[str, Any], key: str, value: Any, default: Any) -> None:
    """Set an optional key: removed when emptied, left out when the entry did not have it and
    the value is its default (a save adds no line nobody asked for)."""
    empty = value is None or value == {} or value == []
    if key in old:
        if not empty:
            new[key] = value
        elif old[key] in (None, [], {}):
            new[key] = old[key]  # written empty on purpose: leave the line alone
        else:
            new.pop(key, None)
    elif empty or value == default:
        new.pop(key, None)
    else:
        new[key] = value


def _ordered(new: dict[str, Any], old: Mapping[str, Any], order: tuple[str, ...] = ()) -> dict[str, Any]:
    """The old keys in their order, then the new ones (the writer places those by the README's order)."""
    keys = [k for k in old if k in new] + [k for k in order if k in new and k not in old] + \
        [k for k in new if k not in old and k not in order]
    return {k: new[k] for k in keys}


def _in_order(chosen: Iterable[str], before: Any) -> list[str]:
    """Ticked boxes in the order the file lists them (then the newly ticked ones): a list the
    person did not change is not rewritten."""
    chosen = list(dict.fromkeys(chosen))
    kept = [v for v in before if v in chosen] if isinstance(before, list) else []
    return kept + [v for v in chosen if v not in kept]


def _tags(text: str) -> list[str]:
    return [t.lstrip("#") for t in re.split(r"[\s,]+", text or "") if t.lstrip("#")]


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else (str(value) if value else "")


def _parse_day(text: str) -> dt.date | str | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text  # validate says what is wrong with it, with its line


def _minute(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value or "")


def _slot(value: Any) -> str:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 60:02d}:{value % 60:02d}"
    return str(value)


def _number(value: Any) -> str:
    return "" if value is None else str(value)


def _parse_number(text: str) -> float | str | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text
