"""Renders the desk starts: one background thread per console that runs the pipeline when asked.

An upload, a retry or "render again" asks for a render; the thread runs `render_all` on the
whole inbox (only what is missing or stale renders), recording every output's progress in
the store (`StoreRenderListener`, the same record the daemon's inbox job writes), so the
page shows queued, rendering with its percent, done or refused. Requests that arrive while
a render runs are folded into one more run. `render_lock` keeps it from rendering at the
same time as the daemon's inbox job on the same build folder.

With a render queue (`web --queue URL`), the thread renders nothing itself: it puts one job per
stale output on the queue, as `render --queue` and the daemon's inbox job do, and the page shows
the progress the render workers record (queued, rendering with its percent, done, refused).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable

from assets.manifest import Manifest
from assets.pipeline import render_all, render_lock
from campaign.calendar import load_calendar
from campaign.clock import Clock
from scheduler.render_queue.queue import dispatcher
from scheduler.store import Store
from scheduler.store.renders import StoreRenderListener


class BackgroundRenders:
    def __init__(self, calendar: Path, inbox: Path, build: Path, store: Store, clock: Clock, *, workers: int = 1,
                 log: Callable[[str], None] | None = None, queue: str | None = None) -> None:
        self.calendar, self.inbox, self.build = Path(calendar), Path(inbox), Path(build)
        self.queue = queue  # PostgreSQL URL of the render queue: jobs for render workers instead of rendering here
        self.store, self.clock, self.workers = store, clock, workers
        self.log = log or (lambda message: None)
        self._lock = threading.Lock()
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._forget: set[str] = set()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.runs = 0
        self.last_error: str | None = None
        self.variants = None  # frame sizes instead of the real ones (tests render tiny frames, as the pipeline's do)

    def request(self, forget: Iterable[str] = ()) -> None:
        """Render what is stale; `forget`: outputs rendered again even if up to date (re-render one variant)."""
        with self._lock:
            self._forget.update(forget)
            self._idle.clear()
            self._wanted.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="desk-renders", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """True once no render is asked for or running (tests and the CLI wait on it)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._wanted.set()

    def _loop(self) -> None:
        while not self._closed:
            self._wanted.wait()
            if self._closed:
                break
            with self._lock:
                self._wanted.clear()
                forget, self._forget = self._forget, set()
            try:
                self._render(forget)
            except Exception as error:  # noqa: BLE001 - a bad drop or calendar must not kill the thread
                self.last_error = f"{type(error).__name__}: {error}"
                self.log(f"render failed: {self.last_error}")
            with self._lock:
                if not self._wanted.is_set():
                    self._idle.set()

    def _render(self, forget: set[str]) -> None:
        loaded = load_calendar(self.calendar)
        with render_lock(self.build):
            if forget:
                forget_renders(self.build, forget)
            summary = render_all(loaded, self.inbox, self.build, workers=self.workers, settle_seconds=0.0,
                                 variants=self.variants, listener=StoreRenderListener(self.store, self.clock.now),
                                 dispatch=dispatcher(self.queue) if self.queue else None)
        self.runs += 1
        self.last_error = None
        if summary.rendered:
            self.store.record_assets(summary.rendered, self.clock.now())


def forget_renders(build: Path, outputs: Iterable[str]) -> None:
    """Make these outputs render again: forget their manifest entry (render or refusal). The file
    stays until the new render replaces it (atomically), so a post going out meanwhile has one."""
    manifest = Manifest.load(Path(build))
    for output in outputs:
        manifest.outputs.pop(output, None)
        manifest.refused.pop(output, None)
    manifest.save()
