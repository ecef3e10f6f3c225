"""What each console page shows, read from the store and the calendar: plain data, no HTTP.

The page handlers in `console.app` pass these to the templates; the counts and the "needs a
person" lists come from `scheduler.store.status.build_status`, the same report `status` prints.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from campaign.calendar.models import Calendar
from scheduler.plan.preview import Card, make_card
from scheduler.platforms.base import AuthError
from scheduler.platforms.registry import credentials_for
from scheduler.store import Store, states
from scheduler.store.reads import PostFilter, find_posts
from scheduler.store.rows import StoredPost, from_db, planned_from_row, to_db
from scheduler.store.schema import audit, posts

#: More than this many posts on one page: the page asks for a narrower filter.
PAGE_LIMIT = 200
FILTERS = ("channel", "language", "moment", "pillar", "state", "needs")
#: What a person is asked to act on ("needs you" in the navigation).
NEEDS_YOU = (states.PLANNED, states.HELD, states.FAILED, states.UNKNOWN)
STATE_LABELS = {
    states.PLANNED: "waits for approval", states.DUE: "scheduled", states.APPROVED: "approved",
    states.PUBLISHING: "publishing", states.PUBLISHED: "published", states.RETRY_WAIT: "retrying",
    states.FAILED: "failed", states.MISSED: "missed", states.CANCELLED: "cancelled",
    states.UNKNOWN: "unknown, check", states.SENT_BACK: "sent back",
    states.PROCESSING: "processing on the platform",
}


@dataclass
class PostView:
    """One stored post: its card (the preview's), its state and what the store knows about it."""

    card: Card
    stored: StoredPost
    pillar: str | None

    @property
    def id(self) -> str:
        return self.stored.id

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.stored.state, self.stored.state)


@dataclass
class WeekView:
    label: str
    posts: list[PostView] = field(default_factory=list)
    key: str = ""  # ISO year and week, e.g. 2027-W19 (what "this week" selects)


def zones(calendar: Calendar | None) -> dict[str, str]:
    return {c.id: c.timezone for c in calendar.channels} if calendar else {}


def channels_of(calendar: Calendar | None) -> dict[str, Any]:
    return {c.id: c for c in calendar.channels} if calendar else {}


def pillars(calendar: Calendar | None) -> dict[str, str]:
    return {m.id: getattr(m.pillar, "value", str(m.pillar)) for m in calendar.moments} if calendar else {}


def post_filter(filters: dict[str, str], calendar: Calendar | None, scope: tuple[str, ...] | None = None) -> PostFilter:
    """The page's filters as the store's query (`needs`: what needs this person, on `scope`'s channels)."""
    needs = bool(filters.get("needs"))
    moment: Any = filters.get("moment") or None
    if filters.get("pillar"):
        in_pillar = [m for m, p in pillars(calendar).items() if p == filters["pillar"]]
        moment = [m for m in in_pillar if m == moment] if moment else in_pillar
    channel: Any = filters.get("channel") or None
    if needs and scope is not None:
        channel = [c for c in scope if c == channel] if channel else list(scope)
    return PostFilter(state=NEEDS_YOU if needs and not filters.get("state") else (filters.get("state") or None),
                      channel=channel, moment=moment, language=filters.get("language") or None)


def post_views(store: Store, calendar: Calendar | None, build: Path, filters: dict[str, str],
               thumb_url: Any, *, limit: int = PAGE_LIMIT, scope: tuple[str, ...] | None = None) -> tuple[list[PostView], int]:
    """The posts matching `filters` in time order (at most `limit`) and how many matched."""
    rows, total = find_posts(store, post_filter(filters, calendar, scope), limit=limit)
    channels, pillar_of = channels_of(calendar), pillars(calendar)
    return [view_of(row, channels, pillar_of, build, thumb_url) for row in rows], total


def view_of(row: Any, channels: dict[str, Any], pillar_of: dict[str, str], build: Path, thumb_url: Any) -> PostView:
    channel = channels.get(row["channel_id"])
    planned = planned_from_row(row, channel.timezone if channel else None)
    rendered = planned.media is not None and (build / planned.media.path).is_file()
    card = make_card(planned, thumbnail=thumb_url(planned.id) if rendered else None, rendered=rendered, channel=channel)
    return PostView(card, StoredPost.from_row(row), pillar_of.get(row["moment_id"]))


def one_post(store: Store, calendar: Calendar | None, build: Path, post_id: str, thumb_url: Any) -> PostView | None:
    with store.reads.begin() as conn:
        row = conn.execute(select(posts).where(posts.c.id == post_id)).mappings().first()
    return view_of(row, channels_of(calendar), pillars(calendar), build, thumb_url) if row else None


def needs_you(store: Store, me: Any) -> int:
    """The navigation's count: posts waiting for this person's approval, held, failed and
    "unknown, check", on the channels the person acts for (0 for those who only see)."""
    if not me.can("approver"):
        return 0
    query = select(func.count()).select_from(posts).where(posts.c.state.in_(NEEDS_YOU))  # the state index: no scan
    if me.scope is not None:
        query = query.where(posts.c.channel_id.in_(list(me.scope)))
    with store.reads.begin() as conn:
        return conn.execute(query).scalar_one()


def by_week(views: list[PostView], zone: str) -> list[WeekView]:
    """Posts grouped by ISO week of the campaign's time zone (as the preview groups them)."""
    tz = ZoneInfo(zone)
    weeks: dict[tuple[int, int], WeekView] = {}
    for view in views:
        day = view.stored.scheduled_at.astimezone(tz).date()
        year, number, weekday = day.isocalendar()
        if (year, number) not in weeks:
            monday = day - dt.timedelta(days=weekday - 1)
            sunday = monday + dt.timedelta(days=6)
            weeks[(year, number)] = WeekView(f"Week {number} · {monday:%-d %b} – {sunday:%-d %b %Y}",
                                             key=f"{year}-W{number:02d}")
        weeks[(year, number)].posts.append(view)
    return [weeks[k] for k in sorted(weeks)]


#: The filters' channels, languages and moments per store, with its number of posts: a post's
#: channel, language and moment never change (its id is made of them) and no post is deleted, so
#: only a new post changes them. Three DISTINCTs over 10,000 posts took a fifth of the calendar page.
_CHOICES: "weakref.WeakKeyDictionary[Any, tuple[int, dict[str, list[str]]]]" = weakref.WeakKeyDictionary()


def filter_choices(store: Store, calendar: Calendar | None) -> dict[str, list[str]]:
    with store.reads.begin() as conn:
        count = conn.execute(select(func.count()).select_from(posts)).scalar_one()
        known = _CHOICES.get(store.engine)
        if known is None or known[0] != count:
            known = (count, {key: sorted(v for v in conn.execute(select(col).distinct()).scalars() if v)
                             for key, col in (("channel", posts.c.channel_id), ("language", posts.c.language),
                                              ("moment", posts.c.moment_id))})
            _CHOICES[store.engine] = known
    distinct = {key: list(values) for key, values in known[1].items()}
    distinct["pillar"] = sorted(set(pillars(calendar).values()))
    distinct["state"] = [s for s in states.ALL]
    return distinct


def waiting_for(store: Store, calendar: Calendar | None, filters: dict[str, str], me: Any) -> int:
    """How many of the posts the filters show wait for this person's approval ("all N waiting for you")."""
    if not me.can("approver"):
        return 0
    query = post_filter({**filters, "state": states.PLANNED, "needs": ""}, calendar)
    if me.scope is not None:
        wanted = set(me.scope) & ({query.channel} if isinstance(query.channel, str) else set(me.scope))
        query = replace(query, channel=sorted(wanted))
    return find_posts(store, query, limit=0)[1]


def week_bounds(key: str, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00 of ISO week `key` (2027-W19) in `zone`; ValueError if malformed."""
    year, number = key.split("-W")
    monday = dt.date.fromisocalendar(int(year), int(number), 1)
    start = dt.datetime.combine(monday, dt.time(), tzinfo=ZoneInfo(zone))
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), tzinfo=ZoneInfo(zone))


def watermark(store: Store) -> dt.datetime:
    """The latest change the store records (written by the daemon's clock, not the console's)."""
    with store.reads.begin() as conn:
        latest = conn.execute(select(func.max(posts.c.updated_at))).scalar()
    return from_db(latest) or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)  # type: ignore[return-value]


def live_mark(store: Store) -> str:
    """The live poll's starting point for a page: `changed_since`'s watermark as one value."""
    newest = watermark(store)
    return mark(newest, _at_instant(store, newest))


def mark(newest: dt.datetime, seen: dict[str, int] | None) -> str:
    """The watermark and how many posts changed in that very instant, per state (`_at_instant`)."""
    return f"{newest.isoformat()}/" + ".".join(f"{state}-{count}" for state, count in sorted((seen or {}).items()))


def read_mark(value: str) -> tuple[dt.datetime, dict[str, int]]:
    """(instant, posts per state seen at it) from `mark`'s value, or from a bare date and time
    (none seen). ValueError or OverflowError for anything else."""
    when, _, seen = value.replace(" ", "+").partition("/")
    since = dt.datetime.fromisoformat(when)
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.timezone.utc)
    counts = {state: int(count) for state, _, count in (part.rpartition("-") for part in seen.split(".") if part)}
    if len(counts) > 40 or not all(0 <= n < 10**9 and s in states.ALL for s, n in counts.items()):
        raise ValueError("not a mark")
    return since.astimezone(dt.timezone.utc), counts  # 9999-12-31T23:59:59-14:00 overflows here


def _at_instant(store: Store, when: dt.datetime) -> dict[str, int]:
    """How many posts per state changed at `when`."""
    with store.reads.begin() as conn:
        return dict(conn.execute(select(posts.c.state, func.count()).where(posts.c.updated_at == to_db(when))
                                 .group_by(posts.c.state)).all())  # type: ignore[arg-type]


def changed_since(store: Store, since: dt.datetime, seen: dict[str, int] | None = None,
                  limit: int = 500) -> tuple[list[StoredPost], str]:
    """Posts changed after `since`, and those changed at `since` itself unless the page has
    seen them (`seen`, from `mark`): a post changed again within that instant has a new state,
    whose count grows, so it is not lost; and a store whose 10,000 posts were scheduled in one
    instant is not sent again on every poll. Returns the posts and the next `mark`."""
    seen = seen or {}
    since_db = to_db(since)
    grown = any(count > seen.get(state, 0) for state, count in _at_instant(store, since).items())
    newer = posts.c.updated_at >= since_db if grown else posts.c.updated_at > since_db
    with store.reads.begin() as conn:
        rows = conn.execute(select(posts).where(newer).order_by(posts.c.updated_at, posts.c.id)
                            .limit(limit)).mappings().all()
    if not rows:
        return [], mark(since, seen)
    newest = max(from_db(r["updated_at"]) for r in rows)  # type: ignore[type-var]
    # cut short by the limit: the next poll sends the newest instant again rather than lose some of it
    return [StoredPost.from_row(r) for r in rows], mark(newest, None if len(rows) == limit else _at_instant(store, newest))


def history(store: Store, post_id: str) -> list[dict[str, Any]]:
    """The post's audit rows and attempts, oldest first, as one list."""
    entries = [{"at": from_db(r["at"]), "who": r["actor"], "what": r["action"], "detail": r["detail"]}
               for r in store.audit_rows(post_id)]
    for a in store.attempt_rows(post_id):
        entries.append({"at": from_db(a["started_at"]), "who": a["worker"], "what": f"attempt: {a['outcome'] or 'in flight'}",
                        "detail": a["message"] or (f"remote id {a['remote_id']}" if a["remote_id"] else None)})
    return sorted(entries, key=lambda e: e["at"])


def published(store: Store, calendar: Calendar | None, limit: int = 500) -> list[StoredPost]:
    with store.reads.begin() as conn:
        rows = conn.execute(select(posts).where(posts.c.state == states.PUBLISHED)
                            .order_by(posts.c.published_at.desc()).limit(limit)).mappings().all()
    return [StoredPost.from_row(r) for r in rows]


def heartbeat(store: Store, now: dt.datetime, stale_after: dt.timedelta = dt.timedelta(minutes=3)) -> dict[str, Any]:
    """Is a daemon alive (a beat within `stale_after`), its last pass, and the next post due."""
    beats = store.heartbeats()
    last = beats[0] if beats else None
    nxt = store.next_due_at()
    return {"alive": bool(last and abs(now - last["at"]) <= stale_after), "last": last, "next_due": nxt,
            "age": (now - last["at"]) if last else None}


def channel_checks(calendar: Calendar | None) -> list[dict[str, str]]:
    """Per channel, what can be checked without a network call: are its credentials there (never
    their values), which API host and version it uses."""
    if calendar is None:
        return []

    found = []
    for channel in calendar.channels:
        platform = getattr(channel.platform, "value", str(channel.platform))
        try:
            creds = credentials_for(channel.id, platform)
            credentials, ok = f"present ({creds.source})", "ok"
        except AuthError as error:
            credentials, ok = str(error), "missing"
        api = getattr(channel, "api", None)
        version = getattr(api, "version", None) if api else None
        base_url = getattr(api, "base_url", None) if api else None
        found.append({"channel": channel.id, "platform": platform, "account": channel.account, "ok": ok,
                      "credentials": credentials, "api": " · ".join(str(x) for x in (base_url, version) if x) or "default"})
    return found


#: Audit actions that form a post's thread of comments (a send-back is a comment that also holds the post).
THREAD_ACTIONS = ("comment", "send-back")


@dataclass(frozen=True)
class Comment:
    at: dt.datetime
    who: str
    text: str
    sent_back: bool


def threads(store: Store, post_ids: list[str]) -> dict[str, list[Comment]]:
    """Each post's comments, oldest first (one query for a page of cards)."""
    found: dict[str, list[Comment]] = {}
    if not post_ids:
        return found
    with store.reads.begin() as conn:
        rows = conn.execute(select(audit.c.target, audit.c.at, audit.c.actor, audit.c.action, audit.c.detail)
                            .where(audit.c.target.in_(post_ids), audit.c.action.in_(THREAD_ACTIONS))
                            .order_by(audit.c.id)).all()
    for target, at, actor, action, detail in rows:
        found.setdefault(target, []).append(Comment(from_db(at), actor, detail or "", action == "send-back"))  # type: ignore[arg-type]
    return found
