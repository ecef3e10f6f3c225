"""The calendar to the concrete list of posts a manager reviews before anything goes out.

Order of work (deterministic, so planning twice gives the same posts at the same times):
occurrences by first day then moment id; per occurrence the moment's channels in the
calendar's order; per channel its languages in the channel's order. Each post takes the
first free slot of its channel (spacing, daily cap and blackouts are checked against every
post already booked on that channel, whatever its moment).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from assets.manifest import Manifest
from assets.specs import output_name
from campaign.calendar.loader import LoadedCalendar
from campaign.calendar.models import Calendar, Channel, Moment, Testimonial
from campaign.calendar.usage import media_kind, moment_channels, moment_languages
from campaign.languages import RIGHT_TO_LEFT, isolate_ltr_runs, list_separator, quotation_marks
from campaign.platforms import PLATFORMS, variant_for
from campaign.post import MediaRef, PlanIssue, PlannedPost, post_id
from scheduler.plan.alttext import generated_alt_text
from scheduler.plan.captions import CaptionRenderer, with_hashtags
from scheduler.plan.expand import Occurrence, occurrences
from scheduler.plan.timing import ChannelBook, Placement, blackout_windows, place, resolve_local
from scheduler.plan.utm import add_utm
from scheduler.platforms.registry import check_caption, platform_of


@dataclass
class Plan:
    """Posts sorted by (scheduled_at, id) and what could not be planned."""

    posts: list[PlannedPost]
    issues: list[PlanIssue]
    build_dir: Path = Path("build")
    _refused: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def errors(self) -> list[PlanIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    def media_path(self, post: PlannedPost) -> Path | None:
        return self.build_dir / post.media.path if post.media else None

    def is_rendered(self, post: PlannedPost) -> bool:
        """Whether the post's asset exists under the build folder (it may be rendered later)."""
        path = self.media_path(post)
        return path is not None and path.is_file()

    def media_refusal(self, post: PlannedPost) -> str | None:
        """Why the render pipeline refused to make this post's file from the current inputs, if it did."""
        if post.media is None:
            return None
        if self._refused is None:
            self._refused = {k: str(v.get("reason")) for k, v in Manifest.load(self.build_dir).refused.items()}
        return self._refused.get(post.media.path)


def plan_posts(loaded: LoadedCalendar, *, build_dir: Path = Path("build"), today: dt.date | None = None,
               captions: CaptionRenderer | None = None) -> Plan:
    """Plan every post of the calendar. Raises `TemplateError` for a broken caption template
    (unless `captions` is a renderer that collects them, as `validate` does).

    With `today`, posts before it carry a warning (they stay in the plan: the daemon decides
    whether they are missed).
    """
    calendar = loaded.calendar
    planner = _Planner(calendar, captions or CaptionRenderer(loaded.root / calendar.templates), today)
    for occurrence in occurrences(calendar):
        planner.plan_occurrence(occurrence)
    posts = sorted(planner.posts, key=lambda p: (p.scheduled_at, p.id))
    return Plan(posts, planner.issues, build_dir)


@dataclass
class _Planner:
    calendar: Calendar
    captions: CaptionRenderer
    today: dt.date | None
    posts: list[PlannedPost] = field(default_factory=list)
    issues: list[PlanIssue] = field(default_factory=list)
    books: dict[str, ChannelBook] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.calendar.campaign.timezone)

    def book_of(self, channel: Channel) -> ChannelBook:
        if channel.id not in self.books:
            windows = blackout_windows(self.calendar.blackouts, channel.id, self.calendar.campaign.timezone)
            self.books[channel.id] = ChannelBook(channel, windows)
        return self.books[channel.id]

    def issue(self, severity: str, moment: Moment, message: str, channel: Channel | None = None,
              language: str | None = None, pid: str | None = None) -> None:
        self.issues.append(PlanIssue(severity, moment.id, channel.id if channel else None, language, message, pid))

    def plan_occurrence(self, occurrence: Occurrence) -> None:
        moment = occurrence.moment
        known = {t.id: t for t in self.calendar.testimonials}
        listed = [known[t] for t in moment.testimonials if t in known]
        candidates = [t for t in listed if t.consent_until >= occurrence.first]
        if listed and not candidates:
            ended = ", ".join(f"{t.id} ({t.consent_until:%Y-%m-%d})" for t in listed)
            self.issue("error", moment, f"no usable testimonial for {moment.id} {occurrence.year}: consent ended for {ended} — "
                       "renew a consent_until or add another testimonial to the moment")
            return
        rotation = 0
        for channel in moment_channels(self.calendar, moment):
            languages = moment_languages(moment, channel)
            others: list[str] = []
            if languages and PLATFORMS[channel.platform.value].languages_in_one_post:
                languages, others = languages[:1], languages[1:]  # one post in the first language carries the rest
            for index, language in enumerate(languages):
                pid = post_id(moment.id, occurrence.year, channel.id, language)
                usable = [t for t in candidates if language in t.quote]
                if listed and not usable:
                    self.issue("error", moment, f"{pid}: no testimonial of this moment has a `{language}` quote with valid consent — add a quote or remove the language",
                               channel, language, pid)
                    continue
                until = max(t.consent_until for t in usable) if usable else None
                # Consent is counted in the campaign's time zone (where it was given): a post at 22:30 in
                # Los Angeles on the last day is already the next day in Brussels, so it may not go out.
                deadline = consent_deadline(until, self.zone) if until else None
                days = occurrence.days(until + dt.timedelta(days=1) if until else None)
                preferred = (index * len(days)) // len(languages) if len(days) > 1 else 0
                placement = place(self.book_of(channel), days, preferred, deadline=deadline)
                if placement.slot is None:
                    self.issue("error", moment, _cannot_fit(pid, occurrence, days, placement, until), channel, language, pid)
                    continue
                day = placement.slot.utc.astimezone(self.zone).date()
                valid = [t for t in usable if t.consent_until >= day]
                testimonial = _choose(valid, language, rotation) if valid else None
                rotation += 1
                self.posts.append(self.build_post(occurrence, channel, language, pid, placement, testimonial, others))

    def build_post(self, occurrence: Occurrence, channel: Channel, language: str, pid: str,
                   placement: Placement, testimonial: Testimonial | None, others: list[str] | None = None) -> PlannedPost:
        moment = occurrence.moment
        slot = placement.slot
        assert slot is not None
        platform = channel.platform.value
        warnings: list[str] = []
        problems: list[str] = []  # plan errors: the post is held, never published as it is
        if slot.note:
            warnings.append(slot.note)
        for window in placement.skipped_blackouts:
            warnings.append(f"moved to {slot.local:%a %d %b %H:%M} by the blackout “{window.reason}”")
        if self.today is not None and slot.local.date() < self.today:
            warnings.append(f"scheduled for {slot.local:%Y-%m-%d}, before today ({self.today:%Y-%m-%d})")
        caption, link, hashtags, variables = self.caption(occurrence, channel, language, pid, testimonial)
        for problem in check_caption(platform, caption):
            warnings.append(problem)
            problems.append(problem)
            self.issue("error", moment, f"{pid}: {problem}", channel, language, pid)
        localizations: list[tuple[str, str]] = []
        for other in others or ():
            if testimonial is not None and other not in testimonial.quote:
                missing = f"no `{other}` title and description: {testimonial.id} has no `{other}` quote — add one to carry {other} on this post"
                warnings.append(missing)
                self.issue("warning", moment, f"{pid}: {missing}", channel, other, pid)
                continue
            text = self.caption(occurrence, channel, other, post_id(moment.id, occurrence.year, channel.id, other), testimonial)[0]
            for problem in check_caption(platform, text):
                problem = f"{other}: {problem}"  # the language's own text (its title and description)
                warnings.append(problem)
                problems.append(problem)
                self.issue("error", moment, f"{pid}: {problem}", channel, other, pid)
            localizations.append((other, text))
        media = _media(moment, channel, language, testimonial, variables) if testimonial else None
        if media is not None:
            limit = PLATFORMS[platform].alt_text_limit
            if limit is not None and len(media.alt_text) > limit:
                problem = f"alt text is {len(media.alt_text)} characters, over {platform}'s {limit} — shorten alt_text.{language} of {media.testimonial_id}"
                warnings.append(problem)
                problems.append(problem)
                self.issue("error", moment, f"{pid}: {problem}", channel, language, pid)
        return PlannedPost(
            id=pid,
            moment_id=moment.id,
            occurrence=occurrence.year,
            channel_id=channel.id,
            platform=platform,
            account=channel.account,
            language=language,
            scheduled_at=slot.utc,
            local_time=slot.local,
            caption=caption,
            link=link,
            hashtags=tuple(hashtags),
            media=media,
            needs_approval=channel.approval,
            grace_seconds=int(channel.grace.total_seconds()),
            warnings=tuple(warnings),
            problems=tuple(problems),
            localizations=tuple(localizations),
        )

    def caption(self, occurrence: Occurrence, channel: Channel, language: str, pid: str,
                testimonial: Testimonial | None) -> tuple[str, str | None, list[str], dict[str, Any]]:
        """(caption, link, hashtags, template variables) of the moment on `channel` in `language`;
        `pid` is the post id whose `overrides:` entry replaces the caption."""
        moment, campaign = occurrence.moment, self.calendar.campaign
        platform = channel.platform.value
        own_link = moment.link_in(language)
        link = add_utm(own_link, source=platform, campaign=moment.id, content=language) if own_link else None
        hashtags = moment.hashtags_in(language)
        quote_open, quote_close = quotation_marks(language)
        variables: dict[str, Any] = {
            "speaker": testimonial.name if testimonial else None,
            "country": testimonial.country_in(language) if testimonial else None,
            "quote": testimonial.quote.get(language) if testimonial else None,
            "baseline": campaign.baseline.get(language, campaign.baseline.get("en", next(iter(campaign.baseline.values())))),
            "tagline": campaign.tagline,
            "title": moment.title_in(language),
            "hashtags": hashtags,
            "link": link,
            "quote_open": quote_open,    # CLDR's quotation marks: „…“ in German, «…» in French, 「…」 in Japanese
            "quote_close": quote_close,
            "separator": list_separator(language),  # CLDR's list separator: ", ", "、", "، "
        }
        caption = with_hashtags(self.captions.render(moment.template, language, variables), hashtags)
        override = self.calendar.overrides.get(pid)
        if override is not None:  # a manager's own words for this post (`overrides:` in the calendar)
            caption = override.caption
        display_link = platform_of(platform).display_link
        if display_link is not None and link:
            # The platform shows links short (Bluesky); the link facet built from `post.link` carries the full URL.
            caption = caption.replace(link, display_link(link))
        if language in RIGHT_TO_LEFT:
            # Names, links and hashtags stay whole and in place when the platform lays the text out right to left.
            caption = isolate_ltr_runs(caption)
        return caption, link, hashtags, variables


def _choose(valid: list[Testimonial], language: str, rotation: int) -> Testimonial:
    """Rotate through the usable testimonials, preferring those who speak the post's language."""
    own = [t for t in valid if t.spoken_language == language]
    pool = own or valid
    return pool[rotation % len(pool)]


def _media(moment: Moment, channel: Channel, language: str, testimonial: Testimonial, variables: dict[str, Any]) -> MediaRef:
    kind = media_kind(moment, testimonial)
    variant = variant_for(channel.platform.value, kind, getattr(channel.variants, kind))
    alt = testimonial.alt_text.get(language) or generated_alt_text(
        kind, language, speaker=variables["speaker"], country=variables["country"], baseline=variables["baseline"]
    )
    return MediaRef(
        testimonial_id=testimonial.id,
        kind=kind,
        variant=variant.name,
        language=language,
        path=output_name(testimonial.id, variant.name, language, kind),
        alt_text=alt,
        width=variant.width,
        height=variant.height,
    )


def consent_deadline(until: dt.date, zone: ZoneInfo) -> dt.datetime:
    """The first instant after the last day of consent, midnight in the campaign's zone (UTC)."""
    return resolve_local(until + dt.timedelta(days=1), dt.time(0), zone).utc


def _cannot_fit(pid: str, occurrence: Occurrence, days: list[dt.date], placement: Placement,
                until: dt.date | None = None) -> str:
    reasons = placement.reasons
    if until is not None and days and days[-1] > until:
        days = days[:-1] or days  # the extra day only serves zones behind the campaign's
    span = f"{days[0]:%Y-%m-%d}" if len(days) == 1 else f"{days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}" if days else "no day"
    if reasons and set(reasons) == {"consent"}:
        return (f"{pid}: consent of its testimonials ends {until:%Y-%m-%d} (counted in the campaign's time zone) "
                "before any slot of this channel — move the moment earlier or renew a consent_until")
    if reasons and set(reasons) == {"blackout"}:
        why = "; ".join(sorted({w.reason for w in placement.skipped_blackouts}))
        return f"{pid}: blocked by blackout “{why}” on every slot of {span} — move the moment or narrow the blackout"
    parts = []
    if reasons.get("cap"):
        parts.append(f"{reasons['cap']} slots over the daily cap")
    if reasons.get("spacing"):
        parts.append(f"{reasons['spacing']} too close to other posts (min_spacing)")
    if reasons.get("blackout"):
        parts.append(f"{reasons['blackout']} in a blackout")
    if reasons.get("consent"):
        parts.append(f"{reasons['consent']} after consent ends (counted in the campaign's time zone)")
    detail = ", ".join(parts) or "no slot on those days"
    if days and occurrence.last > days[-1]:
        detail += f"; consent of its testimonials ends {days[-1]:%Y-%m-%d}"
    return (f"{pid}: cannot fit on {span} ({detail}) — add slots, raise daily_cap, lower min_spacing "
            "or widen the moment's dates")
