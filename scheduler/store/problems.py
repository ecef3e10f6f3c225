"""What went wrong with the store, in one line a manager can act on (what, where, how to fix).

The store is a URL (`--db`, `$CAMPAIGN_DB_URL`), so its failures are input mistakes as often
as outages: a typo in the URL, a folder that does not exist, a file that is not a database,
a PostgreSQL database never created. `describe` turns the driver's exception into one line
with the URL's password masked; commands print it and exit `EXIT_STORE`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from campaign.errors import CampaignError
from campaign.secrets import MIN_SECRET_LENGTH
from scheduler.store.engine import sqlite_file

EXIT_STORE = 3  # the store cannot be opened or used (documented in the README's CLI table)


class StoreUnavailable(CampaignError):
    """The store cannot be opened or used; the message is one line: what, where, how to fix."""


def masked_url(url: str) -> str:
    """The URL with its password replaced by ***, whatever its shape (even unparseable)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is still shown, without what looks like a password
        return re.sub(r"(//[^:/@\s]*:)[^@/\s]*@", r"\1***@", url)


def is_store_error(error: BaseException) -> bool:
    """Whether `error` comes from the database layer (and so is the store's, not a bug)."""
    return isinstance(error, (SQLAlchemyError, sqlite3.Error, ArgumentError, NoSuchModuleError))


def is_transient(error: BaseException) -> bool:
    """A store error worth waiting out (locked, server restarting, connection dropped), as
    opposed to one that will not go away by itself (corrupt file, bad URL, no such database)."""
    text = _driver_text(error).lower()
    permanent = ("file is not a database", "malformed", "does not exist", "could not parse", "can't load plugin",
                 "unable to open database file", "readonly database", "no such table", "authentication failed",
                 "password authentication", "permission denied")
    return not any(words in text for words in permanent)


def describe(error: BaseException, url: str) -> str:
    """One line: what is wrong with the store at `url`, and how to fix it."""
    where = masked_url(url)
    text = _without_password(_driver_text(error), url)
    low = text.lower()
    if "could not parse" in low:
        return (f"store URL {where!r} is not a database URL — write it like sqlite:///campaign.db or "
                "postgresql+psycopg://user@host:5432/campaign (--db or $CAMPAIGN_DB_URL)")
    match = re.search(r"unsupported database kind '([^']+)'", text)
    if match:
        return (f"store URL {where}: unknown database kind {match.group(1)!r} — the store is SQLite or PostgreSQL: "
                "use sqlite:///FILE or postgresql+psycopg://user@host:5432/DBNAME (--db or $CAMPAIGN_DB_URL)")
    if "can't load plugin" in low:
        kind = url.split(":", 1)[0]
        return (f"store URL {where}: unknown database kind {kind!r} — use sqlite:///FILE or "
                "postgresql+psycopg://user@host:5432/DBNAME")
    if "unable to open database file" in low:
        return (f"store {where}: cannot open the database file (its folder does not exist or cannot be written) — "
                "create the folder or point --db at a writable place")
    if "file is not a database" in low or "malformed" in low:
        return (f"store {where}: the file is not a readable SQLite database (corrupt or truncated) — restore it "
                "from a backup, or move it aside and run `python run.py schedule` to start a new one")
    if ("readonly database" in low or "read-only" in low) and _on_read_only_filesystem(url):
        return (f"store {where}: the filesystem holding the database is read-only (the kernel remounts a failing "
                "disk read-only: see `dmesg`; or it was mounted so) — stop the daemon, repair the disk (umount, "
                "fsck, mount) and start it again; every post stays in the store")
    if "readonly database" in low or "read-only" in low:
        return (f"store {where}: the database is read-only — give this user write access to the file and its "
                "folder (SQLite writes a -wal file beside it), or use a writable copy")
    if "disk is full" in low:
        return (f"store {where}: the disk holding the database is full — free space on it (`df -h` shows which); "
                "every post stays in the store, nothing goes out until it can be written")
    if "disk i/o error" in low:  # what SQLite says for a full disk too, depending on the write that failed
        return (f"store {where}: the disk could not write the database (I/O error: full, or failing and remounted "
                "read-only by the kernel; `df -h` and `dmesg` say which) — free space on it, or stop the daemon, "
                "repair the disk (umount, fsck) and start it again; every post stays in the store")
    if "database is locked" in low or "busy" in low:
        return (f"store {where}: the database stayed locked by another process — wait for it to finish, "
                "or stop the other daemon or command using this store")
    match = re.search(r'database "([^"]+)" does not exist', text)
    if match:
        return (f"store {where}: PostgreSQL has no database {match.group(1)!r} — create it "
                f"(createdb {match.group(1)}) or fix the database name in the URL")
    if "connection refused" in low or "could not connect" in low or "connection failed" in low:
        return (f"store {where}: cannot reach the database server ({_first_line(text)}) — start it or fix "
                "the host and port in the URL")
    if "authentication failed" in low or "password" in low:
        return f"store {where}: the server refused the login — fix the user or password (in $CAMPAIGN_DB_URL, not a file in the repository)"
    return f"store {where}: {_first_line(text)} — check --db / $CAMPAIGN_DB_URL and that the database is reachable"


def _on_read_only_filesystem(url: str) -> bool:
    """Whether the SQLite file of `url` sits on a filesystem the kernel made or mounted read-only
    (ext4's `emergency_ro` after an error shows in /proc/self/mounts, not in statvfs)."""
    path = sqlite_file(url)
    if path is None:
        return False
    try:
        where = (path if path.exists() else path.parent).resolve()
        if os.statvfs(where).f_flag & os.ST_RDONLY:
            return True
        mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return False
    best = max((m for m in mounts if len(m) > 3 and where.is_relative_to(m[1].replace("\\040", " "))),
               key=lambda m: len(m[1]), default=None)
    return best is not None and bool({"ro", "emergency_ro"} & set(best[3].split(",")))


def _without_password(text: str, url: str) -> str:
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001
        password = None
    if not password:
        return text
    if len(password) >= MIN_SECRET_LENGTH:
        return text.replace(password, "***")
    # A short password is masked only where it stands alone: never inside words ("Can't load ***lugin")
    return re.sub(rf"(?<![^\W_]){re.escape(password)}(?![^\W_])", "***", text)


def _driver_text(error: BaseException) -> str:
    original = getattr(error, "orig", None)
    return str(original if original is not None else error)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "unknown error"
    line = re.sub(r"^\(?[\w.]+(Error|Exception)\)?\s*", "", line)
    return line[:200]
