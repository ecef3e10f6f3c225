"""Personal API tokens: made by `python run.py user token NAME`, shown once, kept only hashed.

A token is 256 random bits, so a plain SHA-256 of it is enough to keep (nothing to guess,
unlike a password: Argon2's cost would only slow every API call). A token carries no role of
its own: each call reads the person's account, so a role or channel change applies at once,
and a token of a removed account never works for a new account of the same name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine

from console.accounts import Account, Accounts, users
from scheduler.store.engine import create_tables
from scheduler.store.rows import from_db, to_db

#: Every token starts with this, so a leaked one is recognisable (and secret scanners can match it).
PREFIX = "eo_pat_"

metadata = MetaData()

api_tokens = Table(
    "console_api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, index=True),  # the account it acts as
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex of the whole token
    Column("hint", String(16), nullable=False),  # the first characters, to tell tokens apart in a list
    Column("account_created_at", DateTime, nullable=False),  # which account of that name (one removed and re-added is another)
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("last_used_at", DateTime),
)


class TokenError(ValueError):
    """A token cannot be made or revoked as asked; the message says why."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Tokens:
    """The token table on the store's engine (created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, metadata)

    def issue(self, name: str, *, by: str, now: dt.datetime) -> str:
        """A new token for the account `name` (its other tokens keep working): returned once, never stored."""
        Accounts(self.engine)  # the accounts table exists
        token = PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            born = conn.execute(select(users.c.created_at).where(users.c.name == name)).scalar()
            if born is None:
                raise TokenError(f"no account named {name!r} (add it first: python run.py user add {name} --role ...)")
            conn.execute(insert(api_tokens).values(name=name, token_hash=_digest(token), hint=token[:len(PREFIX) + 4],
                                                   account_created_at=born, created_at=to_db(now), created_by=by))
        return token

    def revoke(self, name: str) -> int:
        """Revoke every token of `name`; how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(delete(api_tokens).where(api_tokens.c.name == name)).rowcount

    def count(self, name: str) -> int:
        with self.engine.begin() as conn:
            return len(conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).all())

    def account_for(self, token: str, accounts: Accounts, now: dt.datetime | None = None) -> Account | None:
        """The account a presented token acts as, or None (unknown, revoked, or its account is gone or newer)."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = _digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.token_hash,
                                      api_tokens.c.account_created_at, api_tokens.c.last_used_at, users.c.created_at)
                               .join(users, users.c.name == api_tokens.c.name)
                               .where(api_tokens.c.token_hash == digest)).first()
            if row is None or not hmac.compare_digest(row[2], digest) or row[3] != row[5]:
                return None
            if now is not None and (row[4] is None or from_db(row[4]) < now - dt.timedelta(minutes=5)):
                conn.execute(update(api_tokens).where(api_tokens.c.id == row[0]).values(last_used_at=to_db(now)))
        return accounts.get(row[1])
