"""The collection pass: read the figures of published posts at their set ages.

Rules (issue "Results"): collection never delays publishing — a pass does nothing while a post is
due (publishing goes first), runs beside the dispatcher on its own publishers, and stops at its
time budget; figures are appended, never overwritten; a platform error is logged and the
collection tried again later, it never touches the post's state; a platform's rate limit pauses
collection on that channel only, until the time the platform gave.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from campaign.calendar.models import Calendar
from campaign.clock import Clock
from scheduler.platforms.base import Publisher, PublishError, RateLimited
from scheduler.daemon.logs import EventLog
from scheduler.platforms.figures import Figures, FiguresNotGiven
from scheduler.platforms.registry import collector_for
from scheduler.results.store import DEFAULT_AGES, DueCollection, ResultsStore, age_label
from scheduler.store import Store

PublisherFactory = Callable[[str], Publisher]
#: first retry after an error, doubled each time, at most a day
RETRY_BASE = dt.timedelta(minutes=15)
RETRY_MAX = dt.timedelta(days=1)


@dataclass
class CollectReport:
    collected: list[str] = field(default_factory=list)  # "post_id@age"
    not_given: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    scheduled: int = 0
    deferred: str | None = None  # why the pass did nothing (a post is due)

    def summary(self) -> str:
        if self.deferred:
            return f"deferred: {self.deferred}"
        return (f"{len(self.collected)} collected, {len(self.not_given)} not given by the platform, "
                f"{len(self.retrying)} to retry, {self.scheduled} new collections scheduled")


def ages_from_calendar(calendar: Calendar | None) -> Callable[[str], Sequence[tuple[str, int]]]:
    """The ages of a channel: its `results.ages` in the calendar, else 1 h, 24 h, 7 d, 30 d
    (worked out once per calendar, not once per post)."""
    by_channel = {c.id: tuple((age_label(a.total_seconds()), int(a.total_seconds())) for a in c.results.ages)
                  for c in (calendar.channels if calendar else [])}
    return lambda channel_id: by_channel.get(channel_id) or DEFAULT_AGES


class Collector:
    def __init__(self, store: Store, clock: Clock, publishers: PublisherFactory, *, calendar: Calendar | None = None,
                 log: EventLog | None = None, per_pass: int = 100, budget_seconds: float = 20.0,
                 publishing_due: Callable[[dt.datetime], bool] | None = None) -> None:
        self.results = ResultsStore(store)
        self.store = store
        self.clock = clock
        self.publishers = publishers
        self.calendar = calendar
        self.log = log or EventLog()
        self.per_pass = per_pass
        self.budget_seconds = budget_seconds
        self.publishing_due = publishing_due or self._post_due

    def _post_due(self, now: dt.datetime) -> bool:
        due = self.store.next_due_at()
        return due is not None and due <= now

    def run_once(self) -> CollectReport:
        report = CollectReport()
        now = self.clock.now()
        if self.publishing_due(now):
            report.deferred = "a post is due; publishing goes first"
            return report
        started = time.monotonic()
        ages = ages_from_calendar(self.calendar)
        report.scheduled = self.results.schedule_new(ages)
        while self.results.more_to_schedule and time.monotonic() - started < self.budget_seconds:
            if self.publishing_due(self.clock.now()):
                report.deferred = "a post is due; publishing goes first"
                return report
            report.scheduled += self.results.schedule_new(ages)
        limited: dict[str, dt.datetime] = {}
        for item in self.results.due(now, limit=self.per_pass):
            if time.monotonic() - started > self.budget_seconds or self.publishing_due(self.clock.now()):
                break  # the rest waits for the next pass
            if item.channel_id in limited:
                self.results.retry_later(item, limited[item.channel_id], "collection paused on this channel by a rate limit")
                report.retrying.append(f"{item.post_id}@{item.age}")
                continue
            self._collect_one(item, report, limited)
        if report.collected or report.not_given or report.retrying:
            self.log.event("collected", report.summary())
        return report

    def _collect_one(self, item: DueCollection, report: CollectReport, limited: dict[str, dt.datetime]) -> None:
        key = f"{item.post_id}@{item.age}"
        collect = collector_for(item.platform)
        now = self.clock.now()
        if collect is None or not item.remote_id:
            self.results.record(item, now, Figures(raw={}, not_given=f"{item.platform} gives no figures"))
            report.not_given.append(key)
            return
        try:
            result = collect(self.publishers(item.channel_id), item.remote_id, item.media_kind)
        except FiguresNotGiven as error:
            result = Figures(raw={"error": str(error)}, not_given=str(error))
        except RateLimited as error:
            until = now + dt.timedelta(seconds=max(1.0, error.retry_after))
            limited[item.channel_id] = until
            self.results.retry_later(item, until, str(error))
            report.retrying.append(key)
            self.log.event("collect_rate_limited", str(error), post_id=item.post_id, channel=item.channel_id,
                           until=until.isoformat())
            return
        except PublishError as error:
            delay = min(RETRY_BASE * (2 ** item.tries), RETRY_MAX)
            self.results.retry_later(item, now + delay, str(error))
            report.retrying.append(key)
            self.log.event("collect_error", f"{error} — trying again in {delay}", post_id=item.post_id, channel=item.channel_id)
            return
        self.results.record(item, self.clock.now(), result)
        (report.not_given if result.not_given else report.collected).append(key)
