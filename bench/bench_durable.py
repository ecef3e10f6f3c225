"""What durable commits cost: posts per second through the daemon's dispatcher, SQLite with
`synchronous=FULL` (every commit flushed, what the store uses) against `NORMAL` (what it used
before issue 23: commits after the last checkpoint can vanish when the disk fails).

Each post takes the daemon's real commits: the claim, "create sent" in the ledger (both allow
the network call), then "published" with its remote id; the publisher answers at once, so the
figure is the store's cost alone (a real platform's answer takes 0.3-3 s). Rounds alternate
NORMAL and FULL on the same disk, in one run, and the ratio is FULL / NORMAL.

    python -m bench.bench_durable [--posts 300] [--rounds 3] [--dir /path/on/the/disk/to/measure]
"""

from __future__ import annotations

import argparse
import shutil
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from sqlalchemy import event

from campaign.clock import FakeClock
from scheduler.platforms.base import OutgoingPost, Publisher, PublishResult, StepLedger
from scheduler.daemon.dispatch import Dispatcher
from campaign.post import PlannedPost, post_id
from scheduler.store import Store, states, sync_plan

UTC = dt.timezone.utc
START = dt.datetime(2027, 5, 1, 6, 0, tzinfo=UTC)
CHANNELS = ("be-facebook", "be-instagram", "be-x", "be-linkedin", "be-mastodon", "embassy-tokyo")


class InstantPublisher(Publisher):
    """Answers at once, recording "create sent" as every real publisher does."""

    platform = "instant"
    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        (ledger or StepLedger()).create_sent()
        return PublishResult(remote_id=post.idempotency_key, url=None)


def posts(count: int) -> list[PlannedPost]:
    made = []
    for i in range(count):
        at = START + dt.timedelta(seconds=i)
        channel = CHANNELS[i % len(CHANNELS)]
        made.append(PlannedPost(
            id=post_id(f"moment-{i:05d}", at.year, channel, "en"), moment_id=f"moment-{i:05d}", occurrence=at.year,
            channel_id=channel, platform="x", account="bench", language="en", scheduled_at=at, local_time=at,
            caption=f"Synthetic post {i} #EmbracingOpenness", link=None, hashtags=("EmbracingOpenness",), media=None,
            needs_approval=False, grace_seconds=3600))
    return made


def posts_per_second(folder: Path, count: int, synchronous: str | None) -> float:
    """Publish `count` due posts through the dispatcher; `synchronous` overrides the store's."""
    name = f"{synchronous or 'full'}-{time.monotonic_ns()}.db"
    store = Store(f"sqlite:///{folder / name}")
    if synchronous:
        @event.listens_for(store.engine, "connect")
        def _override(dbapi_connection, _record):  # type: ignore[no-untyped-def]  # runs after the store's own
            dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")

        store.engine.dispose()
    sync_plan(store, posts(count), START)
    clock = FakeClock(START + dt.timedelta(seconds=count + 1))
    dispatcher = Dispatcher(store, clock, lambda _channel: InstantPublisher())
    t0 = time.perf_counter()
    dispatcher.run_once()
    elapsed = time.perf_counter() - t0
    dispatcher.close()
    published = len(store.all_posts(state=states.PUBLISHED))
    with store.engine.connect() as conn:
        used = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    store.close()
    assert published == count, f"{published} of {count} published"
    assert used == {"NORMAL": 1, "FULL": 2}.get(synchronous or "FULL"), used
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="a folder on the disk to measure (default: a temp folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-durable-", dir=args.dir))
    normal, full = [], []
    for _ in range(args.rounds):
        normal.append(posts_per_second(folder, args.posts, "NORMAL"))
        full.append(posts_per_second(folder, args.posts, None))  # the store as shipped: FULL
    n, f = statistics.median(normal), statistics.median(full)
    print(f"{args.posts} posts through the dispatcher (claim, create sent, published), median of {args.rounds} rounds "
          f"on {folder}:")
    print(f"  synchronous=NORMAL {n:.0f} posts/s, FULL {f:.0f} posts/s: FULL / NORMAL = {f / n:.2f} "
          f"({1000 / f - 1000 / n:+.1f} ms per post; a platform answers in 300-3000 ms)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
