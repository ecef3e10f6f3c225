"""The results tables: which collections are due, the append-only figures, imported web sessions.

Kept beside the posts in the same database (one source of truth), in tables of their own so
collecting never takes a lock a publish needs for long: each method is one short transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import exists, func, insert, select, update

from scheduler.platforms.figures import NORMALISED, Figures
from scheduler.store import Store, states
from scheduler.store.rows import from_db, to_db
from scheduler.store.schema import collections, figures, posts, web_sessions

#: (label, seconds after publication) — default ages at which figures are collected.
DEFAULT_AGES: tuple[tuple[str, int], ...] = (("1h", 3600), ("24h", 86400), ("7d", 7 * 86400), ("30d", 30 * 86400))
#: posts published this long before the newest one seen are looked at again (clock skew between daemons)
_RESCAN = dt.timedelta(days=1)


def age_label(seconds: float) -> str:
    """3600 -> "1h", 86400 -> "24h", 604800 -> "7d" (whole days from 2 days on)."""
    seconds = int(seconds)
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{max(1, seconds // 60)}m"


def age_seconds(label: str) -> int:
    """The inverse of `age_label`: "1h" -> 3600, "7d" -> 604800, "30m" -> 1800."""
    return int(label[:-1]) * {"m": 60, "h": 3600, "d": 86400}[label[-1]]


def age_tolerance(seconds: float) -> dt.timedelta:
    """How late a figure may be collected and still be its age's figure: 10 minutes, or 5 % of the
    age when that is longer (6 min at 1 h is too tight for a daemon that looks every 5 minutes;
    72 min at 24 h, 8.4 h at 7 days, 36 h at 30 days). Later ones are shown at their real age."""
    return max(dt.timedelta(minutes=10), dt.timedelta(seconds=seconds * 0.05))


@dataclass(frozen=True)
class DueCollection:
    post_id: str
    age: str
    channel_id: str
    platform: str
    remote_id: str
    media_kind: str | None
    tries: int


class ResultsStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine
        self._seen_until: dt.datetime | None = None  # newest published_at already scheduled
        self.more_to_schedule = False  # the last call stopped at its batch size

    # -- scheduling ---------------------------------------------------------------------------

    def schedule_new(self, ages_of: Callable[[str], Sequence[tuple[str, int]]], *, batch: int = 2000) -> int:
        """Add the collection rows of up to `batch` posts published since the last call (oldest first),
        in one short transaction, so a publish waiting for the database never waits long. Returns how
        many rows were added; call again while it returns `batch * ages` rows or more remain."""
        # By publication time only (its index), the state checked here: SQLite would otherwise walk
        # every published post through the state index on each pass.
        query = (select(posts.c.id, posts.c.channel_id, posts.c.published_at, posts.c.state)
                 .where(posts.c.published_at.is_not(None), ~exists().where(collections.c.post_id == posts.c.id))
                 .order_by(posts.c.published_at).limit(batch))
        if self._seen_until is not None:
            query = query.where(posts.c.published_at >= to_db(self._seen_until - _RESCAN))
        with self.engine.begin() as conn:
            newest = from_db(conn.execute(select(func.max(posts.c.published_at))).scalar())  # the index's last entry
            rows = conn.execute(query).all()
            values = []
            for post_id, channel_id, published_db, state in rows:
                if state != states.PUBLISHED:
                    continue
                published = from_db(published_db)
                assert published is not None
                for label, seconds in ages_of(channel_id):
                    due = to_db(published + dt.timedelta(seconds=seconds))
                    values.append({"post_id": post_id, "age": label, "channel_id": channel_id, "due_at": due,
                                   "next_try_at": due, "tries": 0})
            if values:
                conn.execute(insert(collections), values)
        self.more_to_schedule = len(rows) == batch
        # Next time, look only at posts published since (less a margin for daemons whose clocks differ).
        reached = from_db(rows[-1][2]) if self.more_to_schedule else newest
        if reached is not None and (self._seen_until is None or reached > self._seen_until):
            self._seen_until = reached
        return len(values)

    def due(self, now: dt.datetime, *, limit: int = 500) -> list[DueCollection]:
        """Open collections whose time (or retry time) has come, oldest first."""
        query = (select(collections.c.post_id, collections.c.age, collections.c.channel_id, collections.c.tries,
                        posts.c.platform, posts.c.remote_id, posts.c.media)
                 .join(posts, posts.c.id == collections.c.post_id)
                 .where(collections.c.done_at.is_(None), collections.c.next_try_at <= to_db(now))
                 .order_by(collections.c.next_try_at).limit(limit))
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        out = []
        for post_id, age, channel_id, tries, platform, remote_id, media in rows:
            kind = json.loads(media).get("kind") if media else None
            out.append(DueCollection(post_id, age, channel_id, platform, remote_id or "", kind, tries))
        return out

    def scheduled_post_ids(self) -> set[str]:
        """The posts whose collections are already scheduled (the rehearsal's clock waits for the rest)."""
        with self.engine.begin() as conn:
            return set(conn.execute(select(collections.c.post_id).distinct()).scalars())

    def next_due_at(self) -> dt.datetime | None:
        with self.engine.begin() as conn:
            value = conn.execute(select(func.min(collections.c.next_try_at)).where(collections.c.done_at.is_(None))).scalar()
        return from_db(value)

    # -- outcomes -------------------------------------------------------------------------------

    def record(self, item: DueCollection, now: dt.datetime, result: Figures) -> None:
        """Append the figures and close the collection, in one transaction."""
        values = {name: getattr(result, name) for name in NORMALISED}
        with self.engine.begin() as conn:
            conn.execute(insert(figures).values(post_id=item.post_id, age=item.age, collected_at=to_db(now),
                                                platform=item.platform, raw=json.dumps(result.raw, ensure_ascii=False, default=str),
                                                not_given=result.not_given, **values))
            conn.execute(update(collections).where(collections.c.post_id == item.post_id, collections.c.age == item.age)
                         .values(done_at=to_db(now), tries=item.tries + 1, last_error=None))

    def retry_later(self, item: DueCollection, at: dt.datetime, error: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(collections).where(collections.c.post_id == item.post_id, collections.c.age == item.age)
                         .values(next_try_at=to_db(at), tries=item.tries + 1, last_error=error[:2000]))

    # -- reading ----------------------------------------------------------------------------------

    def figure_rows(self, post_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        query = select(figures).order_by(figures.c.id)
        if post_ids is not None:
            query = query.where(figures.c.post_id.in_(list(post_ids)))
        with self.engine.begin() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["collected_at"] = from_db(row["collected_at"])
            row["raw"] = json.loads(row["raw"])
        return rows

    def latest(self, post_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each post's latest collection (the console's figures per post), by post id."""
        ids = list(post_ids)
        if not ids:
            return {}
        newest = (select(figures.c.post_id, func.max(figures.c.id).label("id")).where(figures.c.post_id.in_(ids))
                  .group_by(figures.c.post_id).subquery())
        with self.engine.begin() as conn:
            rows = conn.execute(select(figures).join(newest, figures.c.id == newest.c.id)).mappings().all()
        return {row["post_id"]: dict(row) for row in rows}

    def collection_rows(self) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(select(collections)).mappings()]

    # -- web analytics ----------------------------------------------------------------------------

    def replace_sessions(self, source_file: str, rows: Sequence[tuple[str, str, str, int]], now: dt.datetime) -> int:
        """Store one export's rows, replacing an earlier import of the same file (re-import is idempotent)."""
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.source_file == source_file))
            if rows:
                conn.execute(insert(web_sessions), [
                    {"utm_campaign": c, "utm_source": s, "utm_content": t, "sessions": n, "source_file": source_file,
                     "imported_at": to_db(now)} for c, s, t, n in rows])
        return len(rows)

    def sessions(self) -> list[tuple[str, str, str, int]]:
        with self.engine.begin() as conn:
            return [tuple(r) for r in conn.execute(select(web_sessions.c.utm_campaign, web_sessions.c.utm_source,
                                                          web_sessions.c.utm_content, web_sessions.c.sessions))]
