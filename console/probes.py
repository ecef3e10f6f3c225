"""The answers polled all day, served on the event loop without a worker thread (issue 23: with
50 people loading the calendar, /healthz took 0.45 s and /live 0.70 s at p95).

`StoreWatch`: one background thread per console asks the store once a second whether it answers,
while someone probes; the health check answers from that reading (never more than a few seconds
old). An idle console's thread ends by itself.

`Coalesced`: identical page requests (same page, same account) share one render, as long as that
render began after they arrived: nobody sees a page older than their request, and 50 clients
reloading the calendar cost a few renders instead of 50.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Hashable

import anyio
from anyio.lowlevel import RunVar

from console.offload import off_loop


@dataclass(frozen=True)
class Reading:
    ok: bool
    took_ms: float  # the health query's time
    at: float  # time.monotonic() of the reading


class StoreWatch:
    """Calls `ping()` every `every` seconds on a thread of its own, from the first `latest()` until
    nobody asked for `idle` seconds."""

    def __init__(self, ping: Callable[[], None], *, every: float = 1.0, fresh: float = 2.5, idle: float = 30.0) -> None:
        self.ping = ping
        self.every, self.fresh, self.idle = every, fresh, idle
        self._reading: Reading | None = None
        self._asked = time.monotonic()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def latest(self) -> Reading | None:
        """The last reading if it is fresh (never blocks); None: ask the store yourself."""
        self._asked = time.monotonic()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="console-store-watch", daemon=True)
                self._thread.start()
        reading = self._reading
        return reading if reading is not None and time.monotonic() - reading.at <= self.fresh else None

    def _run(self) -> None:
        while time.monotonic() - self._asked < self.idle:
            started = time.monotonic()
            try:
                self.ping()
                took = 1000 * (time.monotonic() - started)
                self._reading = Reading(True, took, time.monotonic())
            except Exception:  # noqa: BLE001 - a watch reports, it does not raise
                self._reading = Reading(False, 0.0, time.monotonic())
            time.sleep(max(0.0, self.every - (time.monotonic() - started)))
        self._reading = None  # an idle console's next probe asks the store itself


@dataclass
class _Flight:
    started: float
    done: anyio.Event
    result: Any = None
    ok: bool = False


class Coalesced:
    """`await run(key, make)`: `make()` in a page thread, shared by every request with the same key
    that arrived before it began (so none gets a page older than itself)."""

    def __init__(self) -> None:
        # per event loop: a render is awaited only by requests of the loop it runs for
        self._loop_flights: RunVar[dict[Hashable, _Flight]] = RunVar(f"coalesced-{id(self)}")
        self.renders = 0  # how many `make()` ran (the tests read it)

    @property
    def _flights(self) -> dict[Hashable, _Flight]:
        try:
            return self._loop_flights.get()
        except LookupError:  # the first request of this event loop
            flights: dict[Hashable, _Flight] = {}
            self._loop_flights.set(flights)
            return flights

    async def run(self, key: Hashable, make: Callable[[], Any]) -> Any:
        arrived = time.monotonic()
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._fly(key, make)
            await flight.done.wait()
            if flight.ok and flight.started >= arrived:
                return flight.result
            # it began before this request arrived (it may miss a change made since), or failed: again

    async def _fly(self, key: Hashable, make: Callable[[], Any]) -> Any:
        flight = _Flight(time.monotonic(), anyio.Event())
        self._flights[key] = flight
        try:
            self.renders += 1
            flight.result = await off_loop(make)
            flight.ok = True
            return flight.result
        finally:
            del self._flights[key]
            flight.done.set()
