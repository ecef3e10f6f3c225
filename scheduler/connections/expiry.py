"""Telling the admins before a channel stops: where renewal is impossible (no refresh token, a
refresh token that a renewal does not extend reaching its end), 14, 7 and 1 days ahead, each
once per end (`connection_ends` in the log, and a notice to the calendar's `notifications`
recipients of failures through `scheduler.notify`); and at once when a connection is lost
(`reconnect_needed`). The daemon runs `ExpiryWarnings.run_once` beside the renewal job."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from campaign.clock import Clock
from scheduler.connections.connect import stops_at
from scheduler.connections.vault import Vault
from scheduler.daemon.logs import EventLog
from scheduler.notify.outbox import Outbox

#: Days before a channel stops that the admins are told.
THRESHOLDS = (14, 7, 1)


class ExpiryWarnings:
    def __init__(self, vault: Vault, clock: Clock, calendar: Callable[[], Any], log: EventLog | None = None,
                 outbox: Outbox | None = None) -> None:
        """`calendar()`: the daemon's current calendar (its `notifications:`), or None."""
        self.vault = vault
        self.clock = clock
        self.calendar = calendar
        self.log = log or EventLog()
        self.outbox = outbox

    def run_once(self) -> list[tuple[str, int]]:
        """Warn for each connection inside a threshold not said yet for its end; (channel, days) said."""
        now = self.clock.now()
        said = []
        for connection in self.vault.all():
            end = stops_at(connection)
            if connection.reconnect or end is None:
                continue
            left = (end - now).total_seconds() / 86400
            inside = [days for days in THRESHOLDS if left <= days]
            if not inside:
                continue
            days = min(inside)
            key = f"{end:%Y-%m-%dT%H:%M}:{days}"
            warned = set(filter(None, (connection.warned or "").split(",")))
            if key in warned:
                continue
            when = "has stopped" if left <= 0 else f"stops publishing on {end:%Y-%m-%d %H:%M} UTC"
            message = (f"channel {connection.channel_id} ({connection.platform}) {when}: its access token cannot be "
                       f"renewed after that ({'its refresh token ends' if connection.has_refresh else 'the platform gave no refresh token'})"
                       f" — connect it again in the console (Connections) before then")
            self.log.event("connection_ends", message, level=logging.WARNING, channel=connection.channel_id, days=days)
            self.notify(f"{connection.channel_id}: connect it again within {days} day{'s' if days > 1 else ''}", message,
                        key=f"connection-ends:{connection.channel_id}:{key}")
            self.vault.mark_warned(connection.channel_id, ",".join(sorted(warned | {key})))
            said.append((connection.channel_id, days))
        return said

    def lost(self, channel_id: str, reason: str) -> None:
        """The renewal lost a connection (Renewer's `on_lost`): the admins are told at once."""
        self.notify(f"{channel_id}: reconnect needed", f"channel {channel_id} is paused: {reason}",
                    key=f"reconnect:{channel_id}:{self.clock.now():%Y-%m-%dT%H:%M}")

    def notify(self, subject: str, text: str, *, key: str) -> None:
        calendar = self.calendar()
        settings = getattr(calendar, "notifications", None)
        if self.outbox is None or settings is None:
            return
        self.outbox.to_audience(settings, "failures", subject, text, now=self.clock.now(), key=key)
