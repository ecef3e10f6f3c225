"""Open the database: a URL from `--db`, `CAMPAIGN_DB_URL`, or `sqlite:///campaign.db`.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
`BEGIN IMMEDIATE`, so a claim (read-then-update) is one atomic step between processes;
except on `reads_only(engine)`, for reads that write nothing (the console's pages): those
begin DEFERRED and read their snapshot of the WAL without the write lock.
Every commit is flushed to disk before it returns (`synchronous=FULL`): a claim or a
"create sent" allows a network call and "published" records one, so none may be lost when
the machine or its disk fails after the call (with NORMAL, a disk the kernel remounted
read-only rolled the store back to `schedule`, and published posts went out again).
PostgreSQL's defaults (`fsync`, `synchronous_commit=on`) already flush every commit.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from campaign.secrets import MASK, configured_secrets

DEFAULT_URL = "sqlite:///campaign.db"
ENV_URL = "CAMPAIGN_DB_URL"
BUSY_TIMEOUT_MS = 30_000


def resolve_url(url: str | None) -> str:
    """The option wins over the environment, which wins over the default file."""
    return url or os.environ.get(ENV_URL) or DEFAULT_URL


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, in-memory and URI-style names)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:" \
            or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


SUPPORTED = ("sqlite", "postgresql")


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """An engine configured for concurrent daemons on SQLite or PostgreSQL (any other kind is
    refused here, before SQLAlchemy imports a driver that is not installed)."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        backend = None  # create_engine says what is wrong with the URL
    if backend is not None and backend not in SUPPORTED:
        raise ArgumentError(f"unsupported database kind {backend!r}")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_setup(engine)
    else:
        connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    _never_store_secrets(engine)
    return engine


#: The execution option `reads_only` sets (see `_sqlite_setup`).
READS_ONLY = "store_reads_only"


def reads_only(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read. On SQLite they begin DEFERRED:
    `BEGIN IMMEDIATE` takes the one write lock, so every read waited for every other read and
    write in turn, in SQLite's busy handler (sleeps of 1, 2, 5, 10, 15... ms): with 50 clients
    loading the calendar, a 3 ms live poll took 30-90 ms (issue 23). A read in WAL mode needs no
    lock; a deferred transaction that writes may fail with SQLITE_BUSY, so nothing that writes
    may use this engine. PostgreSQL transactions are unchanged."""
    return engine.execution_options(**{READS_ONLY: True})


#: PostgreSQL advisory lock held while tables are made: processes opening a new store at the same moment
#: (render workers or `web` processes started together on a fresh database) otherwise both CREATE TABLE,
#: and the second fails on the catalogue's unique index. An arbitrary number ("camp").
CREATE_LOCK = 0x63616D70


@contextlib.contextmanager
def one_creator(engine: Engine) -> Iterator[None]:
    """One process at a time makes tables on a PostgreSQL store (SQLite's file lock does it already);
    the lock goes with the session, so a process killed meanwhile does not keep it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({CREATE_LOCK})")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({CREATE_LOCK})")


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """`metadata.create_all`, one process at a time (`one_creator`): every table set made on first use."""
    with one_creator(engine):
        metadata.create_all(engine)


def _never_store_secrets(engine: Engine) -> None:
    """Every text the store writes passes here: a configured secret that reached an error
    message (a server echoing the request) is masked before it is stored, whatever the path."""
    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _scrub(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip()[:6].upper() not in ("INSERT", "UPDATE"):
            return statement, parameters  # a read stores nothing (and the console's pages are reads)
        secrets = configured_secrets()  # once per statement: a sync writes thousands of values
        if not secrets:
            return statement, parameters

        def clean(value):  # type: ignore[no-untyped-def]
            if isinstance(value, str):
                for secret in secrets:
                    if secret in value:
                        value = value.replace(secret, MASK)
            return value

        def clean_set(params):  # type: ignore[no-untyped-def]
            if isinstance(params, dict):
                return {k: clean(v) for k, v in params.items()}
            if isinstance(params, (list, tuple)):
                return type(params)(clean(v) for v in params)
            return params

        if executemany:
            return statement, [clean_set(p) for p in parameters]
        return statement, clean_set(parameters)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # let us emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=FULL")  # see the module docstring; cost: bench/bench_durable.py
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN" if connection.get_execution_options().get(READS_ONLY) else "BEGIN IMMEDIATE")
