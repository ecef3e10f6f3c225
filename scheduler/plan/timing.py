"""Local posting slots to exact instants, and the slot allocator of one channel.

Daylight-saving rule (on purpose, not by accident):

* A slot is a wall-clock time in the channel's zone: 09:00 Europe/Brussels is 08:00 UTC in
  winter and 07:00 UTC in summer.
* A slot that does not exist (spring forward: 02:30 Europe/Brussels on the last Sunday of
  March) moves to the first valid instant after the gap (03:00 local, the moment the clocks
  jump) and the post carries a warning saying so.
* A slot that happens twice (fall back: 02:30 Europe/Brussels on the last Sunday of October)
  takes the first occurrence (``fold=0``, still summer time), and the post carries a warning
  saying so.

Blackouts are written as naive local times in the blackout's own `timezone:` or else the
campaign's; their bounds are resolved by the same rule as slots (`local_instant`: a bound in a
gap moves forward to the jump, an ambiguous one takes the first occurrence), so a blackout
from 02:30 to 03:15 on the night clocks go forward covers 03:00-03:15, the time a 02:30 slot
moves to. They are compared as UTC instants, so a blackout in Brussels also blocks an
embassy in Tokyo at the same instant.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from campaign.calendar.models import Blackout, Channel

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Slot:
    """One resolved slot: the instant, its local time and a DST note when it was moved."""

    local: dt.datetime  # aware, channel zone
    utc: dt.datetime  # aware, UTC
    note: str | None = None


def resolve_local(day: dt.date, wall: dt.time, zone: ZoneInfo) -> Slot:
    """The instant of wall-clock `wall` on `day` in `zone`, following the module's DST rule."""
    naive = dt.datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0)
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        second = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if second != utc:  # the wall time happens twice (clocks go back): the first one is taken
            local = utc.astimezone(zone)
            note = (f"{wall:%H:%M} happens twice on {day:%Y-%m-%d} in {zone.key} (clocks go back) — "
                    f"posted at the first {wall:%H:%M} ({local:%Z}, UTC{local:%z}), not the second")
            return Slot(local, utc, note)
        return Slot(utc.astimezone(zone), utc)
    # `naive` falls in a gap: find the instant the clocks jump (first local time after it).
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)  # read with the offset after the jump
    high = utc  # read with the offset before the jump
    if low > high:
        low, high = high, low
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) > naive:
            high = middle
        else:
            low = middle
    moved = high.replace(microsecond=0)
    if moved.astimezone(zone).replace(tzinfo=None) <= naive:
        moved += dt.timedelta(seconds=1)
    local = moved.astimezone(zone)
    note = (
        f"{wall:%H:%M} does not exist on {day:%Y-%m-%d} in {zone.key} (clocks go forward) — "
        f"posted at {local:%H:%M} local instead"
    )
    return Slot(local, moved, note)


@dataclass(frozen=True)
class Window:
    """A blackout as a UTC interval [start, end)."""

    start: dt.datetime
    end: dt.datetime
    reason: str

    def contains(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end


def blackout_windows(blackouts: list[Blackout], channel_id: str, campaign_zone: str) -> list[Window]:
    """The blackouts that apply to a channel, as UTC intervals."""
    windows = []
    for blackout in blackouts:
        if not blackout.applies_to(channel_id):
            continue
        zone = ZoneInfo(blackout.timezone or campaign_zone)
        windows.append(Window(local_instant(blackout.start, zone), local_instant(blackout.end, zone), blackout.reason))
    return windows


def local_instant(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A calendar date-time (naive: local to `zone`) as a UTC instant, by the slots' DST rule.

    Used for blackout bounds by the planner and by the daemon, so both agree with where slots land.
    """
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return resolve_local(value.date(), value.time(), zone).utc


@dataclass
class ChannelBook:
    """What is already booked on one channel: keeps spacing and the daily cap across moments."""

    channel: Channel
    windows: list[Window]
    times: list[dt.datetime] = field(default_factory=list)  # sorted UTC instants
    per_day: dict[dt.date, int] = field(default_factory=dict)  # local date -> posts

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.channel.timezone)

    def why_not(self, slot: Slot) -> str | None:
        """None if a post can go at `slot`, else the reason: "blackout", "cap" or "spacing"."""
        for window in self.windows:
            if window.contains(slot.utc):
                return "blackout"
        if self.per_day.get(slot.local.date(), 0) >= self.channel.daily_cap:
            return "cap"
        index = bisect.bisect_left(self.times, slot.utc)
        spacing = self.channel.min_spacing
        if index < len(self.times) and self.times[index] - slot.utc < spacing:
            return "spacing"
        if index > 0 and slot.utc - self.times[index - 1] < spacing:
            return "spacing"
        return None

    def book(self, slot: Slot) -> None:
        bisect.insort(self.times, slot.utc)
        day = slot.local.date()
        self.per_day[day] = self.per_day.get(day, 0) + 1

    def blocking_window(self, slot: Slot) -> Window | None:
        return next((w for w in self.windows if w.contains(slot.utc)), None)


@dataclass(frozen=True)
class Placement:
    """Where a post went, or why it could not go anywhere in its days."""

    slot: Slot | None
    skipped_blackouts: tuple[Window, ...] = ()
    reasons: dict[str, int] = field(default_factory=dict)


def place(book: ChannelBook, days: list[dt.date], preferred: int = 0, deadline: dt.datetime | None = None) -> Placement:
    """Book the first free slot, trying days from `days[preferred]` onwards, then earlier days.

    Spreading over a range: the caller passes a different `preferred` day to each post of a
    multi-day moment, so five languages over five days do not all land on day one. No slot at
    or after `deadline` (UTC; the end of consent) is taken.
    """
    order = days[preferred:] + days[:preferred][::-1]
    reasons: dict[str, int] = {}
    skipped: list[Window] = []
    for day in order:
        for wall in book.channel.slots:
            slot = resolve_local(day, wall, book.zone)
            if slot.local.date() != day:
                continue  # a gap at midnight pushed it to the next day: not this day's slot
            why = "consent" if deadline is not None and slot.utc >= deadline else book.why_not(slot)
            if why is None:
                book.book(slot)
                return Placement(slot, tuple(dict.fromkeys(skipped)), reasons)
            reasons[why] = reasons.get(why, 0) + 1
            if why == "blackout":
                window = book.blocking_window(slot)
                if window is not None:
                    skipped.append(window)
    return Placement(None, tuple(dict.fromkeys(skipped)), reasons)
