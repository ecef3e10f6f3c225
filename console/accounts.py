"""The console's accounts, kept in the store beside the posts they act on.

Passwords are hashed with Argon2id (argon2-cffi, its default parameters). Roles are one
table (`ROLE_TABLE`): a viewer sees, an approver also approves and sends back (on every
channel, or on the channels the account lists), an admin has every role's rights and also
pauses, resumes, settles and manages accounts. A new role is one more row.

Each account has two random ids, made when it is created: `uid` (for its whole life) and
`session_key` (replaced to end every session and one-time link of the account). Cookies and
links carry the session key, so none of them works for an account removed and added again
under the same name, even if it is an admin now.

Failed logins are recorded in the store too, so the rate limit holds across restarts and
across several console processes on one store.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import (
    Column, DateTime, Integer, MetaData, String, Table, Text, delete, func, insert, inspect, select, text, update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from console.sessions import same
from scheduler.store import Store
from scheduler.store.engine import one_creator, reads_only
from scheduler.store.known import known_ids, unknown_message
from scheduler.store.rows import to_db



@dataclass(frozen=True)
class Role:
    """A row of the role table: the role's name, the roles whose rights it also has ("*":
    every role's), and what it may do, in the words the accounts page and CLI show."""

    name: str
    includes: tuple[str, ...]
    summary: str


#: The roles, least to most (the order menus show). Others add theirs as one more row.
ROLE_TABLE: dict[str, Role] = {role.name: role for role in (
    Role("viewer", (), "sees the calendar, operations, results and the audit trail"),
    Role("approver", ("viewer",), "also approves and sends back posts (on the channels listed, or all)"),
    Role("editor", ("viewer",), "also proposes and edits moments of the channels listed (or all), and quotes and "
                                "alt text in those channels' languages; approvers approve"),
    Role("designer", ("viewer",), "also uploads media, renders it again and approves media (never posts; "
                                  "changes the calendar only by assigning a file to a testimonial)"),
    Role("admin", ("*",), "has every role's rights, and pauses, resumes, settles and manages accounts"),
)}


def role_names() -> tuple[str, ...]:
    return tuple(ROLE_TABLE)


def rights(role: str) -> frozenset[str]:
    """Every role whose rights `role` has (itself included), following the table's `includes`."""
    found: set[str] = set()
    todo = [role]
    while todo:
        name = todo.pop()
        if name == "*":
            todo.extend(r for r in ROLE_TABLE if r not in found)
        elif name in ROLE_TABLE and name not in found:
            found.add(name)
            todo.extend(ROLE_TABLE[name].includes)
    return frozenset(found)


#: The role names as a tuple, for templates and messages (read once at import: use role_names() in code).
ROLES = role_names()
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
    Column("session_epoch", Integer, nullable=False, default=0),  # before session_key; kept so old stores open
    Column("uid", String(64)),  # random, for the account's whole life (NULL only in a store made before it)
    Column("session_key", String(64)),  # random, replaced to end every session and link of the account
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
    uid: str  # random, the account's for its whole life: a new account of the same name has another
    session_key: str  # random; replaced to end every session and one-time link of the account

    def can(self, role: str) -> bool:
        """Has this account `role`'s rights (its own role's row in ROLE_TABLE says which)?"""
        return role in rights(self.role)

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
        self.reads = reads_only(engine)  # `get`, asked by every request: no write lock (engine.reads_only)
        with one_creator(engine):
            metadata.create_all(engine)
            _add_random_ids(engine)

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
        check_role(role)
        check_password(password)
        listed = _channel_list(channels)
        uid, key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise AccountError(f"an account named {name!r} exists already (change its role with "
                                   f"`user role {name} ROLE`, or pick another name)")
            conn.execute(insert(users).values(name=name, role=role, password_hash=_hasher.hash(password),
                                              channels=json.dumps(listed) if listed else None, session_epoch=0,
                                              uid=uid, session_key=key, created_at=to_db(now), created_by=by))
        return Account(name, role, tuple(listed) if listed else None, uid, key)

    def set_role(self, name: str, role: str, channels: Collection[str] | None = None) -> tuple[Account, Account]:
        """Give the account another role (and channels: none listed, every channel); returns
        (before, after). Its sessions go on: every request reads the role afresh."""
        check_role(role)
        listed = _channel_list(channels)
        before = self.get(name)
        if before is None:
            raise AccountError(f"no account named {name!r}")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name, users.c.uid == before.uid).values(
                role=role, channels=json.dumps(listed) if listed else None))
        after = self.get(name)
        if after is None:
            raise AccountError(f"no account named {name!r}")
        return before, after

    def set_password(self, name: str, password: str, *, session_key: str | None = None) -> None:
        """A new password; every session and one-time link of the account ends. With
        `session_key`, only if the account still has that key (a link is used once)."""
        check_password(password)
        where = [users.c.name == name] + ([users.c.session_key == session_key] if session_key else [])
        with self.engine.begin() as conn:
            done = conn.execute(update(users).where(*where).values(
                password_hash=_hasher.hash(password), session_key=secrets.token_urlsafe(24))).rowcount
        if not done:
            raise AccountError(f"no account named {name!r}" if not session_key else
                               "this link was used already: log in, or ask an admin for a new one")

    def remove(self, name: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(users).where(users.c.name == name)).rowcount == 1

    def get(self, name: str) -> Account | None:
        with self.reads.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self.engine.begin() as conn:
            return [_account(r) for r in conn.execute(select(users).order_by(users.c.name)).mappings()]

    def end_sessions(self, name: str) -> None:
        """Log the account out everywhere (its signed cookies and links carry the old key)."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.name == name).values(session_key=secrets.token_urlsafe(24)))

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
        once, since setting the password replaces the account's session key)."""
        account = self.get(name)
        if account is None:
            raise AccountError(f"no account named {name!r}")
        return _invitations(key).dumps({"n": name, "k": account.session_key})

    def accept_invitation(self, token: str, key: str, password: str) -> Account:
        try:
            data = _invitations(key).loads(token, max_age=INVITE_HOURS * 3600)
        except BadSignature:
            raise AccountError("this link is not valid or has expired: ask an admin for a new one") from None
        account = self.get(str(data.get("n"))) if isinstance(data, dict) else None
        if account is None or not isinstance(data.get("k"), str) or \
                not same(account.session_key, data["k"]):
            raise AccountError("this link was used already: log in, or ask an admin for a new one")
        self.set_password(account.name, password, session_key=account.session_key)
        return account

    # -- login throttle ----------------------------------------------------------------------

    def blocked_for(self, keys: Collection[str], now: dt.datetime, allowed: int = MAX_FAILURES) -> dt.timedelta | None:
        """How long until another login may be tried for these keys (`allowed` failures in the
        window are allowed), or None if it may now."""
        since = to_db(now - FAILURE_WINDOW)
        with self.engine.begin() as conn:
            rows = conn.execute(select(login_failures.c.key, func.count(), func.min(login_failures.c.at))
                                .where(login_failures.c.key.in_(list(keys)), login_failures.c.at > since)
                                .group_by(login_failures.c.key)).all()
        waits = [first + FAILURE_WINDOW - to_db(now) for _, count, first in rows if count >= allowed]
        return max(waits) if waits else None

    def begin_attempt(self, keys: Collection[str], now: dt.datetime) -> tuple[list[int], dt.timedelta | None]:
        """Count a login attempt as failed before its password is checked, so attempts made at
        the same moment on several consoles see each other; then ([its rows], None), or
        ([], how long to wait) if the keys had MAX_FAILURES already (the attempt not counted)."""
        with self.engine.begin() as conn:
            rows = [conn.execute(insert(login_failures).values(key=k, at=to_db(now)).returning(login_failures.c.id))
                    .scalar_one() for k in keys]
        wait = self.blocked_for(keys, now, allowed=MAX_FAILURES + 1)
        if wait is not None:
            self._forget(rows)
        return ([], wait) if wait is not None else (rows, None)

    def succeeded(self, attempt: Collection[int], keys: Collection[str]) -> None:
        """The attempt's password was right: it is no failure, and `keys` (the name) start afresh."""
        self._forget(attempt)
        self.clear_failures(keys)

    def _forget(self, rows: Collection[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.id.in_(list(rows))))

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

    return URLSafeTimedSerializer(key, salt="eo-console-invitation")


def demo_account(store_url: str, name: str = "demo") -> tuple[str, str]:
    """An admin account with a fresh random password on a rehearsal store (what `demo` prints)."""
    store = Store(store_url)
    try:
        accounts = Accounts(store.engine)
        accounts.remove(name)
        password = secrets.token_urlsafe(9)
        accounts.add(name, "admin", password, by="demo", now=dt.datetime.now(dt.timezone.utc))
    finally:
        store.close()
    return name, password


def change_role(store: Store, accounts: Accounts, name: str, role: str, channels: Collection[str] | None, *,
                by: str, now: dt.datetime, calendar: Path | None = None) -> str:
    """Give `name` another role (the console's accounts page and `user role` both call this):
    channel ids are checked against the store and calendar, the change is audited; returns
    the sentence to show."""
    listed = _channel_list(channels)
    if listed:
        known = known_ids(store, calendar).channels
        for channel in listed:
            message = unknown_message("channel", channel, known, f"the store {store.shown_url}"
                                      + (f" or {calendar}" if calendar is not None and calendar.is_file() else ""))
            if message:
                raise AccountError(message)
    before, after = accounts.set_role(name, role, listed)

    def shown(account: Account) -> str:
        return account.role + (f" for {', '.join(account.channels)}" if account.channels else "")

    store.add_audit(now, by, "user-role", name, f"{shown(before)} -> {shown(after)}")
    return f"{name} is now {shown(after)} (was {shown(before)})"


def check_role(role: str) -> None:
    if role not in ROLE_TABLE:
        raise AccountError(f"role must be one of {', '.join(ROLE_TABLE)}, not {role!r}")


def _channel_list(channels: Collection[str] | None) -> list[str] | None:
    return sorted({c.strip() for c in channels or () if c.strip()}) or None


def _add_random_ids(engine: Engine) -> None:
    """Stores made before accounts had random ids get the columns, and each account its ids
    (which ends the sessions of that time: they carried a counter)."""
    present = {c["name"] for c in inspect(engine).get_columns(users.name)}
    for column in ("uid", "session_key"):
        if column not in present:
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"ALTER TABLE {users.name} ADD COLUMN {column} VARCHAR(64)"))
            except DBAPIError:  # another console on this store added it a moment ago
                pass
    with engine.begin() as conn:
        for (name,) in conn.execute(select(users.c.name).where((users.c.uid.is_(None)) | (users.c.session_key.is_(None)))).all():
            conn.execute(update(users).where(users.c.name == name).values(uid=secrets.token_urlsafe(24),
                                                                          session_key=secrets.token_urlsafe(24)))


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def _account(row) -> Account:  # type: ignore[no-untyped-def]
    listed = json.loads(row["channels"]) if row["channels"] else None
    return Account(row["name"], row["role"], tuple(listed) if listed else None, row["uid"], row["session_key"])
