"""Render progress in the store: where each output file stands, for the console and `status`.

One row per output file (`render_progress`): queued, rendering (with percent), done, or
refused (with the reason a person can act on). Local renders, the daemon's inbox job and
queue workers on other machines all write here through `StoreRenderListener`; the console
reads it with `render_progress()` and `render_counts()`. Every write is one short
transaction keyed by the output, so any number of workers can report at once.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlalchemy import Connection, func, insert, select, update

from assets.needs import RenderJob
from assets.progress import DONE, QUEUED, REFUSED, RENDERING
from scheduler.store.rows import from_db, to_db
from scheduler.store.schema import render_progress as table
from scheduler.store.store import Store

UTC = dt.timezone.utc


@dataclass(frozen=True)
class RenderProgress:
    """One output file's render, as the console shows it."""

    output: str
    state: str  # queued, rendering, done, refused
    percent: int
    testimonial_id: str | None = None
    source: str | None = None
    variant: str | None = None
    language: str | None = None
    kind: str | None = None
    reason: str | None = None  # why it was refused
    worker: str | None = None  # host:pid that rendered (or renders) it
    tries: int = 0
    queued_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


def render_progress(store: Store, *, states: Iterable[str] | None = None, testimonial: str | None = None,
                    outputs: Iterable[str] | None = None) -> list[RenderProgress]:
    """Every recorded render (optionally only these states, this testimonial, these outputs), by output path."""
    query = select(table).order_by(table.c.output)
    if states is not None:
        query = query.where(table.c.state.in_(list(states)))
    if testimonial is not None:
        query = query.where(table.c.testimonial_id == testimonial)
    if outputs is not None:
        query = query.where(table.c.output.in_(list(outputs)))
    with store.engine.begin() as conn:
        rows = conn.execute(query).mappings().all()
    return [RenderProgress(**{**row, **{k: from_db(row[k]) for k in ("queued_at", "started_at", "finished_at", "updated_at")}})
            for row in rows]


def render_counts(store: Store) -> dict[str, int]:
    """How many outputs are in each state (states with none are left out)."""
    with store.engine.begin() as conn:
        return {state: n for state, n in conn.execute(select(table.c.state, func.count()).group_by(table.c.state))}


def record_queued(store: Store, jobs: Sequence[RenderJob], now: dt.datetime) -> None:
    """These outputs wait for a render (on the queue or in this process): percent 0, no reason."""
    stamp = to_db(now)
    with store.engine.begin() as conn:
        for job in jobs:
            _upsert(conn, job, stamp, state=QUEUED, percent=0, reason=None, queued_at=stamp, started_at=None,
                    finished_at=None)


def record_rendering(store: Store, job: RenderJob, percent: int, now: dt.datetime, worker: str | None = None) -> None:
    """A render of `job` runs (percent 0 when it starts: that counts a try) in `worker` (default: this process)."""
    stamp = to_db(now)
    percent = max(0, min(99, int(percent)))  # 100 only once the file is in place (record_done)
    with store.engine.begin() as conn:
        row = conn.execute(select(table.c.state, table.c.tries, table.c.worker).where(table.c.output == job.output)).first()
        worker = worker or this_worker()
        starting = row is None or row.state != RENDERING or row.worker != worker
        values = dict(state=RENDERING, percent=percent, reason=None, worker=worker)
        if starting:
            values.update(tries=(row.tries if row else 0) + 1, started_at=stamp, finished_at=None)
        _upsert(conn, job, stamp, **values)


def record_done(store: Store, job: RenderJob, now: dt.datetime, worker: str | None = None) -> None:
    stamp = to_db(now)
    with store.engine.begin() as conn:
        _upsert(conn, job, stamp, state=DONE, percent=100, reason=None, finished_at=stamp, worker=worker or this_worker())


def record_refused(store: Store, job: RenderJob, reason: str, now: dt.datetime, worker: str | None = None) -> None:
    stamp = to_db(now)
    with store.engine.begin() as conn:
        _upsert(conn, job, stamp, state=REFUSED, percent=0, reason=reason, finished_at=stamp, worker=worker or this_worker())


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _upsert(conn: Connection, job: RenderJob, stamp: dt.datetime | None, **values: object) -> None:
    described = dict(testimonial_id=job.testimonial_id, source=job.source, variant=job.variant.name,
                     language=job.language, kind=job.kind, updated_at=stamp)
    if conn.execute(update(table).where(table.c.output == job.output).values(**described, **values)).rowcount == 0:
        conn.execute(insert(table).values(output=job.output, **described, **{"tries": 0, **values}))


class StoreRenderListener:
    """An `assets.progress.RenderListener` that records in the store (the console reads it).

    Percent updates are written at most every `min_interval` seconds per output (and whenever a
    render starts), so a fast ffmpeg progress stream does not become thousands of transactions.
    A store that fails while rendering never fails the render: the next write tries again.
    """

    def __init__(self, store: Store, now: Callable[[], dt.datetime] | None = None, *, min_interval: float = 1.0,
                 worker: str | None = None, on_error: Callable[[Exception], None] | None = None) -> None:
        self.store = store
        self.now = now or (lambda: dt.datetime.now(UTC))
        self.min_interval = min_interval
        self.worker = worker
        self.on_error = on_error
        self._last: dict[str, float] = {}

    def queued(self, jobs: Sequence[RenderJob]) -> None:
        if jobs:
            self._safely(record_queued, self.store, list(jobs), self.now())

    def rendering(self, job: RenderJob, percent: int) -> None:
        moment = time.monotonic()
        last = self._last.get(job.output)
        if percent > 0 and last is not None and moment - last < self.min_interval:
            return
        self._last[job.output] = moment
        self._safely(record_rendering, self.store, job, percent, self.now(), self.worker)

    def done(self, job: RenderJob) -> None:
        self._last.pop(job.output, None)
        self._safely(record_done, self.store, job, self.now(), self.worker)

    def refused(self, job: RenderJob, reason: str) -> None:
        self._last.pop(job.output, None)
        self._safely(record_refused, self.store, job, reason, self.now(), self.worker)

    def _safely(self, write: Callable[..., None], *args: object) -> None:
        try:
            write(*args)
        except Exception as error:  # noqa: BLE001 - progress is a view; the render and its manifest are the truth
            if self.on_error is not None:
                self.on_error(error)
