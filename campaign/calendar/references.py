"""Whole-file checks: what one entry alone cannot tell (references, dates, consent, files).

Each check yields a `Problem` whose `where` is an index path (``moments[2].channels[0]``);
the loader turns it into a line number and a readable place.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter
from pathlib import Path
from typing import Iterable

from campaign.calendar.brand_files import font_problem, logo_problem
from campaign.calendar.models import Calendar, Moment
from campaign.errors import Problem
from campaign.calendar.notifications import check_notifications
from campaign.calendar.translations import check_translations
from campaign.calendar.usage import media_kind
from campaign.languages import script_of
from campaign.platforms import PLATFORMS, VARIANTS


def check_references(calendar: Calendar, root: Path, today: dt.date, partial: bool = False) -> list[Problem]:
    """Run every whole-file check. With `partial` (some entries were invalid and left out),
    a check that cannot run on what is left is skipped rather than guessed."""
    checks = (_duplicates, _moment_references, _languages, _dates, _consent, _templates, _brand_files, _channel_settings, _usage,
              _translations, check_notifications)
    problems: list[Problem] = []
    for check in checks:
        try:
            problems.extend(check(calendar, root, today))
        except (AttributeError, TypeError):
            if not partial:
                raise
    return problems


def _error(where: str, message: str) -> Problem:
    return Problem("", None, where, message, "error")


def _warning(where: str, message: str) -> Problem:
    return Problem("", None, where, message, "warning")


def _suggest(name: str, known: Iterable[str]) -> str:
    known = list(known)
    guess = difflib.get_close_matches(name, known, n=1)
    if guess:
        return f"did you mean `{guess[0]}`?"
    return f"known: {', '.join(known)}" if known else "declare it first"


def _duplicates(calendar: Calendar, _root: Path, _today: dt.date) -> Iterable[Problem]:
    for section in ("channels", "testimonials", "moments"):
        seen: set[str] = set()
        for index, item in enumerate(getattr(calendar, section)):
            if item.id in seen:
                yield _error(f"{section}[{index}].id", f"duplicate id `{item.id}` — ids must be unique within {section}; rename one of them")
            seen.add(item.id)


def posting_languages(calendar: Calendar, moment: Moment) -> set[str]:
    """Every language a moment posts in: its channels' languages, narrowed by `languages:`."""
    channels = {c.id: c for c in calendar.channels}
    languages = {lang for cid in moment.channels if cid in channels for lang in channels[cid].languages}
    return languages & set(moment.languages) if moment.languages else languages


def _moment_references(calendar: Calendar, _root: Path, _today: dt.date) -> Iterable[Problem]:
    channel_ids = [c.id for c in calendar.channels]
    testimonial_ids = [t.id for t in calendar.testimonials]
    for m_index, moment in enumerate(calendar.moments):
        for c_index, channel_id in enumerate(moment.channels):
            if channel_id not in channel_ids:
                yield _error(f"moments[{m_index}].channels[{c_index}]", f"unknown channel `{channel_id}` — {_suggest(channel_id, channel_ids)}")
        for t_index, testimonial_id in enumerate(moment.testimonials):
            if testimonial_id not in testimonial_ids:
                yield _error(f"moments[{m_index}].testimonials[{t_index}]", f"unknown testimonial `{testimonial_id}` — {_suggest(testimonial_id, testimonial_ids)}")
        if moment.pillar not in calendar.campaign.pillars:
            yield _error(f"moments[{m_index}].pillar", f"pillar `{moment.pillar}` is not one of the campaign's pillars — use one of {', '.join(calendar.campaign.pillars)} or add it to campaign.pillars")
    for b_index, blackout in enumerate(calendar.blackouts):
        if blackout.channels != "all":
            for c_index, channel_id in enumerate(blackout.channels):
                if channel_id not in channel_ids:
                    yield _error(f"blackouts[{b_index}].channels[{c_index}]", f"unknown channel `{channel_id}` — {_suggest(channel_id, channel_ids)}")
    for t_index, testimonial in enumerate(calendar.testimonials):
        if testimonial.pillar not in calendar.campaign.pillars:
            yield _error(f"testimonials[{t_index}].pillar", f"pillar `{testimonial.pillar}` is not one of the campaign's pillars — use one of {', '.join(calendar.campaign.pillars)}")


def _languages(calendar: Calendar, _root: Path, _today: dt.date) -> Iterable[Problem]:
    baseline = calendar.campaign.baseline
    for c_index, channel in enumerate(calendar.channels):
        for l_index, language in enumerate(channel.languages):
            if language not in baseline:
                yield _error(f"channels[{c_index}].languages[{l_index}]", f"channel `{channel.id}` posts in `{language}` but campaign.baseline has no `{language}` translation — add `{language}:` under campaign.baseline")
    channels = {c.id: c for c in calendar.channels}
    testimonials = {t.id: (i, t) for i, t in enumerate(calendar.testimonials)}
    for m_index, moment in enumerate(calendar.moments):
        own = {lang for cid in moment.channels if cid in channels for lang in channels[cid].languages}
        all_known = all(cid in channels for cid in moment.channels)  # else the channel error says it
        for l_index, language in enumerate(moment.languages if all_known and moment.languages else []):
            if language not in own:
                yield _error(f"moments[{m_index}].languages[{l_index}]", f"none of this moment's channels posts in `{language}` — remove it or add a channel that posts in it")
        needed = posting_languages(calendar, moment)
        for testimonial_id in moment.testimonials:
            if testimonial_id not in testimonials:
                continue
            t_index, testimonial = testimonials[testimonial_id]
            for language in sorted(needed - set(testimonial.quote)):
                yield _error(f"testimonials[{t_index}].quote", f"no `{language}` quote, but moment `{moment.id}` posts it in `{language}` — add `{language}:` under quote")
            if testimonial.clip and moment.media != "photo":
                for language in sorted(needed - set(testimonial.subtitles)):
                    yield _error(f"testimonials[{t_index}].subtitles", f"no `{language}` subtitles for the clip, but moment `{moment.id}` posts it in `{language}` — add `{language}: <file>.srt` under subtitles, or set `media: photo` on the moment")
            if moment.media == "clip" and not testimonial.clip:
                yield _error(f"moments[{m_index}].media", f"the moment asks for a clip but testimonial `{testimonial.id}` has only a photo — add `clip:` to it or use `media: auto`")
            if moment.media == "photo" and not testimonial.photo:
                yield _error(f"moments[{m_index}].media", f"the moment asks for a photo but testimonial `{testimonial.id}` has only a clip — add `photo:` to it or use `media: auto`")


def _dates(calendar: Calendar, _root: Path, today: dt.date) -> Iterable[Problem]:
    start, end = calendar.campaign.start, calendar.campaign.end
    span = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
    for m_index, moment in enumerate(calendar.moments):
        field_name = "date" if moment.date else "start"
        if moment.first_day < start or moment.first_day > end:
            yield _error(f"moments[{m_index}].{field_name}", f"{moment.first_day:%Y-%m-%d} is outside the campaign ({span}) — move the moment or widen campaign.start/end")
        elif moment.last_day > end:
            yield _error(f"moments[{m_index}].end", f"{moment.last_day:%Y-%m-%d} is after the campaign ends ({end:%Y-%m-%d}) — end the moment earlier or extend campaign.end")
        elif moment.last_day < today and moment.recurrence is None:
            yield _warning(f"moments[{m_index}].{field_name}", f"moment `{moment.id}` lies in the past ({moment.last_day:%Y-%m-%d}) — nothing will be posted for it")
    for b_index, blackout in enumerate(calendar.blackouts):
        if blackout.end.date() < start or blackout.start.date() > end:
            yield _warning(f"blackouts[{b_index}].start", "this blackout lies outside the campaign — it will never block anything")


def _consent(calendar: Calendar, _root: Path, today: dt.date) -> Iterable[Problem]:
    testimonials = {t.id: t for t in calendar.testimonials}
    for m_index, moment in enumerate(calendar.moments):
        for t_index, testimonial_id in enumerate(moment.testimonials):
            testimonial = testimonials.get(testimonial_id)
            if testimonial is None:
                continue
            where = f"moments[{m_index}].testimonials[{t_index}]"
            until = testimonial.consent_until
            if until < moment.first_day:
                yield _error(where, f"consent for `{testimonial_id}` ends {until:%Y-%m-%d}, before this moment ({moment.first_day:%Y-%m-%d}) — remove it from the moment or record a renewed consent_until")
            elif until < moment.last_day or (moment.recurrence and until < calendar.campaign.end):
                yield _warning(where, f"consent for `{testimonial_id}` ends {until:%Y-%m-%d}, during this moment's dates — posts after that day will not use it")
    for t_index, testimonial in enumerate(calendar.testimonials):
        if today <= testimonial.consent_until <= today + dt.timedelta(days=30):
            yield _warning(f"testimonials[{t_index}].consent_until", f"consent for `{testimonial.id}` ends within 30 days ({testimonial.consent_until:%Y-%m-%d}) — renew it if the testimonial is still needed")


def template_candidates(templates_dir: Path, name: str, language: str) -> list[Path]:
    """A caption template per language wins over the shared one."""
    captions = templates_dir / "captions"
    return [captions / f"{name}.{language}.j2", captions / f"{name}.j2"]


def _templates(calendar: Calendar, root: Path, _today: dt.date) -> Iterable[Problem]:
    templates_dir = root / calendar.templates
    if not templates_dir.is_dir():
        yield _error("templates", f"the templates folder {templates_dir} does not exist — create it or point `templates:` at it")
        return
    for m_index, moment in enumerate(calendar.moments):
        missing = [lang for lang in sorted(posting_languages(calendar, moment))
                   if not any(p.is_file() for p in template_candidates(templates_dir, moment.template, lang))]
        if missing:
            yield _error(f"moments[{m_index}].template",
                         f"unknown template `{moment.template}` for {', '.join(missing)} — create {calendar.templates}/captions/{moment.template}.j2 (shared) or {moment.template}.<lang>.j2")


def _brand_files(calendar: Calendar, root: Path, _today: dt.date) -> Iterable[Problem]:
    brand = calendar.brand
    files = [("brand.logo", brand.logo)] + [(f"brand.fonts.{k}", v) for k, v in brand.fonts.model_dump().items() if v]
    baselines: dict[str, str] = {}
    for language, text in calendar.campaign.baseline.items():
        baselines[script_of(language)] = baselines.get(script_of(language), "") + text
    for where, relative in files:
        path = root / relative
        if not path.is_file():
            yield _error(where, f"file {relative} not found (paths are relative to the calendar's folder) — fix the path or add the file")
            continue
        script = where.rsplit(".", 1)[-1]
        problem = logo_problem(path) if where == "brand.logo" else font_problem(path, script, baselines.get(script, ""))
        if problem:
            yield _error(where, problem)
    for c_index, channel in enumerate(calendar.channels):
        for l_index, language in enumerate(channel.languages):
            script = script_of(language)
            if script != "latin" and getattr(brand.fonts, script) is None:
                yield _error(f"channels[{c_index}].languages[{l_index}]", f"`{language}` needs a {script} font but brand.fonts.{script} is not set — add a font file that covers it (e.g. Noto Sans {'JP' if script == 'japanese' else 'Arabic'})")


def _channel_settings(calendar: Calendar, _root: Path, today: dt.date) -> Iterable[Problem]:
    for c_index, channel in enumerate(calendar.channels):
        spec = PLATFORMS[channel.platform.value]
        if spec.version_problem is not None and channel.api.version:
            found = spec.version_problem(channel.api.version, today)
            if found:
                severity, message = found
                where = f"channels[{c_index}].api.version"
                yield _error(where, message) if severity == "error" else _warning(where, message)
        for kind in ("photo", "clip"):
            name = getattr(channel.variants, kind)
            if name and name not in VARIANTS:
                yield _error(f"channels[{c_index}].variants.{kind}", f"unknown variant `{name}` — {_suggest(name, VARIANTS)}")
        if len(channel.slots) > 1:
            shortest = min(
                (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a))
                for a, b in zip(channel.slots, channel.slots[1:])
            )
            if shortest < channel.min_spacing:
                yield _warning(f"channels[{c_index}].slots", f"two slots of `{channel.id}` are closer than its min_spacing ({channel.min_spacing}) — some slots will stay unused")
        if spec.media_by_url and channel.api.media_base_url:
            yield _warning(f"channels[{c_index}].api.media_base_url", f"`{channel.id}` hands {spec.label} plain addresses under "
                           "api.media_base_url, which anyone can guess before a post goes out — remove it and set `media_urls:` "
                           "(signed addresses that expire; see the README)")
        elif spec.media_by_url and calendar.media_urls is None:
            yield _warning(f"channels[{c_index}].api", f"{spec.label} fetches media from a public URL; `{channel.id}` has no address "
                           "to give it — set `media_urls: {base_url: <the public address of the web process>}` before going "
                           "live (the sandbox serves media itself)")


def _usage(calendar: Calendar, _root: Path, _today: dt.date) -> Iterable[Problem]:
    used_channels = Counter(cid for m in calendar.moments for cid in m.channels)
    used_testimonials = Counter(tid for m in calendar.moments for tid in m.testimonials)
    for c_index, channel in enumerate(calendar.channels):
        if not used_channels[channel.id]:
            yield _warning(f"channels[{c_index}].id", f"channel `{channel.id}` is in no moment — it will post nothing")
    for t_index, testimonial in enumerate(calendar.testimonials):
        if not used_testimonials[testimonial.id]:
            yield _warning(f"testimonials[{t_index}].id", f"testimonial `{testimonial.id}` is in no moment — it will not be posted")
    channels = {c.id: c for c in calendar.channels}
    testimonials = {t.id: t for t in calendar.testimonials}
    for m_index, moment in enumerate(calendar.moments):
        if not moment.testimonials:
            media_only = sorted({PLATFORMS[channels[c].platform.value].label for c in moment.channels
                                 if c in channels and not PLATFORMS[channels[c].platform.value].text_only})
            if media_only:
                yield _error(f"moments[{m_index}].testimonials", f"moment `{moment.id}` posts to {' and '.join(media_only)}, which cannot post text alone, but has no testimonial — add one")
            else:
                yield _warning(f"moments[{m_index}].testimonials", f"moment `{moment.id}` has no testimonial — its posts will be text only")
        no_photos = [channels[c] for c in moment.channels if c in channels and not PLATFORMS[channels[c].platform.value].photos]
        for channel in no_photos:
            with_photo = [t for t in moment.testimonials if t in testimonials and media_kind(moment, testimonials[t]) == "photo"]
            if with_photo:
                label = PLATFORMS[channel.platform.value].label
                yield _error(f"moments[{m_index}].channels", f"{label} takes no photo posts, but moment `{moment.id}` would post the photo of "
                                                             f"{', '.join(f'`{t}`' for t in with_photo)} to `{channel.id}` — use `media: clip` with "
                                                             f"testimonials that have a clip, or take `{channel.id}` off this moment")


def _translations(calendar: Calendar, root: Path, _today: dt.date) -> Iterable[Problem]:
    """Text a post or its stamped lower third would carry in another language (warnings)."""
    return check_translations(calendar, posting_languages, root)
