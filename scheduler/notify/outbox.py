"""The notifications waiting to be sent, in the store: written first, delivered by the notify
job, retried with backoff, each attempt's error kept."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from scheduler.store import Store
from scheduler.store.engine import create_tables
from scheduler.store.rows import from_db, to_db

MEDIA = ("email", "webhook")
#: Tries before a notice is given up (about 8 hours with the backoff below).
MAX_TRIES = 12
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_WAIT = dt.timedelta(hours=1)

metadata = MetaData()

outbox = Table(
    "notify_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), unique=True),  # the sender's: a notice with the same key is queued once
    Column("medium", String(16), nullable=False),  # email | webhook
    Column("target", String(255), nullable=False),  # an address, or a webhook's name in the calendar
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("next_try_at", DateTime, nullable=False),
    Column("tries", Integer, nullable=False, default=0),
    Column("sent_at", DateTime),
    Column("gave_up_at", DateTime),
    Column("last_error", Text),
)

seen = Table(
    "notify_seen",
    metadata,
    # What each recipient was already told about: a post in a state appears in one digest only.
    Column("recipient", String(300), primary_key=True),
    Column("post_id", String(255), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Notice:
    medium: str
    target: str
    subject: str
    text: str
    key: str | None = None

    def __post_init__(self) -> None:
        if self.medium not in MEDIA:
            raise ValueError(f"a notice goes by {' or '.join(MEDIA)}, not {self.medium!r}")


def backoff(tries: int) -> dt.timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, tries - 1)), LONGEST_WAIT)


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store
        create_tables(store.engine, metadata)

    def enqueue(self, notice: Notice, now: dt.datetime, *, seen_posts: list[tuple[str, str, str]] = ()) -> bool:
        """Queue `notice` (False: one with its key was queued before). `seen_posts`
        (recipient, post, state) are recorded in the same transaction: told once, never twice."""
        try:
            with self.store.engine.begin() as conn:
                conn.execute(insert(outbox).values(key=notice.key, medium=notice.medium, target=notice.target,
                                                   subject=notice.subject, body=notice.text, created_at=to_db(now),
                                                   next_try_at=to_db(now), tries=0))
                if seen_posts:
                    conn.execute(insert(seen), [dict(recipient=r, post_id=p, state=s, at=to_db(now)) for r, p, s in seen_posts])
        except IntegrityError:
            return False
        return True

    def to_audience(self, settings: Any, audience: str, subject: str, text: str, *, now: dt.datetime,
                    key: str | None = None, channel: str | None = None) -> int:
        """Queue one notice for each recipient of the calendar's `notifications` who gets
        `audience` ("failures", or "approvals" of `channel`); how many were queued."""
        count = 0
        for recipient in getattr(settings, "recipients", []) or []:
            if audience == "failures" and not recipient.failures:
                continue
            if audience == "approvals" and not (recipient.approves == "all" or channel in recipient.approves):
                continue
            medium, target = ("email", recipient.email) if recipient.email else ("webhook", recipient.webhook)
            count += self.enqueue(Notice(medium, target, subject, text, f"{key}:{recipient.key}" if key else None), now)
        return count

    def already_seen(self, recipient: str) -> set[tuple[str, str]]:
        with self.store.engine.begin() as conn:
            return {(p, s) for p, s in conn.execute(select(seen.c.post_id, seen.c.state).where(seen.c.recipient == recipient))}

    def last_digest(self, medium: str, target: str) -> dt.datetime | None:
        with self.store.engine.begin() as conn:
            found = conn.execute(select(func.max(outbox.c.created_at)).where(
                outbox.c.medium == medium, outbox.c.target == target, outbox.c.key.like("digest:%"))).scalar()
        return from_db(found)

    def due(self, now: dt.datetime, limit: int = 20) -> list[dict[str, Any]]:
        with self.store.engine.begin() as conn:
            rows = conn.execute(select(outbox).where(outbox.c.sent_at.is_(None), outbox.c.gave_up_at.is_(None),
                                                     outbox.c.next_try_at <= to_db(now))
                                .order_by(outbox.c.id).limit(limit)).mappings().all()
        return [dict(r) for r in rows]

    def mark_sent(self, notice_id: int, now: dt.datetime) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == notice_id).values(
                sent_at=to_db(now), tries=outbox.c.tries + 1, last_error=None))

    def mark_failed(self, notice_id: int, now: dt.datetime, error: str) -> tuple[int, dt.datetime | None]:
        """Record a failed try: (tries so far, when the next one is; None: given up)."""
        with self.store.engine.begin() as conn:
            tries = conn.execute(select(outbox.c.tries).where(outbox.c.id == notice_id)).scalar_one() + 1
            retry = now + backoff(tries) if tries < MAX_TRIES else None
            conn.execute(update(outbox).where(outbox.c.id == notice_id).values(
                tries=tries, last_error=error[:2000], next_try_at=to_db(retry or now),
                gave_up_at=None if retry else to_db(now)))
        return tries, retry

    def rows(self) -> list[dict[str, Any]]:
        with self.store.engine.begin() as conn:
            return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]
