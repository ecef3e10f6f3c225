"""The daemon's one job, free of APScheduler: reconcile dead claims, mark missed posts,
claim each due post and publish it, turning every outcome into a state.

The order inside `publish_claim` is what makes "never twice" hold: the claim (state
publishing, lease, attempt row) is committed before the network call; every remote object
a publish creates goes into the post's ledger of steps the moment it exists, "create sent"
just before the creating request, and the remote id right after the answer. A claim left
behind by a dead daemon is never blindly retried, and an answer that went missing is never
blindly re-sent: the ledger says whether the create went out, and the platform is asked
(or the post held for a person) before anything is sent again.

Channels publish independently: each channel with due posts gets a worker thread that
drains that channel, so a slow or hanging request on one never delays another. Slow
platform work (video processing, Instagram containers) is a state, `processing`, that a
later pass continues from the ledger. The lease of every publish in flight is renewed
while it lives; a daemon that finds its claim taken over says so and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait as wait_for
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from campaign.calendar.models import Calendar
from campaign.clock import Clock, real_seconds
from scheduler.platforms.base import (
    CREATE_ANSWERED,
    CREATE_SENT,
    CREATED,
    AuthError,
    ClaimLost,
    OutcomeUnknown,
    OutgoingPost,
    Pending,
    ReconnectNeeded,
    PermanentError,
    Publisher,
    PublishResult,
    RateLimited,
    StepLedger,
    TransientError,
)
from scheduler.daemon.backoff import RetryPolicy
from scheduler.daemon.blackouts import blacked_out_channels
from scheduler.daemon.crash import crash_point
from scheduler.daemon.logs import EventLog
from scheduler.daemon.outgoing import MediaNotReady, to_outgoing
from scheduler.media_links import MediaLinks, PlainLinks
from scheduler.store import Claim, Store, StoredPost, new_worker_id, states
from scheduler.store.media_approvals import MediaApprovals, hold_reason

PublisherFactory = Callable[[str], Publisher]


class TokenGate(Protocol):
    """The channels' token renewal as the dispatcher sees it (scheduler.connections.renew.Renewer,
    handed in by whoever builds the daemon): renew before a publish if the token is at its end,
    and once after a 401 that a renewal can cure."""

    def before_publish(self, channel_id: str) -> None: ...

    def after_refusal(self, channel_id: str, error: AuthError) -> bool: ...


@dataclass
class DispatchConfig:
    lease_seconds: float = 900.0  # renewed while a publish lives; a dead daemon's claim is reconciled after it
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    build_dir: Path = Path("build")
    actor: str = "daemon"
    max_in_flight: int = 8  # channels publishing at the same time (one worker thread each)
    hold_after_crashes: int = 3  # claims ended without an outcome before a post is held for a person


@dataclass
class PassReport:
    published: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    processing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # media_approval channels: the media is not approved yet


class Dispatcher:
    """Publishes what is due according to `clock.now()`; safe to run in several processes."""

    def __init__(self, store: Store, clock: Clock, publishers: PublisherFactory, *, calendar: Calendar | None = None,
                 worker: str | None = None, config: DispatchConfig | None = None, log: EventLog | None = None,
                 rng: Callable[[], float] = random.random, tokens: TokenGate | None = None) -> None:
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.publishers = publishers
        self.calendar = calendar
        self.worker = worker or new_worker_id()
        self.config = config or DispatchConfig()
        self.log = log or EventLog()
        self.rng = rng
        self._lock = threading.Lock()  # one pass at a time inside this process
        self._flight_lock = threading.Lock()
        self._busy: set[str] = set()  # channels with a worker publishing
        self._claims: dict[str, Claim] = {}  # post id -> claim in flight (renewed)
        self._futures: set[Future] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()
        self._approvals: MediaApprovals | None = None

    # -- passes ------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None, *, wait: bool = True) -> PassReport:
        """Reconcile, mark missed, then start publishing every post due now (until `stop` is
        set). `wait=False` (the daemon's ticks) returns while channel workers still publish."""
        report = PassReport()
        with self._lock:
            self.reconcile(report)
            self.mark_missed(report)
            self.dispatch(report, stop)
        if wait:
            self.join()
        return report

    def join(self, timeout: float | None = None) -> None:
        """Wait until no publish is in flight."""
        while True:
            with self._flight_lock:
                pending = list(self._futures)
            if not pending:
                return
            wait_for(pending, timeout=timeout)
            if timeout is not None:
                return

    def close(self) -> None:
        self.join()
        self._closed.set()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def in_flight(self) -> list[str]:
        with self._flight_lock:
            return sorted(self._claims)

    def mark_missed(self, report: PassReport) -> None:
        for post in self.store.mark_missed(self.clock.now()):
            report.missed.append(post.id)
            refreshed = self.store.get(post.id)
            self.log.event("missed", refreshed.state_reason if refreshed else "", post_id=post.id,
                           channel=post.channel_id, state=states.MISSED)

    def dispatch(self, report: PassReport, stop: threading.Event | None = None) -> None:
        """Claim the earliest due post of every channel without a worker and start one for it."""
        while stop is None or not stop.is_set():
            with self._flight_lock:
                busy = set(self._busy)
            if len(busy) >= self.config.max_in_flight:
                return
            now = self.clock.now()
            silenced = blacked_out_channels(self.calendar, now)
            claim = self.store.claim_next(self.worker, now, lease_seconds=self.config.lease_seconds,
                                          skip_channels=set(silenced) | busy)
            if claim is None:
                return
            self._start_worker(claim, report, stop)

    def _start_worker(self, claim: Claim, report: PassReport, stop: threading.Event | None) -> None:
        channel = claim.post.channel_id
        with self._flight_lock:
            self._busy.add(channel)
            self._claims[claim.post.id] = claim
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=max(1, self.config.max_in_flight),
                                                    thread_name_prefix="publish")
            future = self._executor.submit(self._channel_worker, claim, report, stop)
            self._futures.add(future)
        future.add_done_callback(self._forget_future)
        self._ensure_renewer()

    def _forget_future(self, future: Future) -> None:
        with self._flight_lock:
            self._futures.discard(future)

    def _channel_worker(self, claim: Claim | None, report: PassReport, stop: threading.Event | None) -> None:
        """Publish `claim`, then the channel's next due posts, one at a time, until none is due."""
        channel = claim.post.channel_id if claim else ""
        try:
            while claim is not None:
                try:
                    self.publish_claim(claim, report)
                except Exception as error:  # noqa: BLE001 - the store failed under us: the lease lapses, a later pass reconciles
                    self.log.event("dispatch_error", f"{type(error).__name__}: {error}", level=logging.ERROR,
                                   post_id=claim.post.id, channel=channel)
                finally:
                    with self._flight_lock:
                        self._claims.pop(claim.post.id, None)
                if stop is not None and stop.is_set():
                    return
                now = self.clock.now()
                if channel in blacked_out_channels(self.calendar, now):
                    return
                claim = self.store.claim_next(self.worker, now, lease_seconds=self.config.lease_seconds, channel=channel)
                if claim is not None:
                    with self._flight_lock:
                        self._claims[claim.post.id] = claim
        finally:
            with self._flight_lock:
                self._busy.discard(channel)

    # -- leases ---------------------------------------------------------------------------------

    def _ensure_renewer(self) -> None:
        with self._flight_lock:
            if self._renewer is not None and self._renewer.is_alive():
                return
            self._renewer = threading.Thread(target=self._renew_loop, name="lease-renewer", daemon=True)
            self._renewer.start()

    def _renew_loop(self) -> None:
        every = min(60.0, max(0.05, real_seconds(self.clock, self.config.lease_seconds / 3)))
        while not self._closed.wait(every):
            if not self.renew_leases():
                with self._flight_lock:
                    if not self._claims:
                        self._renewer = None
                        return

    def renew_leases(self) -> int:
        """Extend the lease of every publish in flight; a claim found taken over is marked lost
        (its publisher stops at its next step). Returns how many were renewed."""
        with self._flight_lock:
            claims = list(self._claims.values())
        renewed = 0
        for claim in claims:
            try:
                if self.store.renew(claim, self.clock.now(), lease_seconds=self.config.lease_seconds):
                    renewed += 1
                else:
                    with self._flight_lock:
                        self._claims.pop(claim.post.id, None)
                    holder = self.store.get(claim.post.id)
                    if holder is None or holder.claimed_by in (None, claim.worker):
                        continue  # its outcome was recorded since the list was taken: nothing was lost
                    # said once; its publisher stops at its next step (the ledger refuses to write)
                    self.log.event("claim_lost", "another daemon took over this post's claim while it was being published; "
                                   "this daemon will change nothing about it", level=logging.WARNING,
                                   post_id=claim.post.id, channel=claim.post.channel_id)
            except Exception as error:  # noqa: BLE001 - the store is unreachable: try again at the next renewal
                self.log.event("renew_error", f"{type(error).__name__}: {error}", level=logging.WARNING, post_id=claim.post.id)
        return renewed

    # -- one publish -----------------------------------------------------------------------------

    def _ledger(self, claim: Claim) -> StepLedger:
        def save(name: str, value: str | None) -> None:
            if not self.store.save_step(claim, name, value, self.clock.now()):
                raise ClaimLost(f"post {claim.post.id} is no longer claimed by this daemon")

        return StepLedger(self.store.steps(claim.post.id), save=save, durable=True, now=self.clock.now)

    def publish_claim(self, claim: Claim, report: PassReport) -> None:
        post = claim.post
        self.log.event("claimed", post_id=post.id, channel=post.channel_id, state=states.PUBLISHING,
                       attempt=post.attempts, worker=self.worker)
        crash_point("claimed")
        ledger = self._ledger(claim)
        created = ledger.get(CREATED)
        if created is not None:  # an earlier attempt got the answer but could not store it
            self._published(claim, report, PublishResult(created, None), outcome="reconciled",
                            message=f"published earlier as {created} (kept in the post's ledger)")
            return
        sent = ledger.get(CREATE_SENT) is not None
        in_doubt = sent and ledger.get(CREATE_ANSWERED) is None  # sent, and its answer never arrived
        now = self.clock.now()
        if post.grace_ends < now and not sent:  # it waited too long (a long rate limit, slow processing)
            self._finish(claim, report, report.missed, state=states.MISSED, outcome="missed", error=None,
                         message=f"missed: the channel's grace window ended at {post.grace_ends:%Y-%m-%d %H:%M} UTC")
            return
        held = self._media_hold(post) if not sent else None
        if held:
            self._finish(claim, report, report.held, state=states.HELD, outcome="held", error=None, message=held)
            return
        try:
            if self.tokens is not None:  # before the first request, never between two (ReconnectNeeded: paused)
                self.tokens.before_publish(post.channel_id)
            publisher = self.publishers(post.channel_id)
            outgoing = to_outgoing(post, build_dir=self.config.build_dir, media_links=self._media_links(post))
            if in_doubt and self._settled_before_resending(claim, report, publisher, outgoing, ledger):
                return
            result = publisher.publish(outgoing, ledger)
        except ClaimLost as error:
            self._lost(claim, report, str(error))
        except MediaNotReady as error:
            self._transient(claim, report, error, "media", ledger)
        except Pending as error:
            until = self.clock.now() + dt.timedelta(seconds=error.check_after)
            self._finish(claim, report, report.processing, state=states.PROCESSING, outcome="pending", error=None,
                         message=f"{error} (next check {until:%Y-%m-%d %H:%M:%S} UTC)", next_attempt_at=until)
        except RateLimited as error:
            until = self.clock.now() + dt.timedelta(seconds=error.retry_after)
            self.store.rate_limit(post.channel_id, until)
            self._finish(claim, report, report.retrying, state=states.RETRY_WAIT, outcome="rate_limited", error=error,
                         message=f"rate limited by {post.platform}: waiting {error.retry_after:g} s until "
                                 f"{until:%Y-%m-%d %H:%M:%S} UTC ({error})", next_attempt_at=until)
        except TransientError as error:
            self._transient(claim, report, error, "transient", ledger)
        except PermanentError as error:
            if ledger.get(CREATE_SENT) is not None:  # refused after the create went out: it may exist
                self._hold(claim, report, f"{post.platform} reported a problem after the post was sent ({error}), "
                                          f"so it may be on the account all the same", error)
            else:
                self._finish(claim, report, report.failed, state=states.FAILED, outcome="permanent", error=error,
                             message=f"{post.platform} refused the post: {error}")
        except AuthError as error:
            if (self.tokens is not None and not isinstance(error, ReconnectNeeded)
                    and self.tokens.after_refusal(post.channel_id, error)):
                back = states.APPROVED if post.needs_approval else states.DUE
                self._finish(claim, report, report.retrying, state=back, outcome="token_renewed", error=error,
                             message=f"{post.platform} refused the expired token; it was renewed and the post goes out "
                                     f"again at once")
            else:
                self._auth(claim, report, error)
        except OutcomeUnknown as error:
            self._finish(claim, report, report.unknown, state=states.UNKNOWN, outcome="unknown", error=error,
                         message=f"unknown, check: {error} — look at {post.platform} account {post.account} "
                                 f"and run `python run.py resolve --post {post.id} --published|--not-published`")
        except Exception as error:  # noqa: BLE001 - after sending, anything may have happened: hold it
            if ledger.get(CREATE_SENT) is not None:
                self._hold(claim, report, f"unexpected {type(error).__name__} after the post was sent ({error})", error)
            else:
                self._transient(claim, report, error, "transient", ledger)
        else:
            crash_point("created")
            self._published(claim, report, result, outcome="published", message=None,
                            before_commit=lambda: crash_point("before_store"))

    def _published(self, claim: Claim, report: PassReport, result: PublishResult, *, outcome: str, message: str | None,
                   before_commit: Callable[[], None] | None = None) -> None:
        post = claim.post
        done = self.store.record_published(claim, self.clock.now(), result.remote_id, result.url, outcome=outcome,
                                           message=message, before_commit=before_commit)
        if not done:
            self._lost(claim, report, f"{post.platform} has it as {result.remote_id}, kept in the post's ledger")
            return
        (report.published if outcome == "published" else report.reconciled).append(post.id)
        self.log.event(outcome, message or "", post_id=post.id, channel=post.channel_id, state=states.PUBLISHED,
                       remote_id=result.remote_id, url=result.url)

    def _lost(self, claim: Claim, report: PassReport, detail: str) -> None:
        report.lost.append(claim.post.id)
        current = self.store.get(claim.post.id)
        self.log.event("claim_lost", f"this daemon lost its claim (another daemon took it over) and changes nothing; "
                       f"the store says {current.state if current else 'nothing'} ({detail})", level=logging.WARNING,
                       post_id=claim.post.id, channel=claim.post.channel_id)

    def _settled_before_resending(self, claim: Claim, report: PassReport, publisher: Publisher, outgoing: OutgoingPost,
                                  ledger: StepLedger) -> bool:
        """An earlier create request went out and its answer was lost. Send again only where
        that cannot duplicate (idempotency key still valid) or the platform says the post is not
        there; otherwise settle it here (published, missed or held). True when settled."""
        post = claim.post
        now = self.clock.now()
        sent_at = ledger.create_sent_at or now
        window = publisher.idempotency_window_seconds
        in_window = window is not None and (now - sent_at).total_seconds() < window
        if in_window and post.grace_ends >= now:
            return False  # the platform deduplicates a re-send within its window
        if publisher.can_find_existing:
            found = publisher.find_existing(outgoing)
            if found is not None:
                self._published(claim, report, found, outcome="reconciled",
                                message=f"found on {post.platform}: an earlier attempt created it and its answer was lost")
                return True
            ledger.create_refused()  # not there: the earlier request created nothing
            if post.grace_ends < now:
                self._finish(claim, report, report.missed, state=states.MISSED, outcome="missed", error=None,
                             message=f"missed: the channel's grace window ended at {post.grace_ends:%Y-%m-%d %H:%M} UTC "
                                     f"and {post.platform} has no such post")
                return True
            return False
        protection = (f"its duplicate protection lasts only {window:g} s" if window else "it offers no duplicate protection")
        self._hold(claim, report, f"the answer to the request that creates the post (sent {sent_at:%Y-%m-%d %H:%M:%S} UTC) "
                                  f"was lost; {post.platform} cannot be searched and {protection}", None)
        return True

    def _hold(self, claim: Claim, report: PassReport, why: str, error: Exception | None) -> None:
        post = claim.post
        self._finish(claim, report, report.unknown, state=states.UNKNOWN, outcome="unknown", error=error,
                     message=f"unknown, check: {why} — look at {post.platform} account {post.account}, then run "
                             f"`python run.py resolve --post {post.id} --published|--not-published`")

    def _media_hold(self, post: StoredPost) -> str | None:
        """Why a post of a `media_approval` channel must wait for its media's approval (None: it may go)."""
        if self.calendar is None or post.media is None:
            return None
        try:
            channel = self.calendar.channel(post.channel_id)
        except StopIteration:
            return None
        if not channel.media_approval:
            return None
        if self._approvals is None:
            self._approvals = MediaApprovals(self.store.engine)
        return hold_reason(self._approvals, post, self.config.build_dir)

    def _media_links(self, post: StoredPost) -> MediaLinks | None:
        """Where a platform that fetches media by URL finds the post's file (the pool knows: the
        sandbox's signed server, `media_urls:` or a channel's plain `api.media_base_url`)."""
        lookup = getattr(self.publishers, "media_links", None)
        if lookup is not None:
            return lookup(post.channel_id)
        plain = getattr(self.publishers, "media_base_url", None)  # a pool that only knows a plain host (test rigs)
        if plain is not None:
            base = plain(post.channel_id)
            return PlainLinks(base) if base else None
        if self.calendar is None:  # a bare publisher function (tests): only a channel's plain host, no signing key
            return None
        try:
            base = self.calendar.channel(post.channel_id).api.media_base_url
        except StopIteration:
            return None
        return PlainLinks(base) if base else None

    def _transient(self, claim: Claim, report: PassReport, error: Exception, outcome: str,
                   ledger: StepLedger | None = None) -> None:
        """Retry with backoff while the grace window allows (the last try at its end). A post
        whose create request went out is never given up as failed: it may exist, so it is held."""
        post = claim.post
        failures = post.transient_failures + 1
        policy = self.config.retry
        now = self.clock.now()
        gives_up = (policy.max_failures is not None and failures >= policy.max_failures) or now >= post.grace_ends
        if gives_up and ledger is not None and ledger.get(CREATE_SENT) is not None:
            self._hold(claim, report, f"retries ended after {failures} attempts ({error}), and an earlier create request "
                                      f"went out, so the post may be on the account", error)
            return
        if policy.max_failures is not None and failures >= policy.max_failures:
            self._finish(claim, report, report.failed, state=states.FAILED, outcome=outcome, error=error, transient=True,
                         message=f"gave up after {failures} attempts: {error}")
            return
        if now >= post.grace_ends:
            self._finish(claim, report, report.failed, state=states.FAILED, outcome=outcome, error=error, transient=True,
                         message=f"gave up after {failures} attempts: the channel's grace window ended at "
                                 f"{post.grace_ends:%Y-%m-%d %H:%M} UTC ({error})")
            return
        wait = policy.delay(failures, self.rng)
        until = min(now + dt.timedelta(seconds=wait), post.grace_ends)
        self._finish(claim, report, report.retrying, state=states.RETRY_WAIT, outcome=outcome, error=error, transient=True,
                     next_attempt_at=until,
                     message=f"{error} — attempt {failures + 1} at {until:%Y-%m-%d %H:%M:%S} UTC "
                             f"(retrying until the grace window ends at {post.grace_ends:%Y-%m-%d %H:%M} UTC)")

    def _auth(self, claim: Claim, report: PassReport, error: AuthError) -> None:
        post = claim.post
        reason = (f"re-authorise the {post.platform} account {post.account} (channel {post.channel_id}), "
                  f"then run `python run.py resume --channel {post.channel_id}`: {error}")
        self.store.pause(post.channel_id, reason, self.config.actor, self.clock.now())
        forget = getattr(self.publishers, "forget", None)
        if forget is not None:  # the next publisher reads the renewed credentials
            forget(post.channel_id)
        back = states.APPROVED if post.needs_approval else states.DUE
        self._finish(claim, report, report.retrying, state=back, outcome="auth", error=error, message=reason)
        self.log.event("channel_paused", reason, channel=post.channel_id)

    def _finish(self, claim: Claim, report: PassReport, bucket: list[str], *, state: str, outcome: str,
                error: Exception | None, message: str, next_attempt_at: dt.datetime | None = None, transient: bool = False,
                reason: str | None = None) -> None:
        done = self.store.record_outcome(claim, self.clock.now(), state=state, outcome=outcome,
                                         error_class=type(error).__name__ if error else None, message=message,
                                         next_attempt_at=next_attempt_at, transient=transient, reason=reason)
        if not done:
            self._lost(claim, report, f"it would have become {state}: {message}")
            return
        bucket.append(claim.post.id)
        self.log.event(outcome, reason or message, post_id=claim.post.id, channel=claim.post.channel_id, state=state,
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
        """Read the ledger: before "create sent" the post is safely retried; after it, the
        platform is asked (or its idempotency window trusted) or the post is held for a person.
        A post whose claims keep ending without an outcome (it may crash the daemon) is held."""
        post = claim.post
        steps = self.store.steps(post.id)
        crashes = int(steps.get("interrupted", "0"))
        sent = CREATE_SENT in steps
        stopped = f"the daemon ({dead}) stopped during this publish"
        answered = steps.get(CREATE_ANSWERED)
        if CREATED in steps:
            self._published(claim, report, PublishResult(steps[CREATED], None), outcome="reconciled",
                            message=f"{stopped}; the post's ledger holds its remote id")
            return
        if crashes >= self.config.hold_after_crashes:
            self._hold(claim, report, f"the daemon stopped {crashes} times while publishing this post (the post may be what "
                                      f"stops it: check its media and text); "
                                      + ("its create request had gone out" if sent else "it was never sent"), None)
            return
        back = states.APPROVED if post.needs_approval else states.DUE
        queue = (f"back in the queue: it goes out on the next pass while the channel's grace window lasts (until "
                 f"{post.grace_ends:%Y-%m-%d %H:%M} UTC), else it is marked missed")
        if answered is not None:  # the post exists; what remains (processing) resumes from the ledger
            self._finish(claim, report, report.reconciled, state=back, outcome="resume", error=None,
                         message=f"{stopped}, after {post.platform} created it as {answered}",
                         reason=f"{stopped}, after {post.platform} created it as {answered}: the next pass finishes it")
            return
        if not sent:
            self._finish(claim, report, report.reconciled, state=back, outcome="not_sent", error=None,
                         message=f"{stopped}, before the post was sent to {post.platform}",
                         reason=f"{stopped}, before the post was sent to {post.platform}: {queue}")
            return
        try:
            publisher = self.publishers(post.channel_id)
            window = publisher.idempotency_window_seconds
            sent_at = dt.datetime.fromisoformat(steps[CREATE_SENT])
            if window is not None and (self.clock.now() - sent_at).total_seconds() < window:
                self._finish(claim, report, report.reconciled, state=back, outcome="resend_safe", error=None,
                             message=f"{stopped}, after sending; {post.platform} deduplicates a re-send for {window:g} s",
                             reason=f"{stopped}, after sending; a re-send cannot duplicate it: {queue}")
                return
            if not publisher.can_find_existing:
                raise OutcomeUnknown(f"{post.platform} cannot tell whether it was published")
            outgoing = to_outgoing(post, build_dir=self.config.build_dir, media_links=self._media_links(post))
            found = publisher.find_existing(outgoing)
        except Exception as error:  # noqa: BLE001 - whatever went wrong, never guess: hold it
            self._hold(claim, report, f"{stopped} after sending the post, and {error}", error)
            return
        if found is not None:
            self._published(claim, report, found, outcome="reconciled",
                            message=f"found on {post.platform} after the daemon stopped mid-publish")
            return
        if not self.store.save_step(claim, CREATE_SENT, None, self.clock.now()):
            self._lost(claim, report, "while reconciling")
            return
        self._finish(claim, report, report.reconciled, state=back, outcome="not_found", error=None,
                     message=f"{stopped} and {post.platform} has no such post",
                     reason=f"{stopped} and {post.platform} has no such post: {queue}")
