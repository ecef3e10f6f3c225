"""The unattended daemon: APScheduler drives the dispatcher; the store stays the truth.

Jobs live in an in-memory job store and are rebuilt at every start (APScheduler removes a
`date` job before running it, so its job store cannot record what was published). One
interval job claims due rows, a one-off job is armed when a post is due sooner than the
next tick, a sweep job reconciles dead claims, marks missed posts, beats the heartbeat and
notices a changed calendar, and an inbox job renders new drops. Each job keeps a second run
from starting beside the first itself (a dispatch wake-up during a pass runs the pass once more),
so APScheduler never skips one with a warning. Collecting figures runs on
a thread of its own that waits its interval after each pass (never an interval job: a pass
longer than the interval made APScheduler skip runs and log a warning each time), and
`collect_soon()` starts a pass at once (the rehearsal, when a collection is due).
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from assets.pipeline import render_all, render_lock
from assets.speech.model import SpeechUnavailable
from campaign.calendar import Calendar, LoadedCalendar, load_calendar
from campaign.clock import Clock, real_seconds
from campaign.errors import CalendarError
from scheduler.daemon.blackouts import blacked_out_channels, first_blackout_end
from scheduler.daemon.crash import install_http_hook
from scheduler.daemon.dispatch import DispatchConfig, Dispatcher, PassReport, PublisherFactory, TokenGate
from scheduler.daemon.logs import EventLog
from scheduler.daemon.store_outage import OutagePolicy, StoreOutage
from scheduler.plan import plan_posts
from scheduler.platforms.checkup import check_channels
from scheduler.render_queue.queue import QueueUnavailable, dispatcher
from scheduler.store import Store, sync_plan
from scheduler.store.calendar_edits import saved_serial
from scheduler.store.clock import ClockKeeper
from scheduler.store.renders import StoreRenderListener
from scheduler.subtitle_review import draft_missing

UTC = dt.timezone.utc
Planner = Callable[..., Any]


class FiguresJob(Protocol):
    """What the daemon runs beside publishing to collect figures (scheduler.results.collect.Collector,
    built by whoever starts the daemon, on publishers of its own): it reads the calendar the daemon
    loaded and asks the daemon whether a post is due before each step (publishing goes first)."""

    calendar: Calendar | None
    publishing_due: Callable[[dt.datetime], bool]

    def run_once(self) -> Any: ...


@dataclass
class DaemonConfig:
    calendar_path: Path = Path("calendar.yaml")
    interval_seconds: float = 30.0  # the dispatch tick; posts due sooner arm their own wake-up
    sweep_seconds: float = 60.0
    inbox_seconds: float = 30.0
    heartbeat_file: Path | None = Path("campaign.heartbeat")
    inbox_dir: Path | None = Path("inbox")  # None: this daemon renders nothing (rehearsals)
    render_queue: str | None = None  # PostgreSQL URL: inbox drops become jobs for render workers, not local renders
    collect_seconds: float = 300.0  # how often published posts' figures are looked for (results)
    saved_seconds: float = 2.0  # how often the store is asked whether the console or the API saved the calendar
    dispatch: DispatchConfig = field(default_factory=DispatchConfig)
    clock_purpose: str = "rehearsal"  # what a campaign clock is for, as views name it ("campaign clock: ... (x60, sandbox)")
    store_outage: OutagePolicy = field(default_factory=OutagePolicy)


class Daemon:
    def __init__(self, store: Store, clock: Clock, publishers: PublisherFactory, config: DaemonConfig, *,
                 planner: Planner = plan_posts, log: EventLog | None = None,
                 collector: FiguresJob | None = None, tokens: TokenGate | None = None) -> None:
        """`collector`: the figures job, with publishers of its own (never the dispatcher's, so a slow
        figures request cannot hold a publish); None: this daemon collects no figures. `tokens`: the
        channels' token renewal (scheduler.connections.renew.Renewer), asked before each publish and
        after a 401; its own schedule is a job handed in with `add_job`."""
        self.store = store
        self.clock = clock
        self.config = config
        self.log = log or EventLog()
        self.planner = planner
        self.dispatcher = Dispatcher(store, clock, publishers, config=config.dispatch, log=self.log, tokens=tokens)
        # The store's readers (status, the console, the audit trail) take their time from here.
        self.clock_keeper = ClockKeeper(store, clock, self.dispatcher.worker, config.clock_purpose)
        self.loaded: LoadedCalendar | None = None
        self.stop_event = threading.Event()
        self.reload_requested = threading.Event()
        self._calendar_mtime: float | None = None
        self._saved_serial: int | None = None  # calendar saves through the console/API seen (scheduler.store.calendar_edits)
        self._inbox_signature: tuple | None = None
        self._drafts_tried: set[tuple[str, int]] = set()  # clips whose speech gave no draft (not retried)
        self._speech_said = False
        self._scheduler: BackgroundScheduler | None = None
        self.exit_code = 0
        self.outage = StoreOutage(getattr(store, "url", "the store"), self.log, config.store_outage,
                                  on_give_up=self._give_up)
        self._jobs: list[tuple[str, float, Callable[[], None]]] = []  # handed in from outside (add_job)
        # Each job guards itself (APScheduler's max_instances skips a run with a warning instead)
        self._dispatch_lock, self._dispatch_again = threading.Lock(), threading.Event()
        self._sweep_lock, self._inbox_lock = threading.Lock(), threading.Lock()
        self._collect_wake = threading.Event()
        self._collect_thread: threading.Thread | None = None
        self.collect_passes = 0  # passes finished (the rehearsal waits for one after collect_soon)
        self.collector = collector
        if collector is not None:
            collector.publishing_due = self._publishing_due

    def _give_up(self, code: int) -> None:
        self.exit_code = code
        self.stop_event.set()

    @property
    def worker(self) -> str:
        return self.dispatcher.worker

    # -- calendar ---------------------------------------------------------------------------------

    def load_and_sync(self) -> None:
        """Load the calendar, plan it and sync the plan into the store (also on SIGHUP / change)."""
        path = self.config.calendar_path
        now = self.clock.now()
        try:
            loaded = load_calendar(path, today=now.date())
        except CalendarError as error:
            if self.loaded is None:
                raise
            self.log.event("calendar_rejected", f"{len(error.problems)} problems in {path}; keeping the previous "
                           f"calendar: {'; '.join(str(p) for p in error.problems[:3])}")
            self._calendar_mtime = _mtime(path)
            return
        plan = self.planner(loaded, build_dir=self.config.dispatch.build_dir, today=now.date())
        report = sync_plan(self.store, plan, now, actor="daemon")
        self.loaded = loaded
        self.dispatcher.calendar = loaded.calendar
        if self.collector is not None:
            self.collector.calendar = loaded.calendar
        self._calendar_mtime = _mtime(path)
        self.log.event("synced", report.summary(), calendar=str(path))
        for post_id, why in report.drift:
            self.log.event("drift", why, post_id=post_id)
        for post_id in report.cancelled:  # say why each one will not go out, not only how many
            self.log.event("cancelled", report.cancel_reasons.get(post_id, "removed from the calendar"), post_id=post_id)

    # -- jobs ----------------------------------------------------------------------------------------

    def pass_once(self) -> PassReport:
        """One full pass: reconcile, missed, publish what is due; then beat the heartbeat."""
        report = self.dispatcher.run_once(self.stop_event)
        self.beat()
        return report

    def _dispatch_job(self) -> None:
        """A pass, never beside another one: a wake-up that comes while a pass runs (the pass
        arming its own next wake-up, the tick, the sweep) makes that pass run once more, instead
        of APScheduler skipping it with a warning (and the wake-up being lost)."""
        self._dispatch_again.set()
        while self._dispatch_again.is_set():
            if not self._dispatch_lock.acquire(blocking=False):
                return  # the pass under way sees the flag and runs again
            try:
                self._dispatch_again.clear()
                self._dispatch_pass()
            finally:
                self._dispatch_lock.release()

    def _dispatch_pass(self) -> None:
        if self.outage.waiting():
            return
        try:  # channel workers keep publishing after the pass returns: a slow channel never holds up a tick
            self.dispatcher.run_once(self.stop_event, wait=False)
            self.clock_keeper.keep()
            self.outage.answered()  # the store answered this pass: say so before anything else uses it
            self._arm_next()
        except Exception as error:  # noqa: BLE001 - a bad pass must not kill the daemon; the next tick retries
            if not self.outage.failed(error):
                self.log.event("dispatch_error", f"{type(error).__name__}: {error}")

    def _arm_next(self) -> None:
        """Wake up exactly when the next post is due if that is sooner than the next tick."""
        if self._scheduler is None or self.stop_event.is_set():
            return
        due = self.next_wakeup()
        if due is None:
            return
        delay = real_seconds(self.clock, (due - self.clock.now()).total_seconds())
        if delay >= self.config.interval_seconds:
            return
        if delay <= 0:  # due but not claimable right now (a blackout): look again soon, never spin
            delay = min(1.0, self.config.interval_seconds)
        run_at = dt.datetime.now(UTC) + dt.timedelta(seconds=max(0.0, delay) + 0.01)
        self._scheduler.add_job(self._dispatch_job, "date", run_date=run_at, id="dispatch-soon",
                                replace_existing=True, misfire_grace_time=int(self.config.interval_seconds) + 1)

    def next_wakeup(self) -> dt.datetime | None:
        """The next campaign time a pass can publish something: the earliest post due on a
        channel that is not paused, rate-limited or silenced, or the end of a blackout."""
        now = self.clock.now()
        calendar = self.loaded.calendar if self.loaded else None
        silenced = blacked_out_channels(calendar, now)
        due = self.store.next_due_at(skip_channels=silenced)
        ends = first_blackout_end(calendar, now) if silenced else None
        return min((t for t in (due, ends) if t is not None), default=None)

    def _publishing_due(self, now: dt.datetime) -> bool:
        due = self.next_wakeup()
        return due is not None and due <= now

    def _collect_job(self) -> None:
        """Collect due figures on its own thread; it defers whenever a post is due."""
        if self.collector is None or self.stop_event.is_set() or self.outage.waiting():
            return
        try:
            self.collector.run_once()
        except Exception as error:  # noqa: BLE001 - results must never stop the daemon
            if not self.outage.failed(error):
                self.log.event("collect_error", f"{type(error).__name__}: {error}")

    def _collect_loop(self) -> None:
        """One pass, then wait the interval (or until `collect_soon`): passes never overlap or pile up."""
        while not self.stop_event.is_set():
            self._collect_wake.wait(self.config.collect_seconds)
            self._collect_wake.clear()
            if self.stop_event.is_set():
                return
            self._collect_job()
            self.collect_passes += 1

    def collect_soon(self) -> None:
        """Start a collection pass now (or right after the one under way)."""
        self._collect_wake.set()

    def _sweep_job(self) -> None:
        if not self._sweep_lock.acquire(blocking=False):
            return  # a sweep is under way (SIGHUP during the minute's sweep): it is enough
        try:
            self._sweep()
        finally:
            self._sweep_lock.release()

    def _sweep(self) -> None:
        if self.outage.waiting():
            return
        try:
            if self.reload_requested.is_set() or _mtime(self.config.calendar_path) != self._calendar_mtime:
                self.reload_requested.clear()
                self.log.event("reload", f"reloading {self.config.calendar_path}")
                self.load_and_sync()
            self.beat()
        except Exception as error:  # noqa: BLE001
            if not self.outage.failed(error):
                self.log.event("sweep_error", f"{type(error).__name__}: {error}")
            return
        self._dispatch_job()

    def _saved_job(self) -> None:
        """A save in the console or the API bumps a counter in the store: reload at once (the
        console already synced its plan; this daemon takes the new calendar's blackouts and
        wakes up for posts due sooner than its next tick)."""
        if self.outage.waiting() or self.stop_event.is_set():
            return
        try:
            serial = saved_serial(self.store)
        except Exception as error:  # noqa: BLE001 - the dispatch job reports store outages
            if not self.outage.failed(error):
                self.log.event("sweep_error", f"{type(error).__name__}: {error}")
            return
        if self._saved_serial is not None and serial != self._saved_serial:
            self.reload_requested.set()
            self._sweep_job()
        self._saved_serial = serial

    def _inbox_job(self) -> None:
        if not self._inbox_lock.acquire(blocking=False):
            return  # a render longer than the interval: the next tick looks again
        try:
            self._inbox()
        finally:
            self._inbox_lock.release()

    def _inbox(self) -> None:
        inbox = self.config.inbox_dir
        if inbox is None or not inbox.is_dir() or self.loaded is None:
            return
        signature = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in inbox.iterdir() if p.is_file()))
        if signature == self._inbox_signature:
            return
        first = self._inbox_signature is None
        self._inbox_signature = signature
        queue = self.config.render_queue
        try:
            with render_lock(self.config.dispatch.build_dir):  # the console's desk may be rendering too
                summary = render_all(self.loaded, inbox, self.config.dispatch.build_dir, workers=1,
                                     listener=StoreRenderListener(self.store, self.clock.now),
                                     dispatch=dispatcher(queue) if queue else None)
        except QueueUnavailable as error:  # the drop is not lost: it is queued on a later pass
            self._inbox_signature = None
            self.log.event("render_error", str(error))
            return
        except Exception as error:  # noqa: BLE001 - a bad drop must not stop publishing
            self.log.event("render_error", f"{type(error).__name__}: {error}")
            return
        if summary.rendered:
            try:
                self.store.record_assets(summary.rendered, self.clock.now())
            except Exception as error:  # noqa: BLE001 - the files are rendered; the next change records them again
                if not self.outage.failed(error):
                    raise
                self._inbox_signature = None
                return
        if summary.rendered or summary.queued or not first:
            self.log.event("rendered", f"inbox: {len(summary.rendered)} rendered, {len(summary.queued)} queued for render "
                           f"workers, {len(summary.skipped)} up to date, {len(summary.rejected)} rejected, {len(summary.missing)} missing")
        for entry in summary.rejected + summary.errors:
            self.log.event("render_rejected", entry.get("reason", ""), source=entry.get("source"))
        self._draft_subtitles(inbox)

    def _draft_subtitles(self, inbox: Path) -> None:
        """New clips without subtitles in their spoken language get a draft from their speech
        (scheduler.subtitle_review): a person approves it before anything is burned in."""
        if self.loaded is None:
            return
        try:
            for message in draft_missing(self.store, self.loaded.calendar, inbox, now=self.clock.now(),
                                         root=self.loaded.root, tried=self._drafts_tried):
                self.log.event("subtitles_draft", message)
        except SpeechUnavailable as error:
            if not self._speech_said:
                self._speech_said = True
                self.log.event("subtitles_draft", f"clips without subtitles are not drafted: {error}")
        except Exception as error:  # noqa: BLE001 - drafting must never stop publishing
            if not self.outage.failed(error):
                self.log.event("subtitles_draft", f"drafting failed: {type(error).__name__}: {error}")

    def add_job(self, job_id: str, seconds: float, run: Callable[[], None]) -> None:
        """A job handed in from outside (the notifier): run every `seconds` on the daemon's
        scheduler beside the dispatcher, skipped during a store outage, its errors logged."""
        self._jobs.append((job_id, seconds, run))

    def _guarded(self, job_id: str, run: Callable[[], None]) -> Callable[[], None]:
        running = threading.Lock()  # a run longer than its interval: the next tick runs it again

        def job() -> None:
            if self.stop_event.is_set() or self.outage.waiting() or not running.acquire(blocking=False):
                return
            try:
                run()
            except Exception as error:  # noqa: BLE001 - a side job must never stop the daemon
                if not self.outage.failed(error):
                    self.log.event(f"{job_id}_error", f"{type(error).__name__}: {error}")
            finally:
                running.release()

        return job

    def beat(self) -> None:
        self.clock_keeper.keep()
        now = self.clock.now()
        self.store.beat(self.worker, now, {"calendar": str(self.config.calendar_path)})
        if self.config.heartbeat_file is not None:
            tmp = self.config.heartbeat_file.with_suffix(".tmp")
            tmp.write_text(now.isoformat() + "\n", encoding="utf-8")
            tmp.replace(self.config.heartbeat_file)

    # -- life --------------------------------------------------------------------------------------

    # -- can each channel publish? ------------------------------------------------------------------

    CHECK_ACTOR = "daemon check"

    def check_channels(self) -> list:
        """Ask every channel's platform whether it can publish (credentials, version), log the
        answer, and pause a channel that cannot: its posts wait, and `status` says why. A channel
        this check paused earlier is resumed once it passes (the fix was made)."""
        if self.loaded is None:
            return []
        tokens = self.dispatcher.tokens
        if tokens is not None:  # a token that expired while the daemon was down is renewed before it is judged
            for channel in self.loaded.calendar.channels:
                try:
                    tokens.before_publish(channel.id)
                except Exception:  # noqa: BLE001 - the check below reports what is still wrong
                    pass
        reports = check_channels(self.loaded.calendar, self.dispatcher.publishers)
        now = self.clock.now()
        states = self.store.channel_states()
        for report in reports:
            state = states.get(report.channel_id, {})
            for problem in report.problems:
                self.log.event("channel_check", problem.message, channel=report.channel_id, blocking=problem.blocking)
            blocking = report.blocking
            if blocking and not state.get("paused"):
                self.store.pause(report.channel_id, f"cannot publish: {blocking[0].message} — fix it, then run "
                                 f"`python run.py resume --channel {report.channel_id}` (or restart the daemon)", self.CHECK_ACTOR, now)
                self.log.event("channel_paused", blocking[0].message, channel=report.channel_id)
            elif not blocking and state.get("paused") and state.get("paused_by") == self.CHECK_ACTOR:
                self.store.resume(report.channel_id, self.CHECK_ACTOR, now)
                self.log.event("channel_resumed", "the channel passes its check again", channel=report.channel_id)
        ready = sum(1 for r in reports if not r.blocking)
        self.log.event("checked", f"{ready} of {len(reports)} channels can publish")
        return reports

    def _put_store_on_clock(self) -> None:
        change = self.clock_keeper.start()
        if change:
            self.log.event("clock", change)

    def start(self) -> None:
        install_http_hook()
        self._put_store_on_clock()
        self.load_and_sync()
        self.check_channels()
        scheduler = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            # Side jobs (add_job) get threads of their own: one that hangs cannot take the dispatcher's.
            executors={"default": ThreadPoolExecutor(4), "side": ThreadPoolExecutor(2)},
            job_defaults={"coalesce": True, "max_instances": 4}, timezone=UTC)  # the jobs guard themselves
        interval = self.config.interval_seconds
        now = dt.datetime.now(UTC)
        # Grace on purpose: a tick late by up to one interval still runs (never the 1 s default).
        scheduler.add_job(self._dispatch_job, "interval", seconds=interval, id="dispatch", next_run_time=now,
                          misfire_grace_time=max(1, int(interval)), replace_existing=True)
        scheduler.add_job(self._sweep_job, "interval", seconds=self.config.sweep_seconds, id="sweep",
                          misfire_grace_time=max(1, int(self.config.sweep_seconds)), replace_existing=True)
        scheduler.add_job(self._saved_job, "interval", seconds=self.config.saved_seconds, id="saved", next_run_time=now,
                          misfire_grace_time=max(1, int(self.config.saved_seconds)), replace_existing=True)
        if self.config.inbox_dir is not None:
            scheduler.add_job(self._inbox_job, "interval", seconds=self.config.inbox_seconds, id="inbox", next_run_time=now,
                              misfire_grace_time=max(1, int(self.config.inbox_seconds)), replace_existing=True)
        for job_id, seconds, run in self._jobs:
            scheduler.add_job(self._guarded(job_id, run), "interval", seconds=seconds, id=job_id, next_run_time=now,
                              misfire_grace_time=max(1, int(seconds)), replace_existing=True, executor="side")
        self._scheduler = scheduler
        scheduler.start()
        if self.collector is not None:
            self._collect_thread = threading.Thread(target=self._collect_loop, name="collect", daemon=True)
            self._collect_thread.start()
        self.beat()
        self.log.event("started", f"worker {self.worker}", interval=interval)

    def wakeup(self) -> None:
        """Run a dispatch pass now (tests, and after SIGHUP)."""
        if self._scheduler is not None:
            self._scheduler.add_job(self._dispatch_job, "date", run_date=dt.datetime.now(UTC), id="dispatch-now",
                                    replace_existing=True, misfire_grace_time=60)

    def stop(self) -> None:
        """Stop claiming; the publish in flight finishes (shutdown waits for running jobs)."""
        self.stop_event.set()
        self._collect_wake.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        if self._collect_thread is not None:
            self._collect_thread.join()  # the pass under way finishes (each collection is one short transaction)
            self._collect_thread = None
        self.dispatcher.close()  # the publishes in flight finish and are recorded
        try:
            self.clock_keeper.stop()  # a rehearsal's time stands still once nothing moves it
        except Exception as error:  # noqa: BLE001 - the store may be gone (an outage): the row then keeps running
            self.log.event("sweep_error", f"the store's clock was not stopped: {type(error).__name__}: {error}")
        self.log.event("stopped", f"worker {self.worker}")

    def run_forever(self) -> int:
        """Run until SIGTERM/SIGINT; SIGHUP reloads the calendar. Returns the exit code."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop_event.set())
        signal.signal(signal.SIGHUP, lambda *_: (self.reload_requested.set(), self._wake_sweep()))
        self.start()
        while not self.stop_event.wait(1.0):
            pass
        if not self.outage.gave_up:
            self.log.event("stopping", "signal received: finishing the publish in flight")
        self.stop()
        return self.exit_code

    def _wake_sweep(self) -> None:
        if self._scheduler is not None:
            self._scheduler.add_job(self._sweep_job, "date", run_date=dt.datetime.now(UTC), id="sweep-now",
                                    replace_existing=True, misfire_grace_time=60)

    def run_once(self) -> PassReport:
        """`daemon --once`: sync, one pass, exit (cron-style use and the crash tests)."""
        install_http_hook()
        self._put_store_on_clock()
        self.load_and_sync()
        report = self.pass_once()
        self.clock_keeper.stop()  # as `stop()` does: the rehearsal's time stands where this pass left it
        return report


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
