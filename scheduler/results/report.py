"""Turn stored figures into the campaign's results: per post (its latest collection), grouped by
moment, pillar, channel, platform, language, testimonial or country, with web sessions joined in.

Pure functions over plain rows: the CLI, the HTML page and the console all read the same `Results`.
A figure a platform does not give is `None` all the way through: a group whose posts gave none of
it reports "not given", never 0.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from campaign.calendar.models import Calendar
from scheduler.platforms.figures import NORMALISED
from scheduler.results.store import ResultsStore, age_seconds, age_tolerance
from scheduler.store import Store, states

DIMENSIONS = ("moment", "pillar", "channel", "platform", "language", "testimonial", "country")
COLUMNS = NORMALISED + ("sessions",)


@dataclass
class PostResult:
    post_id: str
    moment: str
    pillar: str
    channel: str
    platform: str
    language: str
    testimonial: str
    country: str
    published_at: dt.datetime | None
    url: str | None
    caption: str
    media_path: str | None
    age: str | None  # the age of the latest collection ("24h"), None when none yet
    collected_at: dt.datetime | None
    figures: dict[str, int | None] = field(default_factory=lambda: {name: None for name in COLUMNS})
    not_given: str | None = None

    def key(self, dimension: str) -> str:
        return str(getattr(self, dimension))

    @property
    def audience(self) -> int | None:
        """Reach where the platform gives it, else impressions: what the charts call "reached"."""
        return self.figures["reach"] if self.figures["reach"] is not None else self.figures["impressions"]


@dataclass
class Group:
    key: str
    posts: int
    totals: dict[str, int | None]  # None: no post of the group gave this figure (or none was collected yet)
    given_by: dict[str, int]  # how many posts gave each figure
    collected: int = 0  # posts with at least one collection: 0 means "not collected yet", not "not given"


@dataclass
class Results:
    posts: list[PostResult]
    #: every stored collection, oldest first: post_id, age (its label), published_at, collected_at,
    #: real_age (seconds after publication: what charts plot, never the collection date) and the figures
    series: list[dict[str, Any]]
    notes: list[str]
    sessions_imported: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """The figures to show: web sessions only once an analytics export was imported."""
        return COLUMNS if self.sessions_imported else NORMALISED

    def group(self, dimension: str) -> list[Group]:
        if dimension not in DIMENSIONS:
            raise ValueError(f"cannot group by {dimension!r}; choose one of {', '.join(DIMENSIONS)}")
        buckets: dict[str, list[PostResult]] = defaultdict(list)
        for post in self.posts:
            buckets[post.key(dimension)].append(post)
        return sorted((_group(key, members) for key, members in buckets.items()),
                      key=lambda g: (-(g.totals.get("reach") or g.totals.get("impressions") or 0), g.key))

    def totals(self) -> Group:
        return _group("all", self.posts)


def _group(key: str, members: Sequence[PostResult]) -> Group:
    totals: dict[str, int | None] = {}
    given: dict[str, int] = {}
    for name in COLUMNS:
        values = [p.figures[name] for p in members if p.figures[name] is not None]
        given[name] = len(values)
        totals[name] = sum(values) if values else None  # type: ignore[arg-type]
    return Group(key, len(members), totals, given, collected=sum(p.age is not None for p in members))


def build_results(store: Store, calendar: Calendar | None, *, start: dt.date | None = None, end: dt.date | None = None) -> Results:
    """The results of every published post (published between `start` and `end`, inclusive)."""
    results_store = ResultsStore(store)
    posts = [p for p in store.all_posts(state=states.PUBLISHED) if _within(p.published_at, start, end)]
    wanted = {p.id for p in posts}
    rows = [r for r in results_store.figure_rows() if r["post_id"] in wanted]
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:  # oldest first: the last one seen is the latest
        latest[row["post_id"]] = row
    moments = {m.id: m for m in calendar.moments} if calendar else {}
    channels = {c.id: c for c in calendar.channels} if calendar else {}
    testimonials = {t.id: t for t in calendar.testimonials} if calendar else {}
    out: list[PostResult] = []
    notes: dict[str, str] = {}
    for post in posts:
        media = post.media
        testimonial_id = media.testimonial_id if media else "-"
        moment = moments.get(post.moment_id)
        channel = channels.get(post.channel_id)
        testimonial = testimonials.get(testimonial_id)
        row = latest.get(post.id)
        result = PostResult(
            post_id=post.id, moment=post.moment_id, pillar=moment.pillar if moment else "-", channel=post.channel_id,
            platform=post.platform, language=post.language,
            testimonial=testimonial.name if testimonial else testimonial_id,
            country=(channel.country if channel and channel.country else "-"), published_at=post.published_at,
            url=post.remote_url, caption=post.caption, media_path=media.path if media else None,
            age=row["age"] if row else None, collected_at=row["collected_at"] if row else None)
        if row:
            for name in NORMALISED:
                result.figures[name] = row[name]
            result.not_given = row["not_given"]
            if row["not_given"]:
                notes.setdefault(f"{post.platform}:{post.channel_id}", f"{post.channel_id} ({post.platform}): {row['not_given']}")
        out.append(result)
    sessions = results_store.sessions()
    _join_sessions(out, sessions)
    if not sessions:
        notes["-sessions"] = ("no web analytics imported: `python run.py results-import EXPORT.csv` adds the sessions "
                              "each post's tagged link brought to the site")
    missing = [p for p in out if p.age is None]
    if missing:
        notes["-uncollected"] = (f"{len(missing)} of {len(out)} published posts not collected yet (the first "
                                 "collection is at the first age after publication, 1 h unless the calendar says)")
    collected = [p for p in out if p.age is not None and not p.not_given]
    for name in NORMALISED:  # only what was asked: a post not collected yet says nothing about its platform
        if collected and all(p.figures[name] is None for p in collected):
            whose = "these posts" if not missing else f"the {len(collected)} posts collected so far"
            notes.setdefault(f"-{name}", f"no platform of {whose} gives {name.replace('_', ' ')}")
    published_at = {p.post_id: p.published_at for p in out}
    series = []
    late = []
    for r in rows:
        real_age = (r["collected_at"] - published_at[r["post_id"]]).total_seconds()
        series.append({"post_id": r["post_id"], "age": r["age"], "published_at": published_at[r["post_id"]],
                       "collected_at": r["collected_at"], "real_age": real_age, **{n: r[n] for n in NORMALISED}})
        if real_age - age_seconds(r["age"]) > age_tolerance(age_seconds(r["age"])).total_seconds():
            late.append(real_age - age_seconds(r["age"]))
    if late:
        notes["-late"] = (f"{len(late)} figures were collected later than their age allows (up to "
                          f"{_span(max(late))} late: the daemon was not running then); the charts show them at their real age")
    return Results(out, series, sorted(notes.values()), sessions_imported=bool(sessions))


def _span(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days" if seconds >= 2 * 86400 else f"{seconds / 3600:.1f} h"


def _within(moment: dt.datetime | None, start: dt.date | None, end: dt.date | None) -> bool:
    if moment is None:
        return False
    day = moment.date()
    return (start is None or day >= start) and (end is None or day <= end)


def _join_sessions(posts: Iterable[PostResult], sessions: Sequence[tuple[str, str, str, int]]) -> None:
    """Web sessions arrive per (utm_campaign = moment, utm_source = platform, utm_content = language);
    several posts can share those tags (two X accounts in English): their sessions are split evenly."""
    by_tags: dict[tuple[str, str, str], list[PostResult]] = defaultdict(list)
    for post in posts:
        by_tags[(post.moment, post.platform, post.language)].append(post)
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for campaign, source, content, count in sessions:
        totals[(campaign, source, content)] += count
    for tags, count in totals.items():
        members = by_tags.get(tags, [])
        for index, post in enumerate(members):
            share = count // len(members) + (1 if index < count % len(members) else 0)
            post.figures["sessions"] = (post.figures["sessions"] or 0) + share
