"""Connecting a channel with its platform's OAuth flow, and how each channel's connection stands.

`start` makes the authorize URL (a new `state`, bound to who asked; a PKCE verifier where the
platform supports it, kept encrypted in the store until the callback) and `finish` trades the
code the platform sends back to the console's callback for tokens and stores them in the vault.
The console's Connect button and `GET /api/v1/channels/{id}/connect` both call `start`; the
console's callback calls `finish`. `overview` is what the connections page, the API, `check` and
`status` show per channel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from campaign.calendar.models import Calendar
from scheduler.connections.renew import renewable, spec_of
from scheduler.connections.vault import Connection, Vault
from scheduler.platforms.base import AuthError, PublishError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.oauth import authorize_url, exchange_code, new_verifier
from scheduler.platforms.registry import platform_of

#: Minutes a started connection waits for its callback.
PENDING_MINUTES = 15


class ConnectError(Exception):
    """A connection cannot be started or finished; the message says what to do."""


#: (static credentials, API settings) of a channel: what the environment / secrets file (or the
#: sandbox) give, and its API settings (where the sandbox's emulator has its OAuth endpoints).
Settings = Callable[[str], tuple[Credentials, dict[str, Any]]]


def binding_of_session(csrf: str) -> str:
    """What a state is bound to when a console session starts it (a hash of that session's own token)."""
    return "session:" + hashlib.sha256(csrf.encode("utf-8")).hexdigest()[:32]


def binding_of_api(name: str) -> str:
    return "api:" + name


def start(vault: Vault, calendar: Calendar, channel_id: str, settings: Settings, *, redirect_uri: str, bound_to: str,
          by: str, now: dt.datetime) -> str:
    """The platform's authorize URL for `channel_id` (with state and, where supported, code_challenge)."""
    channel = next((c for c in calendar.channels if c.id == channel_id), None)
    if channel is None:
        raise ConnectError(f"no channel {channel_id} in the calendar")
    row = platform_of(channel.platform)
    if row.oauth is None:
        raise ConnectError(f"{channel_id} is a {row.name} channel: it has no browser connection "
                           f"({row.credential_note or 'its credentials are set in the environment or the secrets file'})")
    credentials, api = settings(channel_id)
    client_id = credentials.get("CLIENT_ID")
    if not client_id:
        raise ConnectError(f"channel {channel_id} has no CLIENT_ID: set CAMPAIGN_{channel_id.upper().replace('-', '_')}_CLIENT_ID "
                           f"(and _CLIENT_SECRET) to your {row.name} app's, or add client_id and client_secret to its table "
                           f"in the secrets file")
    state = secrets.token_urlsafe(32)
    verifier = new_verifier() if row.oauth.pkce else None
    vault.add_pending(state, channel_id, verifier, redirect_uri, bound_to=bound_to, by=by, now=now,
                      ttl_seconds=PENDING_MINUTES * 60)
    return authorize_url(row.oauth, api, client_id=client_id, redirect_uri=redirect_uri, state=state, verifier=verifier)


def finish(vault: Vault, calendar: Calendar, settings: Settings, *, state: str, code: str | None, error: str | None,
           bound: Callable[[str], bool], now: dt.datetime, by: str | None = None) -> Connection:
    """Store the tokens the code gives. `bound(bound_to)`: whether the request that brings the
    code may finish this state (the same console session; for a state the API started, its person)."""
    pending = vault.take_pending(state, now) if state else None
    if pending is None:
        raise ConnectError("this connection link is unknown, was used already or is older than "
                           f"{PENDING_MINUTES} minutes — press Connect again")
    if not bound(pending["bound_to"]):
        raise ConnectError("this connection was started in another session — press Connect again here")
    channel_id = pending["channel_id"]
    if error or not code:
        raise ConnectError(f"the platform did not connect channel {channel_id} ({error or 'no code'}) — press Connect again")
    channel = next((c for c in calendar.channels if c.id == channel_id), None)
    if channel is None:
        raise ConnectError(f"channel {channel_id} is no longer in the calendar")
    row = platform_of(channel.platform)
    assert row.oauth is not None
    credentials, api = settings(channel_id)
    try:
        answer = exchange_code(row.oauth, api, client_id=credentials.require("CLIENT_ID"),
                               client_secret=credentials.get("CLIENT_SECRET") or None, code=code,
                               redirect_uri=pending["redirect_uri"], verifier=pending["verifier"], now=now)
    except (AuthError, PublishError) as failure:
        raise ConnectError(f"{row.name} did not give tokens for channel {channel_id}: {failure} — press Connect again") from None
    missing = sorted(set(row.oauth.scopes) - set(answer.scopes))
    if missing:
        raise ConnectError(f"{row.name} granted channel {channel_id} without {', '.join(missing)}, which it needs to publish "
                           f"and renew — press Connect again and approve every permission")
    return vault.connect(channel_id, row.name, answer, by=by or pending["started_by"], now=now, account=channel.account)


# -- how each channel's connection stands ----------------------------------------------------------

@dataclass(frozen=True)
class ChannelConnection:
    channel_id: str
    platform: str
    how: str  # "connected", "reconnect needed", "pasted token", "app password", "not connected"
    account: str | None
    scopes: tuple[str, ...]
    expires_at: dt.datetime | None  # None: does not expire, or not known (pasted)
    renews: bool
    renews_how: str
    stops_at: dt.datetime | None  # the day the channel stops publishing without a person (None: it does not)
    can_connect: bool
    reconnect: str | None = None
    renewals: int = 0

    def line(self) -> str:
        """One line for `check` and `status`."""
        if self.how == "not connected":
            return f"{self.channel_id}: not connected — " + ("press Connect in the console (Connections)" if self.can_connect
                                                              else "set its credentials")
        if self.how == "reconnect needed":
            return f"{self.channel_id}: reconnect needed: {self.reconnect}"
        if self.how == "app password" or (self.how == "pasted token" and not self.can_connect):
            why = f" ({self.renews_how})" if self.renews_how else ""
            return f"{self.channel_id} ({self.how}): does not expire{why}"
        expiry = f"access token until {self.expires_at:%Y-%m-%d %H:%M} UTC" if self.expires_at else (
            "access token does not expire" if self.how != "pasted token" else "pasted token (expiry unknown)")
        renews = f"renews itself ({self.renews_how})" if self.renews else f"does not renew itself ({self.renews_how})"
        stops = f"; the channel stops on {self.stops_at:%Y-%m-%d} unless connected again" if self.stops_at else ""
        return f"{self.channel_id} ({self.how}): {expiry}, {renews}{stops}"


def stops_at(connection: Connection) -> dt.datetime | None:
    """When the channel stops publishing unless a person connects it again (None: it renews for good)."""
    spec = spec_of(connection)
    if spec is None:
        return None
    if not renewable(connection):
        return connection.expires_at
    if connection.refresh_expires_at is not None and not spec.rotating:
        return connection.refresh_expires_at  # a refresh does not extend it (LinkedIn partners, Google in "testing")
    return None


def stored_row(connection: Connection) -> ChannelConnection:
    """How a channel connected in the store stands."""
    spec = spec_of(connection)
    how = "reconnect needed" if connection.reconnect else "connected"
    renews_how = (("single-use refresh tokens" if spec and spec.rotating else "refresh token") if connection.has_refresh
                  else "renewed with its own token" if spec and spec.renews_with_access_token else "no refresh token")
    return ChannelConnection(connection.channel_id, connection.platform, how, connection.account, connection.scopes,
                             connection.expires_at, renewable(connection) and not connection.reconnect, renews_how,
                             stops_at(connection), True, connection.reconnect, connection.renewals)


def overview(calendar: Calendar, vault: Vault | None, static: Callable[[str], Credentials | None]) -> list[ChannelConnection]:
    """Each channel with an account, in calendar order: how it is connected and until when."""
    stored = {c.channel_id: c for c in vault.all()} if vault is not None else {}
    rows = []
    for channel in calendar.channels:
        row = platform_of(channel.platform)
        if not row.has_account:
            continue
        connection = stored.get(channel.id)
        if connection is not None and row.oauth is not None:
            rows.append(stored_row(connection))
            continue
        credentials = static(channel.id)
        if credentials is None:
            rows.append(ChannelConnection(channel.id, row.name, "not connected", None, (), None, False, "",
                                          None, row.oauth is not None))
        elif row.oauth is None:
            how = "app password" if "PASSWORD" in row.credentials else "pasted token"
            rows.append(ChannelConnection(channel.id, row.name, how, credentials.get("IDENTIFIER") or channel.account, (),
                                          None, False, row.credential_note, None, False))
        else:
            rows.append(ChannelConnection(channel.id, row.name, "pasted token", channel.account, (), None, False,
                                          "pasted in the environment or the secrets file: used until it dies", None, True))
    return rows

