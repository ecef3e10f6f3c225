"""The daemon's notify job: queue the digests due, deliver what is queued, log each outcome.

The `daemon` command hands it to the daemon (`Daemon.add_job`), which runs it on its own
schedule beside the dispatcher: a slow SMTP server or a failing webhook delays only this job,
never a post.
"""

from __future__ import annotations

from typing import Any, Callable

from campaign.clock import Clock
from scheduler.notify.digest import compose
from scheduler.notify.outbox import Outbox
from scheduler.notify.transports import DeliveryError, send_email, send_webhook
from scheduler.store import Store

#: How often the daemon runs it (seconds): digests go out within minutes of what they tell.
INTERVAL = 30.0


class NotifyJob:
    def __init__(self, store: Store, clock: Clock, calendar: Callable[[], Any], log: Any) -> None:
        """`calendar()`: the daemon's current calendar (its `notifications:` section), or None."""
        self.store = store
        self.clock = clock
        self.calendar = calendar
        self.log = log
        self.outbox = Outbox(store)

    def run_once(self) -> None:
        calendar = self.calendar()
        settings = getattr(calendar, "notifications", None)
        if settings is None:
            return
        for queued in compose(self.store, calendar, self.clock.now(), self.outbox):
            self.log.event("digest_queued", queued.subject, to=queued.recipient, approvals=queued.approvals,
                           failures=queued.failures)
        self.deliver(settings)

    def deliver(self, settings: Any) -> None:
        for notice in self.outbox.due(self.clock.now()):
            try:
                if notice["medium"] == "email":
                    if settings.email is None:
                        raise DeliveryError("no SMTP server: add notifications.email to the calendar")
                    send_email(settings.email, notice["target"], notice["subject"], notice["body"])
                else:
                    send_webhook(notice["target"], notice["subject"], notice["body"])
            except DeliveryError as error:
                tries, retry = self.outbox.mark_failed(notice["id"], self.clock.now(), str(error))
                if retry is None:
                    self.log.event("notify_gave_up", f"{error}; gave up after {tries} tries", to=notice["target"])
                else:
                    self.log.event("notify_failed", f"{error}; try {tries}, next at {retry:%H:%M:%S} UTC",
                                   to=notice["target"])
                continue
            self.outbox.mark_sent(notice["id"], self.clock.now())
            self.log.event("notified", notice["subject"], medium=notice["medium"], to=notice["target"])
