"""The render queue: procrastinate on PostgreSQL, one job per output file.

Why procrastinate (README, "Render workers"): the store already runs on PostgreSQL, so the
queue adds no component; a job is a row, acknowledged only when the worker writes its end
(a killed worker's job stays `doing` and is handed to another once the worker's heartbeat
stops); `lock=` makes one output one lock (two jobs for the same file never render at once);
`queueing_lock=` keeps one waiting job per output; retries with exponential backoff are a
strategy of the task. The manifest (which inputs made each file) stops a second render of
the same inputs, and is written under a file lock beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import psycopg

from assets.manifest import Manifest
from assets.worker import SourceTask
from campaign.errors import CampaignError
from scheduler.render_queue.payload import encode, split
from scheduler.store import Store
from scheduler.store.engine import ENV_URL
from scheduler.store.problems import masked_url
from scheduler.store.renders import StoreRenderListener

if TYPE_CHECKING:
    import procrastinate

QUEUE = "renders"
TASK = "render_output"
MAX_TRIES = 3  # a source that kills ffmpeg this many times is refused with the reason
RETRY_WAIT = 10  # seconds: the second try waits 10 s, the third 100 s (exponential backoff)
SCHEMA_LOCK = 0x45_4F_52_51  # "EORQ": one process at a time installs the queue's tables


class QueueUnavailable(CampaignError):
    """The queue's database cannot be reached or used; the message says what to check."""


def conninfo(url: str) -> str:
    """The libpq URL of a queue URL (SQLAlchemy's `postgresql+psycopg://` is accepted too)."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    if not url.startswith("postgresql://"):
        raise QueueUnavailable(f"--queue {url!r}: the render queue lives in PostgreSQL — give a postgresql://USER@HOST/DB URL "
                               "(the store's database will do)")
    return url


def make_app(url: str, task: Callable[..., Any] | None = None, *, retry_wait: int = RETRY_WAIT) -> procrastinate.App:
    """A procrastinate app on the queue at `url`; with `task`, the worker's render function registered on it."""
    import procrastinate  # on first use (0.15 s of CPU): every daemon and CLI process imports this module, few queue

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(url)))
    app.task(name=TASK, queue=QUEUE, pass_context=True,
             retry=procrastinate.RetryStrategy(max_attempts=MAX_TRIES - 1, exponential_wait=retry_wait,
                                               retry_exceptions=[RetryRender]))(task or _enqueue_only)
    return app


def _enqueue_only(*_args: Any, **_kwargs: Any) -> None:  # pragma: no cover - only workers run jobs
    raise RuntimeError("this process only puts render jobs on the queue; `python run.py worker` renders them")


class RetryRender(Exception):
    """This try failed in a way another try may not (ffmpeg crashed, the machine, the database)."""


def prepare(url: str) -> None:
    """Install the queue's tables in the database once (any number of processes may ask at once)."""
    import procrastinate  # on first use: see make_app

    try:
        with psycopg.connect(conninfo(url), autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
            try:
                if conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:  # type: ignore[index]
                    conn.execute(procrastinate.schema.SchemaManager.get_schema())  # type: ignore[arg-type]
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    except psycopg.Error as error:
        raise QueueUnavailable(f"render queue {masked_url(url)}: {str(error).strip().splitlines()[0]} — check that the "
                               "PostgreSQL server runs and the URL is right") from None


def dispatcher(url: str) -> Callable[[list[SourceTask], Manifest], list[dict[str, Any]]]:
    """The `dispatch` of `render_all`: one job per output on the queue at `url`, instead of rendering here."""

    def dispatch(tasks: list[SourceTask], manifest: Manifest) -> list[dict[str, Any]]:
        manifest.save_merged(manifest_lock(manifest))
        return enqueue(url, [one for task in tasks for one in split(task)])

    return dispatch


def enqueue(url: str, tasks: list[SourceTask]) -> list[dict[str, Any]]:
    """Put each one-output task on the queue; an output already waiting there is not queued twice."""
    from procrastinate import exceptions as queue_errors  # on first use: see make_app

    prepare(url)
    entries = []
    app = make_app(url)
    try:
        with app.open():
            for task in tasks:
                job = task.specs[0].job
                entry = {"output": job.output, "source": job.source, "testimonial": job.testimonial_id,
                         "variant": job.variant.name, "language": job.language, "kind": job.kind}
                try:
                    entry["job_id"] = app.tasks[TASK].configure(lock=job.output, queueing_lock=job.output).defer(payload=encode(task))
                    entry["reason"] = "queued for a render worker"
                except queue_errors.AlreadyEnqueued:
                    entry["reason"] = "already waiting on the queue"
                entries.append(entry)
    except (psycopg.Error, queue_errors.ConnectorException) as error:
        raise QueueUnavailable(f"render queue {masked_url(url)}: {str(error).strip().splitlines()[0]} — check that the "
                               "PostgreSQL server runs, then run `render --queue` again (nothing is lost: outputs "
                               "not queued are still stale)") from None
    return entries


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.lockf(handle, fcntl.LOCK_EX)  # POSIX record lock: NFS (v3 lockd, v4) honours it between machines
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)


def manifest_lock(manifest: Manifest) -> contextlib.AbstractContextManager[None]:
    """The lock every writer of this build folder's manifest takes (a file beside it, on the shared mount)."""
    return _file_lock(manifest.path.parent / ".manifest.lock")


def progress_store_url(queue_url: str, db: str | None = None) -> str:
    """Where queue renders record progress: `--db`, else $CAMPAIGN_DB_URL, else the queue's own database."""
    return db or os.environ.get(ENV_URL) or queue_url


@contextlib.contextmanager
def queue_listener(queue_url: str, db: str | None = None) -> Iterator[StoreRenderListener]:
    """The listener `render --queue` reports to: outputs it puts on the queue show as queued in the console."""
    store = Store(progress_store_url(queue_url, db))
    try:
        yield StoreRenderListener(store)
    finally:
        store.close()
