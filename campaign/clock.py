"""The clock is injected everywhere time decides something, so tests and the demo control it."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Protocol

from campaign.errors import CampaignError

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
    """Campaign time running `speed` times faster than real time from `start` (the demo's fast clock).

    A rehearsal steers it: `leap_to` jumps over the weeks in which nothing is due, and
    `hold_at` stops the clock at the next due post until the daemon has published it, so
    the real seconds a publish takes do not turn into campaign hours of lateness."""

    def __init__(self, start: dt.datetime, speed: float) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware datetime")
        if speed <= 0:
            raise ValueError("ScaledClock needs a positive speed")
        self.speed = float(speed)
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()
        self._limit: dt.datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            current = self._start + dt.timedelta(seconds=(time.monotonic() - self._origin) * self.speed)
            if self._limit is not None and current > self._limit:
                self._start, self._origin = self._limit, time.monotonic()  # wait there, do not run on
                return self._limit
            return current

    def hold_at(self, moment: dt.datetime | None) -> None:
        """Let the clock run up to `moment` and wait there (None: run freely); never goes back."""
        current = self.now()
        with self._lock:
            self._limit = max(moment.astimezone(UTC), current) if moment is not None else None

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds) / self.speed)

    def leap_to(self, moment: dt.datetime) -> bool:
        """Jump forward to `moment` (never back); True if the clock moved."""
        with self._lock:
            current = self._start + dt.timedelta(seconds=(time.monotonic() - self._origin) * self.speed)
            if self._limit is not None:
                current = min(current, self._limit)
            if moment <= current:
                return False
            self._start, self._origin = moment.astimezone(UTC), time.monotonic()
            if self._limit is not None and self._limit < self._start:
                self._limit = self._start  # a hold below the target would pull the clock back at the next now()
            return True


def real_seconds(clock: Clock, campaign_seconds: float) -> float:
    """How long `campaign_seconds` of this clock's time take in real time (wake-ups, leases)."""
    return campaign_seconds / float(getattr(clock, "speed", 1.0))


class FileClock:
    """Campaign time shared by several processes (the fault harness: daemons, emulators and
    the harness itself read one clock). A small JSON file holds `start` (campaign time),
    `origin` (Unix time when it was `start`) and `speed`; every process computes the same
    `now()` from it, and whoever rewrites the file (`leap_to`) moves every process at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp: int | None = None
        self._start = dt.datetime.now(UTC)
        self._origin = time.time()
        self.speed = 1.0
        self._lock = threading.Lock()
        self._load()

    @classmethod
    def create(cls, path: str | Path, start: dt.datetime, speed: float) -> "FileClock":
        write_clock_file(Path(path), start, speed)
        return cls(path)

    def _load(self) -> None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except OSError:
            return  # keep the last reading (a rewrite is an atomic rename)
        if stamp == self._stamp:
            return
        data = json.loads(self.path.read_text(encoding="utf-8"))
        with self._lock:
            self._start = dt.datetime.fromisoformat(data["start"]).astimezone(UTC)
            self._origin = float(data["origin"])
            self.speed = float(data["speed"])
            self._stamp = stamp

    def now(self) -> dt.datetime:
        self._load()
        with self._lock:
            return self._start + dt.timedelta(seconds=(time.time() - self._origin) * self.speed)

    def sleep(self, seconds: float) -> None:
        self._load()
        time.sleep(max(0.0, seconds) / self.speed)

    def leap_to(self, moment: dt.datetime) -> bool:
        """Jump every process's clock forward to `moment` (never back); True if it moved."""
        if moment <= self.now():
            return False
        write_clock_file(self.path, moment, self.speed)
        self._load()
        return True


def write_clock_file(path: Path, start: dt.datetime, speed: float) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"start": start.astimezone(UTC).isoformat(), "origin": time.time(), "speed": speed}),
                   encoding="utf-8")
    os.replace(tmp, path)


#: The variables that set the campaign clock of a rehearsal (never of real posts).
CLOCK_VARIABLES = ("CAMPAIGN_CLOCK_START", "CAMPAIGN_CLOCK_SPEED", "CAMPAIGN_CLOCK_FILE")


class ClockSettingError(CampaignError):
    """A campaign-clock variable is malformed, or set where the clock decides real posts."""


def make_clock(*, real_posts: bool = False, env: Mapping[str, str] = os.environ) -> Clock:
    """System time, or the campaign clock: from CAMPAIGN_CLOCK_START (+ CAMPAIGN_CLOCK_SPEED), or
    shared by several processes through the file CAMPAIGN_CLOCK_FILE (the fault harness). A
    malformed value raises `ClockSettingError` with a message that says how to fix it.

    Where the clock decides real posts (`real_posts`: the daemon outside --sandbox/--emulators,
    schedule on a real store) these variables are refused, never ignored: they would move when
    real posts go out and the time they carry (Bluesky's createdAt)."""
    present = [name for name in CLOCK_VARIABLES if env.get(name)]
    if present and real_posts:
        raise ClockSettingError(
            f"{' and '.join(present)} {'is' if len(present) == 1 else 'are'} set, but the campaign clock only runs "
            "in a rehearsal: on real accounts it would publish at the wrong time and date the posts falsely. "
            f"Unset {' and '.join(present)}, or rehearse with `python run.py daemon --sandbox`.")
    shared = env.get("CAMPAIGN_CLOCK_FILE")
    if shared:
        return FileClock(shared)
    start = env.get("CAMPAIGN_CLOCK_START")
    speed = env.get("CAMPAIGN_CLOCK_SPEED")
    if speed and not start:  # never silently the real time at real speed
        raise ClockSettingError(f"CAMPAIGN_CLOCK_SPEED={speed!r} is set without CAMPAIGN_CLOCK_START: the campaign clock "
                                "needs the time it starts from — add e.g. CAMPAIGN_CLOCK_START=2027-05-09T06:55:00+02:00, "
                                "or unset CAMPAIGN_CLOCK_SPEED")
    return _scaled_clock(start, speed or "1") if start else SystemClock()


def _scaled_clock(start: str, speed_text: str) -> ScaledClock:
    try:
        moment = dt.datetime.fromisoformat(start.strip())
    except ValueError:
        raise ClockSettingError(f"CAMPAIGN_CLOCK_START={start!r} is not a date and time — write it like "
                                "2027-05-09T06:55:00+02:00 (or unset it to use the real time)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        speed = float(speed_text)
        if not 0 < speed < float("inf"):
            raise ValueError
    except ValueError:
        raise ClockSettingError(f"CAMPAIGN_CLOCK_SPEED={speed_text!r} is not a positive number — write how many campaign "
                                "seconds pass per real second, e.g. 60") from None
    return ScaledClock(moment, speed)


# -- the clock a store lives on (issue 23: one clock per store, and every view says which) ----------

@dataclass(frozen=True)
class ClockAnchor:
    """Where a campaign clock stood: campaign time `campaign` at real time `real`, running `speed`
    times faster than real time from there (0: stopped, its daemon ended). Whoever reads a store a
    daemon runs on the campaign clock computes the same campaign time from it."""

    campaign: dt.datetime
    real: dt.datetime
    speed: float
    purpose: str = "rehearsal"

    def at(self, real_now: dt.datetime) -> dt.datetime:
        return self.campaign + (real_now - self.real) * self.speed

    def now(self) -> dt.datetime:
        return self.at(dt.datetime.now(UTC))


def anchor_of(clock: Clock, purpose: str = "rehearsal") -> ClockAnchor | None:
    """The anchor of a campaign clock (`ScaledClock`, `FileClock`) as it reads now; None for any
    other clock (the real one, a test's `FakeClock`)."""
    if isinstance(clock, (ScaledClock, FileClock)):
        return ClockAnchor(clock.now(), dt.datetime.now(UTC), clock.speed, purpose)
    return None


def describe_clock(anchor: ClockAnchor | None, now: dt.datetime) -> str:
    """What every view prints about its time: "campaign clock: 2027-03-14 09:00 UTC (x3600,
    rehearsal)", "campaign clock: ... (stopped, rehearsal ended)" or "real clock: ...". """
    shown = f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if anchor is None:
        return f"real clock: {shown}"
    if anchor.speed <= 0:
        return f"campaign clock: {shown} (stopped: {anchor.purpose} ended)"
    return f"campaign clock: {shown} (x{anchor.speed:g}, {anchor.purpose})"
