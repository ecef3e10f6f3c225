"""`python run.py worker --queue URL`: render jobs from the queue until stopped, on any machine.

Each job is one output file. A worker skips a file the manifest already records for the same
inputs (never rendered twice in a row), renders it with the local pipeline's code (the output
appears by an atomic rename, never half written), records it in the manifest under the lock
every worker takes, and reports progress to the store the console reads. A failed ffmpeg is
retried with backoff; after MAX_TRIES the output is refused with the reason, in the manifest
(so `render --queue` does not queue it again for the same inputs) and in the progress record.
A worker killed mid-render leaves its job `doing`; when its heartbeat stops, any other worker
hands the job back to the queue (procrastinate's stalled-job query) and it renders again.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors

from assets.manifest import Manifest
from assets.needs import RenderJob
from assets.pipeline import ProgressRelay, RenderSummary, collect, tell_listener
from assets.progress import RenderListener
from assets.worker import run_source
from scheduler.render_queue.payload import decode
from scheduler.render_queue.queue import (MAX_TRIES, QUEUE, RETRY_WAIT, RetryRender, make_app, manifest_lock, prepare,
                                          progress_store_url)
from scheduler.store import Store
from scheduler.store.problems import masked_url
from scheduler.store.renders import StoreRenderListener

SWEEP_SECONDS = 5.0  # how often a worker looks for the jobs of workers that stopped beating (at most)


class RenderRefused(Exception):
    """The output is refused for good (after MAX_TRIES, or a source that can never render): the job fails."""


@dataclass
class WorkerSetup:
    """What each job of this worker process needs besides its payload."""

    listener: RenderListener
    store: Store | None
    name: str
    log: Callable[[str], None]


def render_output(context: procrastinate.JobContext, payload: dict[str, Any]) -> str:
    """The queue's task: render one output file (see the module docstring for every outcome)."""
    setup: WorkerSetup = context.additional_context["setup"]
    task = decode(payload)
    spec = task.specs[0]
    job = spec.job
    tries = (context.job.attempts or 0) + 1
    manifest = Manifest.load(task.out)  # written atomically: reading needs no lock
    if manifest.is_current(job.output, spec.input_key, task.out):
        setup.listener.done(job)
        setup.log(f"up to date  {job.output}")
        return "up to date"
    refused = manifest.refusal(job.output, spec.input_key)
    if refused is not None:
        setup.listener.refused(job, refused["reason"])
        return "refused before: " + refused["reason"]
    if tries > MAX_TRIES:  # every try so far ended with its worker killed
        _refuse(setup, manifest, task.out, job, spec.input_key, f"{job.source}: {MAX_TRIES} tries ended with the worker "
                f"killed mid-render — check the source plays, then export it again")
    started = time.monotonic()
    result = run_source(replace(task, progress=ProgressRelay(setup.listener, task), threads=1))
    if result.retryable:
        reason = result.source_error or result.crash or "the render failed"
        if tries < MAX_TRIES:
            setup.listener.queued([job])
            setup.log(f"try {tries} failed  {job.output}: {reason} — retried with backoff")
            raise RetryRender(reason)
        _refuse(setup, manifest, task.out, job, spec.input_key, f"{reason} (refused after {tries} tries)")
    summary = RenderSummary()
    collect(summary, manifest, result, task.source.parent, move=False)  # the inbox is shared: nothing is moved
    if result.source_error:  # refused for these inputs: `render --queue` reports it instead of queueing it again
        manifest.refuse(job.output, spec.input_key, result.source_error, "rejected")
    manifest.save_merged(manifest_lock(manifest))
    tell_listener(setup.listener, result)
    if summary.rendered and setup.store is not None:
        try:
            setup.store.record_assets(summary.rendered)
        except Exception as error:  # noqa: BLE001 - the file and manifest are there; the next render or inbox pass records it
            setup.log(f"could not record {job.output} in the store: {error}")
    outcome = "rendered" if summary.rendered else "refused: " + "; ".join(e["reason"] for e in summary.rejected + summary.errors)
    setup.log(f"{outcome}  {job.output} ({time.monotonic() - started:.1f} s, try {tries})")
    return outcome


def _refuse(setup: WorkerSetup, manifest: Manifest, out: Path, job: RenderJob, key: str, reason: str) -> None:
    manifest.refuse(job.output, key, reason, "rejected")
    manifest.save_merged(manifest_lock(manifest))
    (out / job.output).unlink(missing_ok=True)  # an older render must never be published in its place
    setup.listener.refused(job, reason)
    setup.log(f"REFUSED  {job.output}: {reason}")
    raise RenderRefused(reason)


def run_worker(url: str, store_url: str | None = None, *, concurrency: int = 1, stalled_after: float = 30.0,
               heartbeat: float = 10.0, retry_wait: int = RETRY_WAIT, poll: float = 5.0,
               log: Callable[[str], None] | None = None) -> None:
    """Serve the queue until SIGTERM/SIGINT (the job in flight finishes first). A lost database
    connection is waited out: the worker reconnects, and its unfinished job is handed on."""
    log = log or _stderr
    prepare(url)
    name = f"{socket.gethostname()}:{os.getpid()}"
    store = Store(progress_store_url(url, store_url))
    listener = StoreRenderListener(store, worker=name, on_error=lambda error: log(f"progress not recorded: {error}"))
    setup = WorkerSetup(listener, store, name, log)
    app = make_app(url, render_output, retry_wait=retry_wait)
    log(f"worker {name} serving the render queue {masked_url(url)}")
    try:
        asyncio.run(_serve(app, setup, concurrency=concurrency, stalled_after=stalled_after, heartbeat=heartbeat, poll=poll))
    finally:
        store.close()


async def _serve(app: procrastinate.App, setup: WorkerSetup, *, concurrency: int, stalled_after: float, heartbeat: float,
                 poll: float) -> None:
    while True:
        try:
            async with app.open_async():
                sweeper = asyncio.create_task(_hand_on_stalled(app, stalled_after, setup.log))
                try:
                    await app.run_worker_async(
                        queues=[QUEUE], concurrency=concurrency, name=setup.name, additional_context={"setup": setup},
                        update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                        fetch_job_polling_interval=poll, abort_job_polling_interval=poll)
                    return  # stopped by a signal
                finally:
                    sweeper.cancel()
        except (queue_errors.ConnectorException, psycopg.Error, OSError) as error:
            setup.log(f"queue database unreachable ({str(error).strip().splitlines()[0] if str(error) else type(error).__name__}); "
                      "reconnecting in 2 s")
            await asyncio.sleep(2)


async def _hand_on_stalled(app: procrastinate.App, stalled_after: float, log: Callable[[str], None]) -> None:
    """Put back on the queue the jobs of workers whose heartbeat stopped (killed, machine gone)."""
    every = max(0.5, min(SWEEP_SECONDS, stalled_after / 2))
    while True:
        await asyncio.sleep(every)
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                try:
                    await app.job_manager.retry_job(job)
                    log(f"handed on  job {job.id} of a worker that stopped beating")
                except queue_errors.ConnectorException:
                    pass  # another worker handed it on first
        except (queue_errors.ConnectorException, psycopg.Error, OSError):
            pass  # the database is away: the worker's own loop reconnects


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
