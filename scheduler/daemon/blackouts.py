"""Is a channel inside a blackout right now? Evaluated at publish time with the injected clock."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from campaign.calendar.models import Blackout, Calendar
from scheduler.plan.timing import local_instant


def blackout_window(blackout: Blackout, default_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The blackout as aware (UTC) datetimes; naive times are in its own zone, else the campaign's."""
    zone = ZoneInfo(blackout.timezone or default_zone)
    # The planner's rule for local times (a bound inside a DST gap moves forward), so the daemon
    # holds exactly the instants the plan avoided.
    return local_instant(blackout.start, zone), local_instant(blackout.end, zone)


def active_blackout(calendar: Calendar, channel_id: str, at: dt.datetime) -> Blackout | None:
    for blackout in calendar.blackouts:
        if not blackout.applies_to(channel_id):
            continue
        start, end = blackout_window(blackout, calendar.campaign.timezone)
        if start <= at < end:
            return blackout
    return None


def blacked_out_channels(calendar: Calendar | None, at: dt.datetime) -> dict[str, str]:
    """Channel id -> blackout reason, for every channel silenced at `at`."""
    if calendar is None:
        return {}
    found = {}
    for channel in calendar.channels:
        blackout = active_blackout(calendar, channel.id, at)
        if blackout is not None:
            found[channel.id] = blackout.reason
    return found


def first_blackout_end(calendar: Calendar | None, at: dt.datetime) -> dt.datetime | None:
    """When the earliest blackout active at `at` ends (the daemon wakes up then), or None."""
    if calendar is None:
        return None
    ends = [end for blackout in calendar.blackouts
            for start, end in [blackout_window(blackout, calendar.campaign.timezone)] if start <= at < end]
    return min(ends, default=None)
