"""Renewing the channels' tokens before they expire, once per store, never mid-publish.

The daemon runs `Renewer.run_once` as a job of its own (`Daemon.add_job`, handed in by whoever
builds the daemon); the dispatcher asks `before_publish(channel)` before each publish (a token
inside its renewal margin is renewed first: the campaign clock of a rehearsal can jump hours
between two posts) and `after_refusal(channel, error)` after a 401 (renewed once when the token
is at its end or the platform said "expired"; otherwise the channel is paused as before).

Each renewal, in order: take the channel's lease in the store (several daemons on one store:
one renews, the others find the token fresh when they get the lease); re-read the row; record
the intent (committed); send the refresh request; write the new pair, clear the intent and the
lease in one commit; only then is the new access token used (publishers read it from the store).

The one case that loses a connection: the platform rotated a single-use refresh token (X) and
the process died (or the answer was lost) before the write. It is detected, never looped on: a
refused refresh token with an intent left behind says so in `reconnect_needed`; any refused
refresh token marks the connection dead once, logs `reconnect_needed` and pauses the channel
with the reason (the admins are told); no renewal is tried again until a person connects it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any, Callable, Iterable

import requests
from requests.adapters import HTTPAdapter

from campaign.calendar.models import Calendar
from campaign.clock import Clock
from campaign.platforms import PLATFORMS as DOMAIN
from scheduler.connections.vault import Connection, Vault
from scheduler.daemon.crash import crash_point
from scheduler.daemon.logs import EventLog
from scheduler.platforms.base import AuthError, ReconnectNeeded, TokenExpired, TransientError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.oauth import OAuthSpec, RefreshRefused, RefreshRequest, renew
from scheduler.platforms.registry import platform_of
from scheduler.store import Store
from scheduler.store.store import new_worker_id, worker_is_dead

#: Crash points of a renewal (the fault harness kills the daemon at each; see scheduler/daemon/crash.py).
POINTS = ("renew_before_request", "renew_after_answer", "renew_after_write")
#: How often the daemon's renewal job looks (real seconds).
INTERVAL = 30.0
ACTOR = "token renewal"


def spec_of(connection: Connection) -> OAuthSpec | None:
    return platform_of(connection.platform).oauth


def renewable(connection: Connection) -> bool:
    spec = spec_of(connection)
    return spec is not None and spec.can_renew(connection.has_refresh)


def lifetime(connection: Connection) -> float | None:
    if connection.expires_at is None:
        return None
    return (connection.expires_at - connection.obtained_at).total_seconds()


def renew_at(connection: Connection) -> dt.datetime | None:
    """When the access token is renewed: its end minus the platform's margin (None: it never expires)."""
    spec = spec_of(connection)
    if connection.expires_at is None or spec is None:
        return None
    return connection.expires_at - dt.timedelta(seconds=spec.margin(lifetime(connection)))


def next_self_renewal(connections: Iterable[Connection]) -> dt.datetime | None:
    """The next renewal of a token that renews with itself (Threads): unlike one with a refresh token,
    it cannot be renewed once expired, so a campaign clock that leaps (the rehearsal, the fault
    harness) must stop there and let the daemon renew it."""
    times = [renew_at(c) for c in connections
             if not c.reconnect and (spec := spec_of(c)) is not None and spec.renews_with_access_token]
    return min((t for t in times if t is not None), default=None)


class _TokenAdapter(HTTPAdapter):
    publishes = False  # its requests are no publish's: the crash point `request_sent` ignores them


def _token_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _TokenAdapter())
    session.mount("https://", _TokenAdapter())
    return session


class Renewer:
    def __init__(self, vault: Vault, store: Store, clock: Clock, *, credentials: Callable[[str], Credentials],
                 api: Callable[[str], dict[str, Any]], calendar: Callable[[], Calendar | None],
                 log: EventLog | None = None, worker: str | None = None, lease_seconds: float = 120.0,
                 timeout: float = 30.0, session: requests.Session | None = None,
                 on_lost: Callable[[str, str], None] | None = None) -> None:
        """`credentials(channel)`: the channel's static credentials (the app's CLIENT_ID and CLIENT_SECRET);
        `api(channel)`: its API settings (the sandbox's token endpoint); `on_lost(channel, why)`: also told
        when a connection is lost (the notifications)."""
        self.vault = vault
        self.store = store
        self.clock = clock
        self.credentials = credentials
        self.api = api
        self.calendar = calendar
        self.log = log or EventLog()
        self.worker = worker or new_worker_id()
        self.lease_seconds = lease_seconds
        self.timeout = timeout
        self.session = session or _token_session()
        self.on_lost = on_lost
        self._renewed_on_refusal: dict[str, int] = {}  # channel -> version renewed after a 401 (once per token)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        #: real seconds a publish waits for another daemon's renewal of its channel
        self.wait_seconds = 15.0

    # -- the daemon's job ----------------------------------------------------------------------

    def run_once(self) -> dict[str, str]:
        """Renew every token inside its margin (skipping channels publishing now); outcome per channel tried."""
        now = self.clock.now()
        known = self._channels()
        outcomes = {}
        for connection in self.vault.all():
            if (known is not None and connection.channel_id not in known) or connection.reconnect or not renewable(connection):
                continue
            due = renew_at(connection)
            if due is not None and now >= due:
                outcomes[connection.channel_id] = self.renew(connection.channel_id, "due")
        return outcomes

    # -- the dispatcher's questions ----------------------------------------------------------------

    def before_publish(self, channel_id: str) -> None:
        """Renew the channel's token first if it is inside its margin; ReconnectNeeded when the
        connection is lost (the dispatcher pauses the channel with the reason)."""
        connection = self.vault.get(channel_id, tokens=False)
        if connection is None:
            return
        if connection.reconnect:
            raise ReconnectNeeded(f"reconnect needed: {connection.reconnect}")
        due = renew_at(connection)
        if not renewable(connection) or due is None or self.clock.now() < due:
            return
        outcome = self.renew(channel_id, "before publishing", during_publish=True)
        if outcome == "reconnect_needed":
            lost = self.vault.get(channel_id, tokens=False)
            raise ReconnectNeeded(f"reconnect needed: {lost.reconnect if lost else 'the connection was removed'}")
        if outcome == "failed" and connection.expires_at is not None and self.clock.now() >= connection.expires_at:
            raise TransientError(f"the token of channel {channel_id} expired and could not be renewed yet — retried later")

    def ensure_fresh(self, channel_id: str) -> None:
        """Before a read that is not a publish (the figures collector): renew a token inside its margin
        unless the channel is publishing now; a failure is left to the job and to the read's own error."""
        connection = self.vault.get(channel_id, tokens=False)
        if connection is None or connection.reconnect or not renewable(connection):
            return
        due = renew_at(connection)
        if due is not None and self.clock.now() >= due:
            self.renew(channel_id, "before reading figures")

    def after_refusal(self, channel_id: str, error: AuthError) -> bool:
        """A publish was refused with 401: renew once if the token is at its end (or the platform said
        "expired"); True when renewed (publish again), False to pause the channel as before."""
        connection = self.vault.get(channel_id, tokens=False)
        if connection is None or connection.reconnect or not renewable(connection):
            return False
        due = renew_at(connection)
        at_end = due is not None and self.clock.now() >= due
        if not (at_end or isinstance(error, TokenExpired)):
            return False  # a young token refused: revoked, not expired
        if self._renewed_on_refusal.get(channel_id) == connection.version:
            return False  # the token this renewal gave was refused too: never a loop
        if self.renew(channel_id, "refused as expired", during_publish=True, seen=connection.version) not in ("renewed", "fresh"):
            return False
        renewed = self.vault.get(channel_id, tokens=False)
        if renewed is not None:
            self._renewed_on_refusal[channel_id] = renewed.version
        return True

    # -- one renewal ---------------------------------------------------------------------------

    def renew(self, channel_id: str, why: str, *, during_publish: bool = False, seen: int | None = None) -> str:
        """One renewal under the store's lease. Returns renewed, fresh (another daemon did it), busy
        (a publish or another daemon holds it), failed (retried later), reconnect_needed, or
        not_renewable. `seen`: the version whose token the platform refused (renewed even before its
        margin, unless the store already holds a newer one)."""
        now = self.clock.now()
        if not during_publish and channel_id in self.store.channels_publishing(now):
            return "busy"  # never in the middle of a publish: the next run renews it
        with self._lock_of(channel_id):  # the job, a publish and the figures of this process: one at a time
            if not self._acquire(channel_id, wait=during_publish):
                return "busy"
            try:
                return self._renew_leased(channel_id, why, during_publish=during_publish, seen=seen)
            finally:
                self.vault.release(channel_id, self.worker)

    def _lock_of(self, channel_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(channel_id, threading.Lock())

    def _acquire(self, channel_id: str, *, wait: bool) -> bool:
        """The store's lease; a publish waiting on another daemon's renewal waits for it to end
        (then finds the token fresh), at most `wait_seconds`."""
        deadline = time.monotonic() + (self.wait_seconds if wait else 0.0)
        while not self.vault.acquire(channel_id, self.worker, seconds=self.lease_seconds, dead=worker_is_dead):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def _renew_leased(self, channel_id: str, why: str, *, during_publish: bool, seen: int | None) -> str:
        connection = self.vault.get(channel_id)
        if connection is None or connection.reconnect:
            return "reconnect_needed" if connection is not None else "not_renewable"
        spec = spec_of(connection)
        if spec is None or not spec.can_renew(connection.has_refresh):
            return "not_renewable"
        if seen is not None and connection.version != seen:
            return "fresh"  # renewed since the refused token was read: the new one is in the store
        due = renew_at(connection)
        if seen is None and (due is None or self.clock.now() < due):
            return "fresh"  # another daemon renewed it while this one waited for the lease
        return self._refresh(connection, spec, why, during_publish)

    def _refresh(self, connection: Connection, spec: OAuthSpec, why: str, during_publish: bool) -> str:
        channel_id = connection.channel_id
        interrupted = connection.intent_at
        try:
            static = self.credentials(channel_id)
            client_id = static.require("CLIENT_ID")
        except AuthError as error:
            self.log.event("renew_failed", f"{error}", level=logging.WARNING, channel=channel_id)
            return "failed"
        api = self.api(channel_id)
        spec = spec.for_channel(api)
        _, token_url = spec.endpoints(api)
        now = self.clock.now()
        if not self.vault.record_intent(channel_id, self.worker, now):
            return "busy"
        crash_point("renew_before_request")
        request = RefreshRequest(spec, token_url, client_id, static.get("CLIENT_SECRET") or None,
                                 connection.access_token or "", connection.refresh_token, now, self.session,
                                 self.timeout, connection.refresh_expires_at, connection.scopes)
        try:
            answer = renew(request)
        except RefreshRefused as error:
            self.lost(channel_id, self._lost_reason(connection, interrupted, error), pause=not during_publish)
            return "reconnect_needed"
        except (TransientError, AuthError) as error:  # the intent stays: the request may have reached the platform
            self.log.event("renew_failed", f"{error} — retried at the next renewal", level=logging.WARNING,
                           channel=channel_id)
            return "failed"
        crash_point("renew_after_answer")
        if not self.vault.save_renewal(channel_id, self.worker, answer, self.clock.now()):
            self.log.event("renew_failed", "this daemon lost the renewal lease before writing the new tokens",
                           level=logging.ERROR, channel=channel_id)
            return "failed"
        crash_point("renew_after_write")
        expiry = f"{answer.expires_at:%Y-%m-%d %H:%M} UTC" if answer.expires_at else "never"
        self.log.event("token_refreshed", f"new access token until {expiry} ({why})", channel=channel_id,
                       expires_at=answer.expires_at.isoformat() if answer.expires_at else None)
        return "renewed"

    @staticmethod
    def _lost_reason(connection: Connection, interrupted: dt.datetime | None, error: Exception) -> str:
        platform = DOMAIN[connection.platform].label if connection.platform in DOMAIN else connection.platform
        again = f"connect channel {connection.channel_id} again in the console (Connections), then resume it"
        if interrupted is not None:
            return (f"a renewal started {interrupted:%Y-%m-%d %H:%M} UTC never stored its answer (the daemon stopped or the "
                    f"answer was lost between {platform}'s answer and the store's write) and {platform} now refuses it "
                    f"({error}): its refresh tokens are single-use, so this is the one case that loses the "
                    f"connection — {again}")
        return f"{platform} refused the refresh token: it was revoked or has ended ({error}) — {again}"

    def lost(self, channel_id: str, reason: str, *, pause: bool = True) -> None:
        """Mark the connection dead (once), log `reconnect_needed`, pause the channel with the reason."""
        if not self.vault.mark_reconnect(channel_id, reason, self.clock.now()):
            return
        self.log.event("reconnect_needed", reason, level=logging.ERROR, channel=channel_id)
        if pause:
            self.store.pause(channel_id, f"reconnect needed: {reason}", ACTOR, self.clock.now())
            self.log.event("channel_paused", reason, channel=channel_id)
        if self.on_lost is not None:
            self.on_lost(channel_id, reason)

    def _channels(self) -> set[str] | None:
        """The calendar's channels (None: no calendar, every stored connection counts)."""
        calendar = self.calendar()
        return {c.id for c in calendar.channels} if calendar is not None else None
