"""The daemon's one job, free of APScheduler: reconcile dead claims, mark missed posts,
claim each due post and publish it, turning every outcome into a state.

The order inside `publish_claim` is what makes "never twice" hold: the claim (state
publishing, lease, attempt row) is committed before the network call, and the remote id is
committed right after it. A claim left behind by a dead daemon is never blindly retried.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from campaign.calendar.models import Calendar
from campaign.clock import Clock
from scheduler.channels.base import (
    AuthError,
    OutcomeUnknown,
    PermanentError,
    Publisher,
    RateLimited,
    TransientError,
)
from scheduler.daemon.backoff import RetryPolicy
from scheduler.daemon.blackouts import blacked_out_channels
from scheduler.daemon.crash import crash_point
from scheduler.daemon.logs import EventLog
from scheduler.daemon.outgoing import MediaNotReady, to_outgoing
from scheduler.store import Claim, Store, StoredPost, new_worker_id, states

PublisherFactory = Callable[[str], Publisher]


@dataclass
class DispatchConfig:
    lease_seconds: float = 900.0  # a publish (uploads, processing) must finish within this
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    build_dir: Path = Path("build")
    actor: str = "daemon"


@dataclass
class PassReport:
    published: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)


class Dispatcher:
    """Publishes what is due according to `clock.now()`; safe to run in several processes."""

    def __init__(self, store: Store, clock: Clock, publishers: PublisherFactory, *, calendar: Calendar | None = None,
                 worker: str | None = None, config: DispatchConfig | None = None, log: EventLog | None = None,
                 rng: Callable[[], float] = random.random) -> None:
        self.store = store
        self.clock = clock
        self.publishers = publishers
        self.calendar = calendar
        self.worker = worker or new_worker_id()
        self.config = config or DispatchConfig()
        self.log = log or EventLog()
        self.rng = rng
        self._lock = threading.Lock()  # one pass at a time inside this process

    # -- passes ------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> PassReport:
        """Reconcile, mark missed, then publish every post due now (until `stop` is set)."""
        with self._lock:
            report = PassReport()
            self.reconcile(report)
            self.mark_missed(report)
            self.dispatch(report, stop)
            return report

    def mark_missed(self, report: PassReport) -> None:
        for post in self.store.mark_missed(self.clock.now()):
            report.missed.append(post.id)
            refreshed = self.store.get(post.id)
            self.log.event("missed", refreshed.state_reason if refreshed else "", post_id=post.id,
                           channel=post.channel_id, state=states.MISSED)

    def dispatch(self, report: PassReport, stop: threading.Event | None = None) -> None:
        while stop is None or not stop.is_set():
            now = self.clock.now()
            silenced = blacked_out_channels(self.calendar, now)
            claim = self.store.claim_next(self.worker, now, lease_seconds=self.config.lease_seconds,
                                          skip_channels=silenced)
            if claim is None:
                return
            self.publish_claim(claim, report)

    # -- one publish -----------------------------------------------------------------------------

    def publish_claim(self, claim: Claim, report: PassReport) -> None:
        post = claim.post
        self.log.event("claimed", post_id=post.id, channel=post.channel_id, state=states.PUBLISHING,
                       attempt=post.attempts, worker=self.worker)
        crash_point("claimed")
        now = self.clock.now()
        if post.grace_ends < now:  # it waited too long (e.g. a long rate limit)
            self._finish(claim, report.missed, state=states.MISSED, outcome="missed", error=None,
                         message=f"missed: the channel's grace window ended at {post.grace_ends:%Y-%m-%d %H:%M} UTC")
            return
        try:
            outgoing = to_outgoing(post, build_dir=self.config.build_dir, media_base_url=self._media_base_url(post))
            publisher = self.publishers(post.channel_id)
            result = publisher.publish(outgoing)
        except MediaNotReady as error:
            self._transient(claim, report, error, "media")
        except RateLimited as error:
            until = self.clock.now() + dt.timedelta(seconds=error.retry_after)
            self.store.rate_limit(post.channel_id, until)
            self._finish(claim, report.retrying, state=states.RETRY_WAIT, outcome="rate_limited", error=error,
                         message=f"rate limited by {post.platform}: waiting {error.retry_after:g} s until "
                                 f"{until:%Y-%m-%d %H:%M:%S} UTC ({error})", next_attempt_at=until)
        except TransientError as error:
            self._transient(claim, report, error, "transient")
        except PermanentError as error:
            self._finish(claim, report.failed, state=states.FAILED, outcome="permanent", error=error,
                         message=f"{post.platform} refused the post: {error}")
        except AuthError as error:
            self._auth(claim, report, error)
        except OutcomeUnknown as error:
            self._finish(claim, report.unknown, state=states.UNKNOWN, outcome="unknown", error=error,
                         message=f"unknown, check: {error} — look at {post.platform} account {post.account} "
                                 f"and run `python run.py resolve --post {post.id} --published|--not-published`")
        except Exception as error:  # noqa: BLE001 - anything else may have happened after sending: hold it
            self._finish(claim, report.unknown, state=states.UNKNOWN, outcome="unknown", error=error,
                         message=f"unknown, check: unexpected {type(error).__name__} during the publish ({error}); "
                                 f"it may have gone out — look at {post.platform} account {post.account}")
        else:
            crash_point("created")
            self.store.record_published(claim, self.clock.now(), result.remote_id, result.url,
                                        before_commit=lambda: crash_point("before_store"))
            report.published.append(post.id)
            self.log.event("published", post_id=post.id, channel=post.channel_id, state=states.PUBLISHED,
                           remote_id=result.remote_id, url=result.url)

    def _media_base_url(self, post: StoredPost) -> str | None:
        lookup = getattr(self.publishers, "media_base_url", None)
        if lookup is not None:
            return lookup(post.channel_id)
        if self.calendar is None:
            return None
        try:
            return self.calendar.channel(post.channel_id).api.media_base_url
        except StopIteration:
            return None

    def _transient(self, claim: Claim, report: PassReport, error: Exception, outcome: str) -> None:
        post = claim.post
        failures = post.transient_failures + 1
        policy = self.config.retry
        if failures >= policy.max_failures:
            self._finish(claim, report.failed, state=states.FAILED, outcome=outcome, error=error, transient=True,
                         message=f"gave up after {failures} attempts: {error}")
            return
        wait = policy.delay(failures, self.rng)
        until = self.clock.now() + dt.timedelta(seconds=wait)
        self._finish(claim, report.retrying, state=states.RETRY_WAIT, outcome=outcome, error=error, transient=True,
                     next_attempt_at=until,
                     message=f"{error} — retry {failures + 1} of {policy.max_failures} in {wait:.0f} s")

    def _auth(self, claim: Claim, report: PassReport, error: AuthError) -> None:
        post = claim.post
        reason = (f"re-authorise the {post.platform} account {post.account} (channel {post.channel_id}), "
                  f"then run `python run.py resume --channel {post.channel_id}`: {error}")
        self.store.pause(post.channel_id, reason, self.config.actor, self.clock.now())
        forget = getattr(self.publishers, "forget", None)
        if forget is not None:  # the next publisher reads the renewed credentials
            forget(post.channel_id)
        back = states.APPROVED if post.needs_approval else states.DUE
        self._finish(claim, report.retrying, state=back, outcome="auth", error=error, message=reason)
        self.log.event("channel_paused", reason, channel=post.channel_id)

    def _finish(self, claim: Claim, bucket: list[str], *, state: str, outcome: str, error: Exception | None,
                message: str, next_attempt_at: dt.datetime | None = None, transient: bool = False) -> None:
        self.store.record_outcome(claim, self.clock.now(), state=state, outcome=outcome,
                                  error_class=type(error).__name__ if error else None, message=message,
                                  next_attempt_at=next_attempt_at, transient=transient)
        bucket.append(claim.post.id)
        self.log.event(outcome, message, post_id=claim.post.id, channel=claim.post.channel_id, state=state,
                       next_attempt_at=next_attempt_at.isoformat() if next_attempt_at else None)

    # -- reconciling after a crash --------------------------------------------------------------

    def reconcile(self, report: PassReport) -> None:
        """Posts a dead daemon left in `publishing`: ask the platform, or hold for a human."""
        now = self.clock.now()
        for stale in self.store.expired_claims(now, own_worker=self.worker):
            claim = self.store.take_over(stale, self.worker, now, lease_seconds=self.config.lease_seconds)
            if claim is None:
                continue
            self._reconcile_one(claim, stale.claimed_by or "?", report)

    def _reconcile_one(self, claim: Claim, dead: str, report: PassReport) -> None:
        post = claim.post
        try:
            publisher = self.publishers(post.channel_id)
            if not publisher.can_find_existing:
                raise OutcomeUnknown(f"{post.platform} cannot tell whether it was published")
            outgoing = to_outgoing(post, build_dir=self.config.build_dir, media_base_url=self._media_base_url(post))
            found = publisher.find_existing(outgoing)
        except Exception as error:  # noqa: BLE001 - whatever went wrong, never guess: hold it
            self._finish(claim, report.unknown, state=states.UNKNOWN, outcome="unknown", error=error,
                         message=f"unknown, check: the daemon ({dead}) stopped during this publish and {error} — "
                                 f"look at {post.platform} account {post.account}, then run `python run.py resolve "
                                 f"--post {post.id} --published|--not-published`")
            return
        if found is not None:
            self.store.record_published(claim, self.clock.now(), found.remote_id, found.url, outcome="reconciled",
                                        message=f"found on {post.platform} after the daemon stopped mid-publish")
            report.reconciled.append(post.id)
            self.log.event("reconciled", "found on the platform: published", post_id=post.id,
                           channel=post.channel_id, state=states.PUBLISHED, remote_id=found.remote_id)
            return
        back = states.APPROVED if post.needs_approval else states.DUE
        self._finish(claim, report.reconciled, state=back, outcome="not_found",
                     error=None, message=f"the daemon stopped mid-publish and {post.platform} has no such post: "
                                         "it will be published now")
