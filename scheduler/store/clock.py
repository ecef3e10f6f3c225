"""One clock per store (issue 23): a daemon on the campaign clock writes where its clock stands
into the store, and every reader of that store (status, results, the console and its API, the
audit trail) computes its time from there, never from its own environment. So a rehearsal's
store reads 2027 in every view, and its audit trail is in one year.

A daemon on the real clock removes the row: the store lives on the real clock again. A daemon
that stops leaves its clock stopped where it was (nothing moves a rehearsal's time any more).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import delete, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from campaign.clock import UTC, Clock, ClockAnchor, SystemClock, anchor_of, describe_clock
from scheduler.store.rows import from_db, to_db
from scheduler.store.schema import store_clock
from scheduler.store.store import Store

#: How far (in real seconds) a daemon's clock may drift from what its row says before the row is
#: rewritten: a rehearsal's leaps and holds move its clock; readers follow within this much.
DRIFT_REAL_SECONDS = 0.5
#: How often a running daemon reads the row back: another daemon of the store that stopped left
#: its clock stopped there, while this one still moves it.
RECHECK_REAL_SECONDS = 30.0


def read_anchor(store: Store) -> ClockAnchor | None:
    """Where the store's campaign clock stands; None: the store lives on the real clock."""
    try:
        with store.reads.begin() as conn:
            row = conn.execute(select(store_clock).where(store_clock.c.id == 1)).mappings().first()
    except SQLAlchemyError:
        if _has_table(store):
            raise
        return None  # a store opened without creating tables, from before this table existed
    if row is None:
        return None
    return ClockAnchor(from_db(row["campaign_at"]), from_db(row["real_at"]), float(row["speed"]),  # type: ignore[arg-type]
                       row["purpose"])


def _has_table(store: Store) -> bool:
    return inspect(store.engine).has_table(store_clock.name, schema=store_clock.schema)


def write_anchor(store: Store, anchor: ClockAnchor | None, worker: str) -> None:
    """Put the store on `anchor` (None: on the real clock)."""
    with store.engine.begin() as conn:
        conn.execute(delete(store_clock))
        if anchor is not None:
            conn.execute(insert(store_clock).values(id=1, campaign_at=to_db(anchor.campaign), real_at=to_db(anchor.real),
                                                    speed=anchor.speed, purpose=anchor.purpose, set_by=worker))


class StoreClock:
    """The clock of a store: its campaign clock when a daemon put it on one, else `fallback` (the
    real clock, or a test's). The row is read again after `refresh` real seconds (a console
    outlives daemons; a command reads it once)."""

    def __init__(self, store: Store, fallback: Clock | None = None, *, refresh: float = 2.0) -> None:
        self.store = store
        self.fallback = fallback or SystemClock()
        self.refresh = refresh
        self._anchor: ClockAnchor | None = None
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def anchor(self) -> ClockAnchor | None:
        with self._lock:
            if self._read_at is None or time.monotonic() - self._read_at >= self.refresh:
                self._anchor = read_anchor(self.store)
                self._read_at = time.monotonic()
            return self._anchor

    def now(self) -> dt.datetime:
        anchor = self.anchor()
        return anchor.now() if anchor is not None else self.fallback.now()

    @property
    def speed(self) -> float:
        anchor = self.anchor()
        if anchor is not None and anchor.speed > 0:
            return anchor.speed
        return float(getattr(self.fallback, "speed", 1.0))

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)

    def describe(self) -> str:
        """"campaign clock: 2027-03-14 09:00 UTC (x3600, rehearsal)" or "real clock: ..."."""
        anchor = self.anchor()
        if anchor is None and anchor_of(self.fallback) is not None:  # the environment's campaign clock, no daemon yet
            anchor = anchor_of(self.fallback)
        return describe_clock(anchor, self.now())

    def info(self) -> dict[str, object]:
        """The same as data (status --json, the API)."""
        anchor = self.anchor() or anchor_of(self.fallback)
        return {"kind": "campaign" if anchor is not None else "real", "now": self.now().isoformat(timespec="seconds"),
                "speed": anchor.speed if anchor is not None else 1.0,
                "purpose": anchor.purpose if anchor is not None else None, "shown": self.describe()}


def real_time(clock: Clock) -> Clock:
    """The clock of what lasts in real time whatever the store's clock (the limit on failed logins,
    an upload's expiry): on a rehearsal's store at x3600, 24 hours would pass in 24 seconds."""
    return clock.fallback if isinstance(clock, StoreClock) else clock


class ClockKeeper:
    """What a daemon does for its store's clock: put the store on its clock when it starts, rewrite
    the row when its clock leaps or holds (a rehearsal), and stop the clock when it stops."""

    def __init__(self, store: Store, clock: Clock, worker: str, purpose: str = "rehearsal") -> None:
        self.store, self.clock, self.worker, self.purpose = store, clock, worker, purpose
        self._written: ClockAnchor | None = None
        self._checked = time.monotonic()

    def start(self) -> str | None:
        """Put the store on this daemon's clock; what changed, for the audit trail and the log
        (None: nothing did). A test's FakeClock leaves the store as it is."""
        anchor = anchor_of(self.clock, self.purpose)
        if anchor is None and not isinstance(self.clock, SystemClock):
            return None
        before = read_anchor(self.store)
        write_anchor(self.store, anchor, self.worker)
        self._written = anchor
        if anchor is not None:
            change = (f"the store runs on the campaign clock from {anchor.campaign:%Y-%m-%d %H:%M} UTC at x{anchor.speed:g} "
                      f"({anchor.purpose}; real time {anchor.real:%Y-%m-%d %H:%M:%S} UTC)")
        elif before is not None:
            change = (f"the store runs on the real clock again (it was on a campaign clock, "
                      f"{describe_clock(before, before.now())})")
        else:
            return None
        self.store.add_audit(self.clock.now(), self.worker, "store-clock", "clock", change)
        return change

    def keep(self) -> None:
        """Rewrite the row if this daemon's clock is no longer where the row says (a leap, a hold)."""
        written = self._written
        if written is None or written.speed <= 0:
            return
        off = abs((self.clock.now() - written.now()).total_seconds())
        stale = time.monotonic() - self._checked > RECHECK_REAL_SECONDS
        if stale:
            self._checked = time.monotonic()
        if off > DRIFT_REAL_SECONDS * written.speed or (stale and read_anchor(self.store) != written):
            self._written = anchor_of(self.clock, self.purpose)
            write_anchor(self.store, self._written, self.worker)

    def stop(self, at: dt.datetime | None = None) -> None:
        """Leave the store's campaign clock stopped at `at` (default: this daemon's clock now)."""
        if self._written is None:
            return
        self._written = ClockAnchor((at or self.clock.now()).astimezone(UTC), dt.datetime.now(UTC), 0.0, self.purpose)
        write_anchor(self.store, self._written, self.worker)
