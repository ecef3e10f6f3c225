"""Posts as the console and the API ask for them: filtered, counted, a page at a time.

One query builder for both, so a filter means the same in the calendar page and in
`GET /api/v1/posts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from scheduler.store.rows import to_db
from scheduler.store.schema import posts
from scheduler.store.store import Store


@dataclass(frozen=True)
class PostFilter:
    """Every field narrows; None (or empty) leaves it open. `start` inclusive, `end` exclusive."""

    state: str | Collection[str] | None = None
    channel: str | Collection[str] | None = None
    moment: str | Collection[str] | None = None
    language: str | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    ids: Collection[str] | None = None


def _narrow(query: Select[Any], column: Any, value: str | Collection[str] | None) -> Select[Any]:
    if value is None or value == "":
        return query
    if isinstance(value, str):
        return query.where(column == value)
    return query.where(column.in_(list(value)))


def post_query(found: PostFilter) -> Select[Any]:
    query = select(posts).order_by(posts.c.scheduled_at, posts.c.id)
    query = _narrow(query, posts.c.state, found.state)
    query = _narrow(query, posts.c.channel_id, found.channel)
    query = _narrow(query, posts.c.moment_id, found.moment)
    query = _narrow(query, posts.c.language, found.language)
    if found.ids is not None:
        query = query.where(posts.c.id.in_(list(found.ids)))
    if found.start is not None:
        query = query.where(posts.c.scheduled_at >= to_db(found.start))
    if found.end is not None:
        query = query.where(posts.c.scheduled_at < to_db(found.end))
    return query


def find_posts(store: Store, found: PostFilter, *, limit: int | None = None, offset: int = 0) -> tuple[list[Any], int]:
    """The matching `posts` rows in time order (a page of them) and how many matched in all."""
    query = post_query(found)
    with store.reads.begin() as conn:
        total = conn.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
        page = query.offset(offset) if offset else query
        rows = conn.execute(page.limit(limit) if limit is not None else page).mappings().all()
    return list(rows), total
