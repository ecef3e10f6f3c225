"""What calendar edits keep in the store: the copies forms were opened on, and the signal a save
sends to every daemon on this store.

A form carries the hash of the calendar it was opened on; the text itself stays here, so a
save refused as stale can show what changed meanwhile, whichever console process served the
form. The signal is one row per calendar file, bumped by each save: the daemon polls it every
few seconds and reloads at once (SIGHUP only reaches a process on the same machine).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from scheduler.store.rows import to_db
from scheduler.store.schema import calendar_copies, calendar_signal
from scheduler.store.store import Store

#: Copies older than this are forgotten (a form left open longer is still refused as stale,
#: only without the list of what changed).
KEEP_COPIES = dt.timedelta(days=7)


def remember_copy(store: Store, digest: str, text: str, now: dt.datetime) -> None:
    with store.engine.begin() as conn:
        if conn.execute(select(calendar_copies.c.hash).where(calendar_copies.c.hash == digest)).first():
            conn.execute(update(calendar_copies).where(calendar_copies.c.hash == digest).values(seen_at=to_db(now)))
        else:
            try:
                conn.execute(insert(calendar_copies).values(hash=digest, text=text, seen_at=to_db(now)))
            except IntegrityError:  # another console stored the same copy at the same moment
                pass
        conn.execute(delete(calendar_copies).where(calendar_copies.c.seen_at < to_db(now - KEEP_COPIES)))


def copy_text(store: Store, digest: str) -> str | None:
    with store.engine.begin() as conn:
        return conn.execute(select(calendar_copies.c.text).where(calendar_copies.c.hash == digest)).scalar()


def signal_saved(store: Store, path: str, digest: str, by: str, now: dt.datetime) -> None:
    """Tell every daemon on this store that `path` changed (it reloads within seconds)."""
    with store.engine.begin() as conn:
        done = conn.execute(update(calendar_signal).where(calendar_signal.c.path == path).values(
            hash=digest, at=to_db(now), by=by, serial=calendar_signal.c.serial + 1)).rowcount
        if not done:
            try:
                conn.execute(insert(calendar_signal).values(path=path, hash=digest, at=to_db(now), by=by, serial=1))
            except IntegrityError:
                conn.execute(update(calendar_signal).where(calendar_signal.c.path == path).values(
                    hash=digest, at=to_db(now), by=by, serial=calendar_signal.c.serial + 1))


def saved_serial(store: Store) -> int:
    """Moves on with every save of any calendar on this store (cheap enough to poll every 2 s)."""
    with store.engine.begin() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(calendar_signal.c.serial), 0))).scalar() or 0)
