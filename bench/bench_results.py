"""Results collection speed on a large store: a pass of due collections, and what the store adds.

Goal (issue 16): under a 100,000-post store, a pass of due collections stays under 1 s.
Baseline in the same run: the same pass on a 1,000-post store (the ratio shows what the store's
size costs). Figures are read from the X emulator on loopback, the real HTTP path.

    python -m bench.bench_results [--posts 100000] [--due 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

from campaign.calendar.models import Channel
from campaign.clock import FakeClock
from scheduler.platforms.base import OutgoingPost
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import start_emulator
from scheduler.results.collect import Collector
from scheduler.results.store import ResultsStore
from scheduler.store import Store
from scheduler.store.rows import to_db
from scheduler.store.schema import collections, posts

UTC = dt.timezone.utc
NOW = dt.datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
TOKEN = "bench-token"


def fill(store: Store, count: int, remote_ids: list[str]) -> None:
    """`count` published posts over the 60 days before NOW; the last `len(remote_ids)` are real posts on the emulator."""
    step = dt.timedelta(days=60) / count
    rows = []
    for i in range(count):
        at = NOW - dt.timedelta(days=60) + step * i
        remote = remote_ids[i - (count - len(remote_ids))] if i >= count - len(remote_ids) else f"{10**18 + i}"
        rows.append({"id": f"moment-{i // 6:05d}.2027.be-x.en.{i}", "moment_id": f"moment-{i // 6:05d}", "occurrence": 2027,
                     "channel_id": "be-x", "platform": "x", "account": "bench", "language": "en", "scheduled_at": to_db(at),
                     "local_time": at.isoformat(), "caption": f"post {i}", "link": None, "hashtags": "[]", "media": None,
                     "needs_approval": False, "grace_seconds": 3600, "warnings": "[]", "content_hash": "0" * 32,
                     "state": "published", "idempotency_key": f"k{i}", "remote_id": remote, "remote_url": None, "attempts": 1,
                     "transient_failures": 0, "published_at": to_db(at), "updated_at": to_db(at)})
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(posts), rows[start:start + 5000])


def run(count: int, due: int, work: Path) -> dict[str, float]:
    clock = FakeClock(NOW)
    emulator = start_emulator("x", token=TOKEN, account="bench", clock=FakeClock(NOW - dt.timedelta(hours=2)))
    channel = Channel(id="be-x", platform="x", account="bench", languages=["en"], timezone="UTC", slots=["09:00"])
    publisher = publisher_for(channel, credentials=Credentials("be-x", "x", {"TOKEN": TOKEN}),
                              api_overrides={"base_url": emulator.api_url}, timeout=10.0, clock=clock)
    remote_ids = [publisher.publish(OutgoingPost(post_id=f"p{i}", idempotency_key=f"p{i}", channel_id="be-x", account="bench",
                                                 language="en", text=f"bench post {i}")).remote_id for i in range(due)]
    store = Store(f"sqlite:///{work / f'results-{count}.db'}")
    fill(store, count, remote_ids)
    collector = Collector(store, clock, lambda _c: publisher, publishing_due=lambda now: False, per_pass=due)
    t0 = time.perf_counter()
    scheduler = ResultsStore(store)
    ages = (("1h", 3600), ("24h", 86400), ("7d", 604800), ("30d", 2592000))
    scheduled, longest = 0, 0.0
    while True:  # what a daemon meeting this store for the first time does, batch by batch
        t1 = time.perf_counter()
        scheduled += scheduler.schedule_new(lambda _c: ages)
        longest = max(longest, time.perf_counter() - t1)
        if not scheduler.more_to_schedule:
            break
    first = time.perf_counter() - t0
    # steady state: everything collected but the `due` newest posts' 1 h figures
    newest = {f"moment-{i // 6:05d}.2027.be-x.en.{i}" for i in range(count - due, count)}
    with store.engine.begin() as conn:
        conn.execute(update(collections).where(collections.c.due_at <= to_db(NOW)).values(done_at=to_db(NOW)))
        conn.execute(update(collections).where(collections.c.post_id.in_(newest), collections.c.age == "1h")
                     .values(done_at=None, next_try_at=to_db(NOW - dt.timedelta(minutes=1))))
    collector.results = ResultsStore(store)  # a daemon that already scheduled everything
    collector.results.schedule_new(lambda _c: ())
    t0 = time.perf_counter()
    report = collector.run_once()
    busy = time.perf_counter() - t0
    assert len(report.collected) == due, report.summary()
    t0 = time.perf_counter()
    idle_report = collector.run_once()
    idle = time.perf_counter() - t0
    assert not idle_report.collected
    publisher.close()
    emulator.stop()
    store.close()
    return {"posts": count, "scheduled": scheduled, "first": first, "longest": longest, "pass": busy, "idle": idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = run(1_000, args.due, Path(tmp))
        big = run(args.posts, args.due, Path(tmp))
    for figures in (base, big):
        print(f"{figures['posts']:>7,} published posts: first scheduling {figures['first']:.2f} s "
              f"({figures['scheduled']:,} collections, longest write {figures['longest']:.2f} s); pass with {args.due} due {figures['pass']:.3f} s; "
              f"pass with none due {figures['idle'] * 1000:.1f} ms")
    ratio = big["pass"] / base["pass"]
    verdict = "OK" if big["pass"] < 1.0 else "OVER GOAL"
    print(f"pass of {args.due} due collections under {args.posts:,} posts: {big['pass']:.3f} s (goal < 1 s: {verdict}); "
          f"{ratio:.2f}x the same pass under 1,000 posts")


if __name__ == "__main__":
    main()
