"""One channel stalled, the others on time: Instagram processes a Reel for 20 minutes of
campaign time (and its status request hangs a few seconds), while X, Mastodon, Facebook and
LinkedIn each have a post due every two minutes. The figure is the lateness of those other
posts (goal: under 2 s). The dispatcher runs as the daemon runs it: a pass every tick,
channel workers that keep publishing between passes.

    python -m bench.bench_stalled_channel [--speed 20] [--minutes 20]

Campaign time runs `speed` times faster than real time; lateness is printed in real seconds
(what a person would see at speed 1) and in campaign seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from campaign.clock import ScaledClock
from testkit.faults import Platforms, make_media, planned
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.store import Store, states, sync_plan

GOAL_SECONDS = 2.0
OTHERS = ("x", "mastodon", "facebook", "linkedin")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speed", type=float, default=20.0, help="campaign seconds per real second")
    parser.add_argument("--minutes", type=int, default=20, help="campaign minutes Instagram keeps processing")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-stalled-"))
    build = make_media(work / "build")
    start = dt.datetime(2027, 5, 1, 8, 0, tzinfo=dt.timezone.utc)
    clock = ScaledClock(start - dt.timedelta(seconds=2 * args.speed), args.speed)
    platforms = Platforms(clock, build, ("instagram",) + OTHERS, poll_interval=2.0, inline_wait=10.0,
                          check_again_after=30.0, max_processing_wait=900.0)
    store = Store(f"sqlite:///{work / 'campaign.db'}")
    reel = planned("stalled-reel", "instagram", start, media="clip")
    others = [planned(f"on-time-{i:02d}", platform, start + dt.timedelta(minutes=i), text=f"Post {i} on {platform}: Belgium, "
                      f"in the words of others. #EmbracingOpenness")
              for i in range(0, args.minutes, 2) for platform in OTHERS]
    sync_plan(store, [reel, *others], clock.now())
    platforms.emulators["instagram"].inject("slow_processing", seconds=args.minutes * 60)
    platforms.emulators["instagram"].inject("timeout", on="status", seconds=3.0)  # one status request hangs 3 s
    dispatcher = Dispatcher(store, clock, platforms, config=DispatchConfig(build_dir=build, lease_seconds=900))
    began = time.monotonic()
    try:
        deadline = began + (args.minutes * 60 + 600) / args.speed + 30
        while time.monotonic() < deadline:
            dispatcher.run_once(wait=False)  # the daemon's tick
            rows = store.all_posts()
            if all(r.state not in states.CLAIMABLE + (states.PUBLISHING,) for r in rows):
                break
            time.sleep(0.02)
        dispatcher.close()
        rows = {r.id: r for r in store.all_posts()}
    finally:
        platforms.stop()
        store.close()
    late = [(rows[p.id].published_at - p.scheduled_at).total_seconds() for p in others if rows[p.id].published_at]
    unpublished = [p.id for p in others if rows[p.id].state != states.PUBLISHED]
    reel_row = rows[reel.id]
    real = [s / args.speed for s in late]
    print(f"stalled channel: instagram reel processing {args.minutes} min -> {reel_row.state} "
          f"({(reel_row.published_at - reel.scheduled_at).total_seconds() / 60 if reel_row.published_at else float('nan'):.1f} "
          f"campaign min after its time)")
    print(f"other channels: {len(late)} of {len(others)} posts published, {len(unpublished)} not")
    print(f"lateness of the other channels' posts, real seconds: max {max(real):.3f}, median {statistics.median(real):.3f} "
          f"(campaign seconds at speed {args.speed:g}: max {max(late):.1f}, median {statistics.median(late):.1f})")
    ratio = max(real) / GOAL_SECONDS
    print(f"goal < {GOAL_SECONDS:g} s: ratio {ratio:.3f} ({'met' if ratio < 1 and not unpublished else 'NOT met'}); "
          f"real run {time.monotonic() - began:.1f} s")
    return 0 if ratio < 1 and not unpublished else 1


if __name__ == "__main__":
    raise SystemExit(main())
