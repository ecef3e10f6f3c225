"""Rehearse a campaign: the real daemon, store and publishers against the local emulators,
with the campaign clock running fast.

Nothing here fakes a publish. The daemon claims, publishes and records exactly as in
production; only the clock is steered: it runs `speed` times faster than real time, leaps
over quiet stretches (nothing due for more than a day) and waits at each due post until the
daemon has dealt with it, so a month passes in about a minute and the real seconds an
upload takes never show up as campaign hours of lateness. It waits in the same way at each
collection of figures (1 hour, 24 hours, 7 and 30 days after a post) until the daemon has
collected it, so every figure is read at its age, as at real speed, never hours or weeks
later because the clock ran or leapt past it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

from application.connect_sandbox import connect_sandbox, sandbox_vault
from campaign.calendar import LoadedCalendar
from campaign.clock import ScaledClock
from emulators import Sandbox
from scheduler.connections.job import TokenJob
from scheduler.connections.renew import next_self_renewal
from scheduler.daemon import Daemon, DaemonConfig, DispatchConfig
from scheduler.daemon.logs import EventLog
from scheduler.daemon.publishers import PublisherPool
from scheduler.platforms.registry import platform_of
from scheduler.results.collect import Collector
from scheduler.store import Store, StoredPost, states

LEAP_OVER = dt.timedelta(days=1)  # quiet stretches longer than this are skipped
#: ... and when only a collection of figures comes next, stretches longer than this (each post
#: has four: running the clock to each one would double the rehearsal's time)
LEAP_TO_COLLECTION = dt.timedelta(hours=1)
STALL_SECONDS = 3.0  # real seconds the clock waits at a due post that nothing claims
PUBLISH_STALL_SECONDS = 60.0  # real seconds a publish may take before campaign time runs on under it
#: Posts still to be dealt with; the rehearsal ends when none is left.
OPEN_STATES = states.CLAIMABLE + (states.PUBLISHING,)


@dataclass(frozen=True)
class RehearsalProgress:
    """What the screen shows while the rehearsal runs."""

    campaign_time: dt.datetime
    done: int  # posts in a final state (published, failed, missed, unknown, cancelled)
    total: int
    published: int
    problems: int
    note: str = ""


@dataclass
class Received:
    """One post an emulator (or the outbox) received, as a reader would see it."""

    channel_id: str
    platform: str
    account: str
    remote_id: str
    text: str
    media: list[dict[str, Any]]
    created_at: dt.datetime | None
    #: (the text a reader sees, where it leads): Bluesky's link facets, elsewhere the URLs in the text
    links: list[tuple[str, str]] = field(default_factory=list)
    language: str | None = None  # None: the platform was not told a language
    alt_texts: list[str] | None = None  # None: the platform keeps none
    #: renewals behind the OAuth token that published it (0: the first token; None: a static token, the outbox)
    token_generation: int | None = None


@dataclass
class RehearsalResult:
    posts: list[StoredPost]
    received: list[Received]
    emulator_urls: dict[str, str]  # platform -> base URL (gone once the rehearsal ended)
    started: dt.datetime  # campaign time
    finished: dt.datetime
    real_seconds: float
    leaps: list[tuple[dt.datetime, dt.datetime]]
    approved: int


ProgressFn = Callable[[RehearsalProgress], None]


def rehearsal_start(loaded: LoadedCalendar) -> dt.datetime:
    """Midnight of the campaign's first day in its home time zone."""

    campaign = loaded.calendar.campaign
    return dt.datetime.combine(campaign.start, dt.time(0, 0), tzinfo=ZoneInfo(campaign.timezone)).astimezone(dt.timezone.utc)


def rehearse(loaded: LoadedCalendar, *, build_dir: Path, db_url: str, outbox_dir: Path,
             speed: float, start: dt.datetime | None = None, approve_as: str | None = "rehearsal",
             progress: ProgressFn | None = None, log: EventLog | None = None, poll_seconds: float = 0.02) -> RehearsalResult:
    """Publish every planned post of `loaded` to the emulators and return what happened.

    `approve_as`: posts of channels that need approval are approved under this name (recorded
    in the audit trail) so the rehearsal can publish them; None leaves them waiting.
    """
    begin = start or rehearsal_start(loaded)
    clock = ScaledClock(begin, speed)
    clock.hold_at(begin)  # nothing moves until the plan is in the store
    real_start = time.monotonic()
    store = Store(db_url)
    try:
        with Sandbox(loaded.calendar, build_dir, clock=clock) as box:
            holder: dict[str, Daemon] = {}
            # X and LinkedIn channels connect through their emulators' OAuth: X tokens live 2 h and renew themselves
            vault = sandbox_vault(store)
            connect_sandbox(vault, box, loaded.calendar, clock.now())
            pool = PublisherPool(lambda: holder["daemon"].loaded.calendar, sandbox=box, outbox_dir=outbox_dir, clock=clock,  # type: ignore[union-attr]
                                 vault=vault)
            collect_pool = PublisherPool(lambda: holder["daemon"].loaded.calendar, sandbox=box, outbox_dir=outbox_dir,  # type: ignore[union-attr]
                                         clock=clock, vault=vault)
            config = DaemonConfig(calendar_path=loaded.path, interval_seconds=0.5, sweep_seconds=2.0, heartbeat_file=None,
                                  inbox_dir=None, collect_seconds=0.5,
                                  dispatch=DispatchConfig(build_dir=build_dir, actor="rehearsal"))
            log = log or EventLog()
            collector = Collector(store, clock, collect_pool, log=log)
            tokens = TokenJob(store, clock, vault, pool, lambda: daemon.loaded.calendar if daemon.loaded else None, log)
            daemon = Daemon(store, clock, pool, config, log=log, collector=collector, tokens=tokens.renewer)
            tokens.attach(daemon, collect_pool, every=0.5)
            holder["daemon"] = daemon
            daemon.load_and_sync()
            approved = _approve_all(store, loaded, approve_as, clock.now()) if approve_as else 0
            daemon.start()
            try:
                steer = _Steering(store, clock, daemon, progress, poll_seconds, tokens)
                steer.run()
            finally:
                daemon.stop()
                pool.close()
            try:
                collect_remaining(collector, clock, tokens)
                daemon.clock_keeper.stop(clock.now())  # the store's readers see where the rehearsal ended
            finally:
                collect_pool.close()
            received = collect_received(box, loaded, outbox_dir)
            urls = {platform: box.emulator(platform).base_url for platform in _platforms(loaded)}
        return RehearsalResult(posts=store.all_posts(), received=received, emulator_urls=urls, started=begin,
                               finished=clock.now(), real_seconds=time.monotonic() - real_start, leaps=steer.leaps,
                               approved=approved)
    finally:
        store.close()


def self_renewing_due(tokens: TokenJob | None) -> dt.datetime | None:
    """The next renewal of a token that renews with itself (Threads): unlike one with a refresh token,
    it cannot be renewed once expired, so the rehearsal's leaping clock stops there."""
    return None if tokens is None else next_self_renewal(tokens.renewer.vault.all())


def collect_remaining(collector: Collector, clock: ScaledClock, tokens: TokenJob | None = None) -> int:
    """After the last post: move campaign time to each collection still due (1 h to 30 days after
    the last posts) and collect it there, so every published post has figures at every age; a
    token that renews with itself is renewed on its way (it cannot be once expired)."""
    done = 0
    clock.hold_at(None)
    tried: set[dt.datetime] = set()
    while (due := collector.results.next_due_at()) is not None:
        renewal = self_renewing_due(tokens)
        if tokens is not None and renewal is not None and renewal < due and renewal not in tried:
            tried.add(renewal)  # once: a renewal that fails is logged by the job, never retried in a loop
            clock.leap_to(renewal)
            clock.hold_at(renewal)
            tokens.run_once()
        clock.leap_to(due)
        clock.hold_at(due)
        report = collector.run_once()
        done += len(report.collected) + len(report.not_given)
        if not (report.collected or report.not_given or report.retrying or report.scheduled):
            break  # nothing could be collected at this time: stop rather than spin
    return done


def _platforms(loaded: LoadedCalendar) -> list[str]:
    return sorted({c.platform.value for c in loaded.calendar.channels if platform_of(c.platform).has_account})


def _approve_all(store: Store, loaded: LoadedCalendar, by: str, now: dt.datetime) -> int:
    return sum(len(store.approve(by=by, now=now, channel_id=c.id)) for c in loaded.calendar.channels if c.approval)


class _Steering:
    """Moves the campaign clock: fast between posts, leaping over quiet days, waiting at each due post."""

    def __init__(self, store: Store, clock: ScaledClock, daemon: Daemon, progress: ProgressFn | None,
                 poll_seconds: float, tokens: TokenJob | None = None) -> None:
        self.store, self.clock, self.daemon = store, clock, daemon
        self.tokens = tokens
        self._renew_tried: dt.datetime | None = None
        self.progress = progress
        self.poll_seconds = poll_seconds
        self.leaps: list[tuple[dt.datetime, dt.datetime]] = []
        self._woken_for: dt.datetime | None = None
        self._woken_at = 0.0
        self._stalled_at: dt.datetime | None = None
        self._last_change = time.monotonic()
        self._last_signature: tuple | None = None
        self.stop = threading.Event()
        self._scheduled: set[str] = set()  # posts whose collections the daemon has scheduled
        self._collect_for: dt.datetime | None = None  # the collection time the daemon was woken for
        self._collect_passes = 0  # the daemon's finished passes when it was woken
        self._collect_woken_at = 0.0
        self._collect_stalled: dt.datetime | None = None

    def run(self) -> None:
        while not self.stop.is_set():
            posts = self.store.all_posts()
            open_posts = [p for p in posts if p.state in OPEN_STATES]
            self._report(posts)
            if not open_posts or not self._steer(open_posts):
                return
            time.sleep(self.poll_seconds)

    def _next_collection(self) -> dt.datetime | None:
        """The next time a figure is due: a scheduled collection, or the first age of a post
        published since the daemon's last pass (its collections are not scheduled yet). Read
        after the publishes in flight: a post published since that read is seen here, so the
        clock never leaps past its first collection."""
        collector = self.daemon.collector
        if collector is None:
            return None
        published = [p for p in self.store.all_posts(state=states.PUBLISHED) if p.published_at is not None]
        if any(p.id not in self._scheduled for p in published):
            self._scheduled = collector.results.scheduled_post_ids()
        from scheduler.results.collect import ages_from_calendar  # results sit above the daemon's modules

        ages = ages_from_calendar(self.daemon.loaded.calendar if self.daemon.loaded else None)
        times = [p.published_at + dt.timedelta(seconds=min(seconds for _, seconds in ages(p.channel_id)))
                 for p in published if p.id not in self._scheduled]
        scheduled = collector.results.next_due_at()
        due = min([t for t in times + [scheduled] if t is not None], default=None)
        return None if due == self._collect_stalled else due

    def _wait_for_collection(self, due: dt.datetime, now: dt.datetime) -> None:
        """Hold the clock at a due collection and wake the daemon's collector there; if two of its
        passes end without collecting it and a few real seconds went by (nothing can: a post that
        nothing claims is due), let the clock go on."""
        self.clock.hold_at(due)
        if self.clock.now() < due:
            return
        if self._collect_for != due:
            self._collect_for, self._collect_passes = due, self.daemon.collect_passes
            self._collect_woken_at = time.monotonic()
            self.daemon.collect_soon()
        elif (self.daemon.collect_passes >= self._collect_passes + 2
              and time.monotonic() - self._collect_woken_at > STALL_SECONDS):
            self._collect_stalled = due
        elif self.daemon.collect_passes > self._collect_passes:
            self.daemon.collect_soon()  # the pass under way began before the clock got here

    def _next_renewal(self) -> dt.datetime | None:
        """When a token that renews with itself (Threads) must be renewed: it cannot be once expired,
        so the clock stops there (tokens with refresh tokens renew before the next publish instead)."""
        due = self_renewing_due(self.tokens)
        return None if due == self._renew_tried else due

    def _renew_on_time(self, at: dt.datetime, now: dt.datetime) -> None:
        """Hold the clock at a renewal and run the token job there (once: a failure is logged by it)."""
        assert self.tokens is not None
        if at - now > LEAP_TO_COLLECTION and self.clock.leap_to(at):
            self.leaps.append((now, at))
        self.clock.hold_at(at)
        if self.clock.now() >= at:
            self._renew_tried = at
            self.tokens.run_once()

    def _steer(self, open_posts: list[StoredPost]) -> bool:
        """Move the clock one step; False when nothing left can go out (all paused)."""
        # Read the next due time first and the publishes in flight second: a post claimed in
        # between is then seen by one of the two reads, so the clock never runs past it.
        due = self.daemon.next_wakeup()
        publishing = self.store.all_posts(state=states.PUBLISHING)
        now = self.clock.now()
        signature = tuple(sorted((p.id, p.state, p.attempts) for p in open_posts + publishing))
        if signature != self._last_signature:
            self._last_signature, self._last_change = signature, time.monotonic()
        collect_at = self._next_collection()
        if publishing:
            # Campaign time stands still while a publish is under way, unless it takes so long
            # that it must be waiting on campaign time itself (a processing deadline); even then
            # it stops at the next collection of figures.
            stalled = time.monotonic() - self._last_change > PUBLISH_STALL_SECONDS
            self.clock.hold_at(collect_at if stalled else now)
            return True
        if due is None:
            return False
        renew_due = self._next_renewal()
        if renew_due is not None and renew_due < due and (collect_at is None or renew_due < collect_at):
            self._renew_on_time(renew_due, now)
            return True
        if collect_at is not None and collect_at < due:  # a figure is due before the next post
            if collect_at - now > LEAP_TO_COLLECTION and self.clock.leap_to(collect_at):
                self.leaps.append((now, collect_at))
            self._wait_for_collection(collect_at, now)
            return True
        if due - now > LEAP_OVER and self.clock.leap_to(due):
            self.leaps.append((now, due))
        if due == self._stalled_at:
            # nothing takes it (yet: a loaded machine claims slowly): let time run on rather than wait
            # forever, but never past a collection of figures
            self.clock.hold_at(collect_at)
            return True
        self.clock.hold_at(due)
        if self.clock.now() >= due:
            if self._woken_for != due:
                self._woken_for, self._woken_at = due, time.monotonic()
                self.daemon.wakeup()
            elif time.monotonic() - max(self._woken_at, self._last_change) > STALL_SECONDS:
                self._stalled_at = due
        return True

    def _report(self, posts: list[StoredPost]) -> None:
        if self.progress is None:
            return
        final = [p for p in posts if p.state not in OPEN_STATES + (states.PLANNED,)]
        published = sum(p.state == states.PUBLISHED for p in posts)
        self.progress(RehearsalProgress(campaign_time=self.clock.now(), done=len(final), total=len(posts),
                                        published=published, problems=len(final) - published))


def collect_received(box: Sandbox, loaded: LoadedCalendar, outbox_dir: Path) -> list[Received]:
    """Everything the emulators and the outbox folder received, attributed to channels."""
    received = [Received(channel_id=record["channel_id"], platform=record["platform"], account=str(record["account"]),
                         remote_id=str(record["id"]), text=str(record.get("text") or ""),
                         media=list(record.get("media") or []), created_at=_parse_time(record.get("received_at")),
                         links=links_seen(str(record.get("text") or ""), record.get("facets")),
                         language=record.get("language"), alt_texts=list(record.get("alt_texts") or []),
                         token_generation=record.get("token_generation"))
                for record in box.received()]  # every sandbox token is a channel's account: nothing lands elsewhere
    for channel in (c for c in loaded.calendar.channels if not platform_of(c.platform).has_account):  # the outbox
        for post_file in sorted((outbox_dir / channel.id).glob("*/post.json")):
            record = json.loads(post_file.read_text(encoding="utf-8"))
            received.append(Received(
                channel_id=channel.id, platform="outbox", account=str(record.get("account", "")),
                remote_id=post_file.parent.name, text=str(record.get("text") or ""), media=list(record.get("media") or []),
                created_at=_parse_time(record.get("written_at")), links=links_seen(str(record.get("text") or ""), None),
                language=record.get("language")))
    return received


_URL = re.compile(r"https?://[^\s<>\"\u201d]+")


def links_seen(text: str, facets: list[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """What a reader can follow: with facets (Bluesky) each link facet's bytes and target,
    read from the record as sent; otherwise each URL in the text (platforms link those)."""
    if facets is not None:
        raw = text.encode("utf-8")
        links = []
        for facet in facets:
            index = facet.get("index") or {}
            for feature in facet.get("features") or []:
                if str(feature.get("$type", "")).endswith("#link"):
                    shown = raw[index.get("byteStart", 0):index.get("byteEnd", 0)].decode("utf-8", "replace")
                    links.append((shown, str(feature.get("uri", ""))))
        return links
    return [(url, url) for url in (m.group(0).rstrip(".,;:!?)'") for m in _URL.finditer(text))]


def _parse_time(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None
