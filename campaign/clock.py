"""The clock is injected everywhere time decides something, so tests and the demo control it."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

UTC = dt.timezone.utc


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time (tests and the demo make this short)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to (tests). `sleep` advances it instantly."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, delta: dt.timedelta | float) -> dt.datetime:
        with self._lock:
            self._now += delta if isinstance(delta, dt.timedelta) else dt.timedelta(seconds=delta)
            return self._now

    def set(self, moment: dt.datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))


class ScaledClock:
    """Campaign time running `speed` times faster than real time from `start` (the demo's fast clock)."""

    def __init__(self, start: dt.datetime, speed: float, real: Clock | None = None) -> None:
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=(time.monotonic() - self._origin) * self._speed)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self._speed)
