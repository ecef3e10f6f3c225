"""Scheduler speed: plan+sync 10,000 posts, daemon start with 100,000 future posts, due-post latency.

Goals (issue 6): sync 10,000 < 5 s; start with 100,000 < 5 s and RSS < 300 MB; a due post
leaves within 1 s of its time. Baseline in the same run: planning + syncing the sample calendar.

    python -m bench.bench_scheduler [--posts 10000] [--future 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from campaign.calendar import load_calendar
from campaign.clock import SystemClock
from scheduler.platforms.base import OutgoingPost, Publisher, PublishResult, StepLedger
from scheduler.daemon import Daemon, DaemonConfig
from campaign.post import PlannedPost, post_id
from scheduler.store import Store, states, sync_plan

UTC = dt.timezone.utc


class NullPublisher(Publisher):
    platform = "null"

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        return PublishResult(remote_id=post.idempotency_key, url=None)


def synthetic(count: int, start: dt.datetime) -> list[PlannedPost]:
    channels = ["be-facebook", "be-instagram", "be-x", "be-linkedin", "be-mastodon", "embassy-tokyo"]
    step = dt.timedelta(days=365) / count
    posts = []
    for i in range(count):
        at = start + step * i
        channel = channels[i % len(channels)]
        posts.append(PlannedPost(
            id=post_id(f"moment-{i // 6:05d}", at.year, channel, "en"), moment_id=f"moment-{i // 6:05d}",
            occurrence=at.year, channel_id=channel, platform="x", account="bench", language="en", scheduled_at=at,
            local_time=at, caption=f"Synthetic post {i}: Belgium, in the words of others. #EmbracingOpenness",
            link="https://www.belgium.be/en/embracing-openness", hashtags=("EmbracingOpenness",), media=None,
            needs_approval=channel == "be-linkedin", grace_seconds=3600))
    return posts


def rss_mb() -> float:
    """Peak RSS of this process. VmHWM, because getrusage's ru_maxrss survives exec and so
    reports the parent's peak in a freshly started child; ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def future_start() -> dt.datetime:
    """Tomorrow at midnight UTC: the same synthetic plan in the parent and the child process."""
    return dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(), UTC)


def start_only(work: Path, count: int) -> None:
    """A daemon process starting on a store that already holds `count` future posts: it
    re-plans (here: the synthetic plan), syncs (all unchanged), and runs its first pass."""
    store = Store(f"sqlite:///{work / 'daemon.db'}")
    config = DaemonConfig(calendar_path=ROOT / "calendar.yaml", interval_seconds=30, sweep_seconds=60,
                          heartbeat_file=work / "campaign.heartbeat", inbox_dir=work / "inbox")
    rss_before = rss_mb()
    t0 = time.perf_counter()
    daemon = Daemon(store, SystemClock(), lambda _c: NullPublisher(), config,
                    planner=lambda loaded, build_dir, today: synthetic(count, future_start()))
    daemon.start()
    daemon.dispatcher.run_once()
    started = time.perf_counter() - t0
    daemon.stop()
    print(f"daemon start with {count} future posts (re-plan, sync, first pass): {started:.2f} s (goal < 5 s); "
          f"max RSS {rss_mb():.0f} MB (goal < 300 MB; {rss_before:.0f} MB after imports)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--future", type=int, default=100_000)
    parser.add_argument("--start-only", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start_only:
        start_only(args.start_only, args.future)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-scheduler-"))
    now = dt.datetime.now(UTC)

    # Baseline: the sample calendar through the real planner and the store.
    from scheduler.plan import plan_posts

    t0 = time.perf_counter()
    loaded = load_calendar(ROOT / "calendar.yaml", today=dt.date(2026, 11, 1))
    plan = plan_posts(loaded, build_dir=work / "build", today=dt.date(2026, 11, 1))
    store = Store(f"sqlite:///{work / 'baseline.db'}")
    sync_plan(store, plan, now)
    baseline = time.perf_counter() - t0
    per_post_base = baseline / max(1, len(plan.posts))
    print(f"baseline: plan+sync of the sample calendar ({len(plan.posts)} posts): {baseline:.3f} s")

    # 1. sync 10,000 posts (first time and idempotent re-run)
    posts = synthetic(args.posts, now + dt.timedelta(days=1))
    store = Store(f"sqlite:///{work / 'sync.db'}")
    t0 = time.perf_counter()
    report = sync_plan(store, posts, now)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = sync_plan(store, posts, now)
    second = time.perf_counter() - t0
    assert len(report.added) == args.posts and again.unchanged == args.posts
    print(f"sync {args.posts} posts: {first:.2f} s first, {second:.2f} s unchanged re-run (goal < 5 s) — "
          f"{first / args.posts * 1000:.3f} ms/post vs baseline {per_post_base * 1000:.3f} ms/post "
          f"(x{per_post_base / (first / args.posts):.1f})")

    # 2. daemon start holding 100,000 future posts, measured in a fresh process (its own RSS)
    store = Store(f"sqlite:///{work / 'daemon.db'}")
    sync_plan(store, synthetic(args.future, future_start()), now)
    store.close()
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--start-only", str(work), "--future", str(args.future)],
                         capture_output=True, text=True, check=True).stdout
    print(out.strip())
    config = DaemonConfig(calendar_path=ROOT / "calendar.yaml", interval_seconds=30, sweep_seconds=60,
                          heartbeat_file=work / "campaign.heartbeat", inbox_dir=work / "inbox")
    # 3. due-post latency with the real clock and the APScheduler wake-up
    store = Store(f"sqlite:///{work / 'latency.db'}")
    latencies = []
    for i in range(3):
        due = dt.datetime.now(UTC) + dt.timedelta(seconds=1.0)
        post = synthetic(1, due)[0]
        import dataclasses

        post = dataclasses.replace(post, id=f"latency-{i}", needs_approval=False, channel_id="be-x")
        daemon = Daemon(store, SystemClock(), lambda _c: NullPublisher(), config,
                        planner=lambda loaded, build_dir, today, p=post: [p])
        daemon.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and store.get(post.id).state != states.PUBLISHED:
            time.sleep(0.01)
        daemon.stop()
        row = store.get(post.id)
        latencies.append((row.published_at - post.scheduled_at).total_seconds())
    print(f"due-post latency: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)} (goal < 1000 ms, tick 30 s)")


if __name__ == "__main__":
    main()
