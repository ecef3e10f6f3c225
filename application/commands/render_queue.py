"""`worker --queue URL`: a render worker, on this machine or any other that mounts the inbox and build folders."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from scheduler.render_queue.queue import RETRY_WAIT, QueueUnavailable
from scheduler.store.problems import EXIT_STORE

QueueOption = Annotated[str, typer.Option("--queue", help="PostgreSQL URL of the render queue (the store's database will do).")]


def worker(
    queue: QueueOption,
    db: Annotated[Optional[str], typer.Option("--db", help="Store that records render progress and rendered files "
                                                          "(default $CAMPAIGN_DB_URL, else the queue's database).")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Renders at once in this process (1: one ffmpeg; "
                                                                          "start one worker per core instead).")] = 1,
    stalled_after: Annotated[float, typer.Option("--stalled-after", min=1.0, help="Seconds without a heartbeat after which a "
                                                                                  "worker's job is handed to another.")] = 30.0,
    heartbeat: Annotated[float, typer.Option("--heartbeat", min=0.2, help="Seconds between this worker's heartbeats.")] = 10.0,
    retry_wait: Annotated[int, typer.Option("--retry-wait", min=1, help="Backoff base in seconds: a failed render is tried "
                                                                        "again after this, then its square.")] = RETRY_WAIT,
) -> None:
    """Render jobs from the queue until stopped (SIGTERM lets the render in flight finish)."""
    # imported when a worker starts: the worker's module imports procrastinate (0.15 s of CPU), which
    # every other command (and every CLI start) would pay
    from scheduler.render_queue.worker import run_worker

    try:
        run_worker(queue, db, concurrency=concurrency, stalled_after=stalled_after,
                   heartbeat=heartbeat, retry_wait=retry_wait)
    except QueueUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_STORE) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
