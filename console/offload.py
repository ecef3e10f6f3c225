"""Work that must not run on the event loop: database queries, templates, scrubbing big pages.

One slow page (a big store, a busy disk) would otherwise hold up every other request of the
process, the health check and the live polls included (issue 23: /healthz took 14.8 s while
100 calendars loaded). Pages share PAGE_THREADS worker threads; more would only queue for
the interpreter's lock, and the quick answers (health check, live poll, session lookups),
which run in threads of their own, would wait behind them.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import anyio
from anyio.lowlevel import RunVar

PAGE_THREADS = 2
QUICK_THREADS = 8
_limiters: RunVar[dict[bool, anyio.CapacityLimiter]] = RunVar("console_threads")


async def off_loop(func: Callable[..., Any], *args: Any, quick: bool = False) -> Any:
    """`func(*args)` in a worker thread: pages share PAGE_THREADS threads, `quick` work its own
    QUICK_THREADS (per event loop), so a health check never queues behind pages."""
    try:
        limiters = _limiters.get()
    except LookupError:  # the first request of this event loop
        limiters = {False: anyio.CapacityLimiter(PAGE_THREADS), True: anyio.CapacityLimiter(QUICK_THREADS)}
        _limiters.set(limiters)
    return await anyio.to_thread.run_sync(functools.partial(func, *args), limiter=limiters[quick])
