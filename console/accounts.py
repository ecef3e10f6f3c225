"""The console's accounts, kept in the store beside the posts they act on.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters). A viewer sees, an
approver also approves and sends back (on every channel, or on the channels the account
lists), a designer also uploads media and approves it (not posts), an admin does all of that
and also pauses, resumes, settles and manages accounts.
Failed logins are recorded in the store too, so the rate limit holds across restarts and
across several console processes on one store.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from scheduler.store.rows import to_db

ROLES = ("viewer", "approver", "designer", "admin")
#: What each role may do besides viewing (an admin may do everything). A designer uploads media, sees
#: its renders and approves media, but approves no post and edits the calendar only by assigning files.
GRANTS = {"viewer": {"viewer"}, "approver": {"viewer", "approver"}, "designer": {"viewer", "designer"},
          "admin": set(ROLES)}
#: Failed logins allowed per name and per client address within the window, then 429.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
INVITE_HOURS = 48

metadata = MetaData()

users = Table(
    "console_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("channels", Text),  # JSON list: the channels an approver approves for; NULL: all
    Column("session_epoch", Integer, nullable=False, default=0),  # bumped to end every session of the account
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
)

login_failures = Table(
    "console_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, index=True),  # "name:NAME" or "addr:IP"
    Column("at", DateTime, nullable=False),
)

settings = Table(
    "console_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

_hasher = PasswordHasher()
_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    """Verified against when the name does not exist, so a wrong name costs as long as a wrong password."""
    if id(_hasher) not in _dummy_hashes:
        _dummy_hashes[id(_hasher)] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[id(_hasher)]


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    channels: tuple[str, ...] | None  # None: every channel
    session_epoch: int

    def can(self, role: str) -> bool:
        return role in GRANTS.get(self.role, set())

    def approves(self, channel_id: str) -> bool:
        return self.can("approver") and (self.role == "admin" or self.channels is None or channel_id in self.channels)

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The channels this account may approve for (None: all), as scheduler.actions takes it."""
        return None if self.role == "admin" else self.channels


class Accounts:
    """Account and login-throttle tables on the store's engine (created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # -- accounts ----------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str | None, *, by: str, now: dt.datetime,
            channels: Collection[str] | None = None) -> Account:
        """A new account; without a password, none works until the person sets one through a
        one-time link (`invitation`)."""
        if password is None:
            password = secrets.token_urlsafe(32)  # never told to anyone
        name = name.strip()
        if not name or len(name) > 64 or any(c.isspace() for c in name):
            raise AccountError("a name is 1 to 64 characters without spaces")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        check_password(password)
        listed = sorted({c.strip() for c in channels or () if c.strip()}) or None
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise AccountError(f"an account named {name!r} exists already (remove it first, or pick another name)")
            conn.execute(insert(users).values(name=name, role=role, password_hash=_hasher.hash(password),
                                              channels=json.dumps(listed) if listed else None, session_epoch=0,
                                              created_at=to_db(now), created_by=by))
        return Account(name, role, tuple(listed) if listed else None, 0)

    def set_password(self, name: str, password: str) -> None:
        check_password(password)
        with self.engine.begin() as conn:
            done = conn.execute(update(users).where(users.c.name == name).values(
                password_hash=_hasher.hash(password), session_epoch=users.c.session_epoch + 1)).rowcount
        if not done:
            raise AccountError(f"no account named {name!r}")

    def remove(self, name: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(users).where(users.c.name == name)).rowcount == 1

    def get(self, name: str) -> Account | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self.engine.begin() as conn:
            return [_account(r) for r in conn.execute(select(users).order_by(users.c.name)).mappings()]

    def end_sessions(self, name: str) -> None:
        """Log the account out everywhere (its signed cookies carry the old epoch)."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name).values(session_epoch=users.c.session_epoch + 1))

    def verify(self, name: str, password: str) -> Account | None:
        """The account if the password is right; None otherwise (same work whether the name exists or not)."""
        with self.engine.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        try:
            _hasher.verify(row["password_hash"] if row else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row["password_hash"]):
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.name == name).values(password_hash=_hasher.hash(password)))
        return _account(row)

    def invitation(self, name: str, key: str) -> str:
        """A one-time token that lets the person set their password (valid INVITE_HOURS; used
        once, since setting the password moves the account's session epoch on)."""
        account = self.get(name)
        if account is None:
            raise AccountError(f"no account named {name!r}")
        return _invitations(key).dumps({"n": name, "e": account.session_epoch})

    def accept_invitation(self, token: str, key: str, password: str) -> Account:
        from itsdangerous import BadSignature

        try:
            data = _invitations(key).loads(token, max_age=INVITE_HOURS * 3600)
        except BadSignature:
            raise AccountError("this link is not valid or has expired: ask an admin for a new one") from None
        account = self.get(str(data.get("n")))
        if account is None or account.session_epoch != data.get("e"):
            raise AccountError("this link was used already: log in, or ask an admin for a new one")
        self.set_password(account.name, password)
        return account

    # -- login throttle ----------------------------------------------------------------------

    def blocked_for(self, keys: Collection[str], now: dt.datetime) -> dt.timedelta | None:
        """How long until another login may be tried for these keys, or None if it may now."""
        since = to_db(now - FAILURE_WINDOW)
        with self.engine.begin() as conn:
            rows = conn.execute(select(login_failures.c.key, func.count(), func.min(login_failures.c.at))
                                .where(login_failures.c.key.in_(list(keys)), login_failures.c.at > since)
                                .group_by(login_failures.c.key)).all()
        waits = [first + FAILURE_WINDOW - to_db(now) for _, count, first in rows if count >= MAX_FAILURES]
        return max(waits) if waits else None

    def record_failure(self, keys: Collection[str], now: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(login_failures), [dict(key=k, at=to_db(now)) for k in keys])
            conn.execute(delete(login_failures).where(login_failures.c.at < to_db(now - FAILURE_WINDOW)))

    def clear_failures(self, keys: Collection[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.key.in_(list(keys))))

    # -- the signing key ---------------------------------------------------------------------

    def signing_key(self) -> str:
        """The key that signs session cookies: made once, shared by every console on this store."""
        from sqlalchemy.exc import IntegrityError

        query = select(settings.c.value).where(settings.c.name == "signing_key")
        with self.engine.begin() as conn:
            found = conn.execute(query).scalar()
        if found:
            return found
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(settings).values(name="signing_key", value=secrets.token_urlsafe(48)))
        except IntegrityError:
            pass  # another console made it first: use theirs
        with self.engine.begin() as conn:
            return conn.execute(query).scalar_one()


def _invitations(key: str):  # type: ignore[no-untyped-def]
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(key, salt="eo-console-invitation")


def demo_account(store_url: str, name: str = "demo") -> tuple[str, str]:
    """An admin account with a fresh random password on a rehearsal store (what `demo` prints)."""
    from scheduler.store import Store

    store = Store(store_url)
    try:
        accounts = Accounts(store.engine)
        accounts.remove(name)
        password = secrets.token_urlsafe(9)
        accounts.add(name, "admin", password, by="demo", now=dt.datetime.now(dt.timezone.utc))
    finally:
        store.close()
    return name, password


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _account(row) -> Account:  # type: ignore[no-untyped-def]
    listed = json.loads(row["channels"]) if row["channels"] else None
    return Account(row["name"], row["role"], tuple(listed) if listed else None, row["session_epoch"])
