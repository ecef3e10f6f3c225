"""The daemon's token job, built once for the `daemon` command and the rehearsal alike: the
renewer (asked by the dispatcher before each publish and after a 401, `Daemon(tokens=...)`), the
warnings where renewal is impossible, and one job on the daemon's scheduler that runs both."""

from __future__ import annotations

from typing import Any, Callable

from campaign.clock import Clock
from scheduler.connections.expiry import ExpiryWarnings
from scheduler.connections.renew import INTERVAL, Renewer
from scheduler.connections.vault import Vault
from scheduler.daemon.logs import EventLog
from scheduler.daemon.publishers import PublisherPool
from scheduler.notify.outbox import Outbox
from scheduler.store import Store


class TokenJob:
    def __init__(self, store: Store, clock: Clock, vault: Vault, pool: PublisherPool, calendar: Callable[[], Any],
                 log: EventLog) -> None:
        """`pool`: the dispatcher's publishers (their static credentials and API settings);
        `calendar()`: the daemon's current calendar (its channels, its `notifications:`), or None."""
        self.warnings = ExpiryWarnings(vault, clock, calendar, log, Outbox(store))
        self.renewer = Renewer(vault, store, clock, credentials=pool.static_credentials, api=pool.api_settings,
                               calendar=calendar, log=log, on_lost=self.warnings.lost)

    def attach(self, daemon: Any, collect_pool: PublisherPool | None = None, *, every: float = INTERVAL) -> None:
        """Renew as `daemon`'s worker, on its scheduler every `every` s; the figures' pool renews before reading."""
        self.renewer.worker = daemon.worker
        if collect_pool is not None:
            collect_pool.before_use = self.renewer.ensure_fresh
        daemon.add_job("renew", every, self.run_once)

    def run_once(self) -> None:
        self.renewer.run_once()
        self.warnings.run_once()
