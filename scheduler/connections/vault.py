"""The token vault: each channel's OAuth connection in the store, its tokens encrypted at rest.

One row per channel: access token, refresh token (both Fernet-encrypted with a key kept outside
the store, `keys.py`), their ends, the scopes granted, the account, and what renewal needs to
be safe across processes: a lease (one daemon renews a channel at a time) and the intent of a
renewal in flight (recorded, committed, before the refresh request; cleared with the new pair
in one commit). A row found with an intent and a refused refresh token is the one way a
connection is lost (the platform rotated the pair and the answer never reached the store).

The pending connections (`oauth_pending`) keep, per `state`, the PKCE verifier (encrypted), the
channel, the callback URL and who started it, until the callback uses it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import MultiFernet
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, insert, inspect, or_, select, update

from campaign.secrets import remember_secret
from scheduler.connections.keys import decrypt, encrypt, load_keys
from scheduler.platforms.oauth import TokenAnswer
from scheduler.store import Store
from scheduler.store.engine import create_tables
from scheduler.store.rows import from_db, to_db

UTC = dt.timezone.utc

metadata = MetaData()

channel_tokens = Table(
    "channel_tokens",
    metadata,
    Column("channel_id", String(64), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("account", String(255)),
    Column("scopes", Text, nullable=False, default=""),  # space-separated, as granted
    Column("access_token", Text, nullable=False),  # Fernet token
    Column("refresh_token", Text),  # Fernet token, or NULL
    Column("expires_at", DateTime),  # NULL: the access token does not expire
    Column("refresh_expires_at", DateTime),  # NULL: no refresh token, or no stated end
    Column("obtained_at", DateTime, nullable=False),  # of the current access token
    Column("version", Integer, nullable=False, default=1),  # +1 at each connect and renewal
    Column("renewals", Integer, nullable=False, default=0),
    Column("lease_by", String(255)),  # the worker renewing it now
    Column("lease_until", DateTime),  # real (wall-clock) time: it guards a network request
    Column("intent_by", String(255)),  # a refresh request may be out (committed before sending)
    Column("intent_at", DateTime),
    Column("reconnect", Text),  # why a person must connect it again (NULL: connected)
    Column("warned", Text),  # the warnings already given for the current end ("2027-03-01:14,7")
    Column("connected_by", String(255)),
    Column("connected_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

oauth_pending = Table(
    "oauth_pending",
    metadata,
    Column("state_hash", String(64), primary_key=True),  # SHA-256 of `state` (the state itself is in the URL)
    Column("channel_id", String(64), nullable=False),
    Column("verifier", Text),  # Fernet token of the PKCE verifier
    Column("redirect_uri", Text, nullable=False),
    Column("bound_to", String(255), nullable=False),  # the console session (its key hash) or "api:<user>"
    Column("started_by", String(255), nullable=False),
    Column("expires_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class Connection:
    """One channel's connection as stored (tokens decrypted only when asked for)."""

    channel_id: str
    platform: str
    account: str | None
    scopes: tuple[str, ...]
    expires_at: dt.datetime | None
    refresh_expires_at: dt.datetime | None
    obtained_at: dt.datetime
    version: int
    renewals: int
    has_refresh: bool
    reconnect: str | None
    intent_at: dt.datetime | None
    intent_by: str | None
    warned: str | None
    connected_by: str | None
    connected_at: dt.datetime
    access_token: str | None = None
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return (f"Connection(channel_id={self.channel_id!r}, expires_at={self.expires_at}, refresh={self.has_refresh}, "
                f"version={self.version}, reconnect={self.reconnect!r})")


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def fingerprint(token: str) -> str:
    """A short, non-reversible name of a token (for tests and the emulator's records, never the value)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


class Vault:
    """The channels' tokens in `store`. The key is read on first use of a token (`keys.py`):
    listing connections needs none."""

    def __init__(self, store: Store, *, keys: MultiFernet | None = None, create: bool = True) -> None:
        """`create=False` (readers such as `status`): a store without the tables reads as empty."""
        self.store = store
        self.engine = store.engine
        self._keys = keys
        self._exists = True
        if create:
            create_tables(self.engine, metadata)
        else:
            self._exists = inspect(self.engine).has_table(channel_tokens.name)

    @property
    def keys(self) -> MultiFernet:
        if self._keys is None:
            self._keys = load_keys()
        return self._keys

    # -- reading -------------------------------------------------------------------------------------

    def _connection(self, row: Any, *, tokens: bool) -> Connection:
        access = refresh = None
        if tokens:
            access = decrypt(self.keys, row["access_token"])
            refresh = decrypt(self.keys, row["refresh_token"])
            remember_secret(f"{row['channel_id']}:access", access)
            remember_secret(f"{row['channel_id']}:refresh", refresh)
        return Connection(row["channel_id"], row["platform"], row["account"], tuple((row["scopes"] or "").split()),
                          from_db(row["expires_at"]), from_db(row["refresh_expires_at"]), from_db(row["obtained_at"]),
                          row["version"], row["renewals"], row["refresh_token"] is not None, row["reconnect"],
                          from_db(row["intent_at"]), row["intent_by"], row["warned"], row["connected_by"],
                          from_db(row["connected_at"]), access, refresh)

    def get(self, channel_id: str, *, tokens: bool = True) -> Connection | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(channel_tokens).where(channel_tokens.c.channel_id == channel_id)).mappings().first()
        return self._connection(row, tokens=tokens) if row is not None else None

    def all(self) -> list[Connection]:
        """Every stored connection, without its tokens (pages, `status`, the renewal job's scan)."""
        if not self._exists:
            return []
        with self.engine.begin() as conn:
            rows = conn.execute(select(channel_tokens).order_by(channel_tokens.c.channel_id)).mappings().all()
        return [self._connection(r, tokens=False) for r in rows]

    def access_token(self, channel_id: str) -> str | None:
        """The current access token (what a publisher sends), None when the channel is not connected here."""
        found = self.get(channel_id)
        return found.access_token if found is not None and not found.reconnect else None

    # -- connecting ----------------------------------------------------------------------------------

    def connect(self, channel_id: str, platform: str, answer: TokenAnswer, *, by: str, now: dt.datetime,
                account: str | None = None) -> Connection:
        """Store a new connection (the console's callback): replaces the channel's row whole."""
        values = dict(platform=platform, account=account or answer.account, scopes=" ".join(answer.scopes),
                      access_token=encrypt(self.keys, answer.access_token),
                      refresh_token=encrypt(self.keys, answer.refresh_token), expires_at=to_db(answer.expires_at),
                      refresh_expires_at=to_db(answer.refresh_expires_at), obtained_at=to_db(now), renewals=0,
                      lease_by=None, lease_until=None, intent_by=None, intent_at=None, reconnect=None, warned=None,
                      connected_by=by, connected_at=to_db(now), updated_at=to_db(now))
        with self.engine.begin() as conn:
            version = conn.execute(select(channel_tokens.c.version).where(channel_tokens.c.channel_id == channel_id)).scalar()
            if version is None:
                conn.execute(insert(channel_tokens).values(channel_id=channel_id, version=1, **values))
            else:
                conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id)
                             .values(version=version + 1, **values))
        found = self.get(channel_id)
        assert found is not None
        return found

    def disconnect(self, channel_id: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(channel_tokens).where(channel_tokens.c.channel_id == channel_id)).rowcount > 0

    # -- renewing (scheduler.connections.renew) ----------------------------------------------------

    def acquire(self, channel_id: str, worker: str, *, seconds: float, dead: Any = None) -> bool:
        """Take the channel's renewal lease (real time) unless someone holds it (this worker too: one
        renewal at a time per channel, whichever thread asks). `dead(worker)`: True when that worker's
        process is gone (its lease is taken over at once)."""
        real_now = dt.datetime.now(UTC)
        until = to_db(real_now + dt.timedelta(seconds=seconds))
        with self.engine.begin() as conn:
            holder = conn.execute(select(channel_tokens.c.lease_by, channel_tokens.c.lease_until)
                                  .where(channel_tokens.c.channel_id == channel_id)).first()
            if holder is None:
                return False
            free = or_(channel_tokens.c.lease_by.is_(None), channel_tokens.c.lease_until < to_db(real_now))
            if holder.lease_by and dead is not None and holder.lease_by != worker and dead(holder.lease_by):
                free = channel_tokens.c.lease_by == holder.lease_by
            done = conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id, free)
                                .values(lease_by=worker, lease_until=until))
            return done.rowcount == 1

    def release(self, channel_id: str, worker: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id,
                                                      channel_tokens.c.lease_by == worker)
                         .values(lease_by=None, lease_until=None))

    def record_intent(self, channel_id: str, worker: str, now: dt.datetime) -> bool:
        """A refresh request is about to go out (committed first: a crash after it is detectable)."""
        with self.engine.begin() as conn:
            return conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id,
                                                             channel_tokens.c.lease_by == worker)
                                .values(intent_by=worker, intent_at=to_db(now))).rowcount == 1

    def save_renewal(self, channel_id: str, worker: str, answer: TokenAnswer, now: dt.datetime) -> bool:
        """The new pair, the intent cleared and the lease released, in one commit (False: the lease was lost)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id,
                                                             channel_tokens.c.lease_by == worker).values(
                access_token=encrypt(self.keys, answer.access_token),
                refresh_token=encrypt(self.keys, answer.refresh_token), expires_at=to_db(answer.expires_at),
                refresh_expires_at=to_db(answer.refresh_expires_at), scopes=" ".join(answer.scopes),
                obtained_at=to_db(now), version=channel_tokens.c.version + 1, renewals=channel_tokens.c.renewals + 1,
                intent_by=None, intent_at=None, lease_by=None, lease_until=None, updated_at=to_db(now)))
            return done.rowcount == 1

    def mark_reconnect(self, channel_id: str, reason: str, now: dt.datetime) -> bool:
        """The connection is dead: say why (once; False when it was already marked)."""
        with self.engine.begin() as conn:
            return conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id,
                                                             channel_tokens.c.reconnect.is_(None))
                                .values(reconnect=reason, intent_by=None, intent_at=None, lease_by=None, lease_until=None,
                                        updated_at=to_db(now))).rowcount == 1

    def mark_warned(self, channel_id: str, warned: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(channel_tokens).where(channel_tokens.c.channel_id == channel_id).values(warned=warned))

    # -- pending connections (the console's Connect button, the API) -------------------------------

    def add_pending(self, state: str, channel_id: str, verifier: str | None, redirect_uri: str, *, bound_to: str,
                    by: str, now: dt.datetime, ttl_seconds: float = 900.0) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(oauth_pending).where(oauth_pending.c.expires_at < to_db(now)))
            conn.execute(insert(oauth_pending).values(
                state_hash=state_hash(state), channel_id=channel_id, verifier=encrypt(self.keys, verifier),
                redirect_uri=redirect_uri, bound_to=bound_to, started_by=by,
                expires_at=to_db(now + dt.timedelta(seconds=ttl_seconds))))

    def take_pending(self, state: str, now: dt.datetime) -> dict[str, Any] | None:
        """The pending connection of `state`, used once (None: unknown, used or expired)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(oauth_pending).where(oauth_pending.c.state_hash == state_hash(state))).mappings().first()
            if row is None:
                return None
            conn.execute(delete(oauth_pending).where(oauth_pending.c.state_hash == row["state_hash"]))
        if from_db(row["expires_at"]) < now:
            return None
        found = dict(row)
        found["verifier"] = decrypt(self.keys, row["verifier"])
        return found
