"""How the daemon rides out a store it cannot use for a while.

A SQLite file locked by a long backup, a PostgreSQL server restarting: the daemon must not
crash, spin or lose a post. It logs the outage once (with one line saying what and how to
fix), backs off (1, 2, 4 ... up to 60 s between attempts), logs when the store is back, and
keeps every post where the store has it: nothing is claimed while the store is away, so
nothing is published unrecorded. It stops with a clear message only when it cannot go on:
an error that will not heal by itself (a corrupt file, a database that does not exist)
persisting past `permanent_grace`, or any outage longer than `transient_grace`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from scheduler.daemon.logs import EventLog
from scheduler.store.problems import EXIT_STORE, describe, is_store_error, is_transient


@dataclass
class OutagePolicy:
    first_backoff: float = 1.0  # real seconds
    max_backoff: float = 60.0
    permanent_grace: float = 120.0  # a corrupt or missing database: time for a person to restore it
    transient_grace: float = 3600.0  # locked, unreachable: an hour, then a person has to look


class StoreOutage:
    """The daemon's memory of the current store outage (none when the store answers)."""

    def __init__(self, url: str, log: EventLog, policy: OutagePolicy | None = None,
                 on_give_up: Callable[[int], None] | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.log = log
        self.policy = policy or OutagePolicy()
        self.on_give_up = on_give_up
        self.monotonic = monotonic
        self.since: float | None = None
        self.failures = 0
        self.retry_at = 0.0
        self.gave_up = False

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def waiting(self) -> bool:
        """True while backing off: the job should not touch the store yet."""
        return self.gave_up or (self.ongoing and self.monotonic() < self.retry_at)

    def failed(self, error: BaseException) -> bool:
        """Note a failure; False if it is not the store's (the caller reports it as before)."""
        if not is_store_error(error):
            return False
        now = self.monotonic()
        transient = is_transient(error)
        if self.since is None:
            self.since = now
            self.log.event("store_unavailable", f"{describe(error, self.url)} — every post stays in the store; "
                           "nothing is published until it answers again", level=logging.WARNING)
        self.failures += 1
        delay = min(self.policy.max_backoff, self.policy.first_backoff * 2 ** (self.failures - 1))
        self.retry_at = now + delay
        grace = self.policy.transient_grace if transient else self.policy.permanent_grace
        if now - self.since >= grace and not self.gave_up:
            self.gave_up = True
            self.log.event("store_gave_up", f"{describe(error, self.url)} — the store has not worked for "
                           f"{now - self.since:.0f} s; stopping (exit {EXIT_STORE}). No post was lost: start the "
                           "daemon again once the store is fixed", level=logging.ERROR)
            if self.on_give_up is not None:
                self.on_give_up(EXIT_STORE)
        return True

    def answered(self) -> None:
        """The store worked again: log how long it was away, forget the outage."""
        if self.since is not None and not self.gave_up:
            self.log.event("store_back", f"the store answers again after {self.monotonic() - self.since:.0f} s "
                           f"and {self.failures} failed attempt{'s' if self.failures != 1 else ''}")
            self.since, self.failures, self.retry_at = None, 0, 0.0
