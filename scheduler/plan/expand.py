"""Moments to dated occurrences: a yearly moment happens once per year of the campaign."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaign.calendar.models import Calendar, Moment


@dataclass(frozen=True)
class Occurrence:
    """One occurrence of a moment, its days clipped to the campaign."""

    moment: Moment
    year: int  # the `occurrence` part of post ids: the year the occurrence starts in
    first: dt.date
    last: dt.date

    def days(self, until: dt.date | None = None) -> list[dt.date]:
        last = min(self.last, until) if until else self.last
        count = (last - self.first).days + 1
        return [self.first + dt.timedelta(days=i) for i in range(max(count, 0))]


def _shift(day: dt.date, years: int) -> dt.date:
    """Same day `years` later; 29 February becomes 28 February in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def occurrences(calendar: Calendar) -> list[Occurrence]:
    """Every occurrence inside the campaign, by first day then moment id (the planning order)."""
    start, end = calendar.campaign.start, calendar.campaign.end
    found: list[Occurrence] = []
    for moment in calendar.moments:
        if moment.recurrence == "yearly":
            offsets = range(start.year - moment.first_day.year - 1, end.year - moment.first_day.year + 1)
        else:
            offsets = range(0, 1)
        for offset in offsets:
            first, last = _shift(moment.first_day, offset), _shift(moment.last_day, offset)
            clipped_first, clipped_last = max(first, start), min(last, end)
            if clipped_first <= clipped_last:
                found.append(Occurrence(moment, first.year, clipped_first, clipped_last))
    return sorted(found, key=lambda o: (o.first, o.moment.id, o.year))
