"""Console speed on a big store: the pages a team opens all day, with 10,000 posts in the store.

Prints each page's time against a baseline measured in the same run (the same store read by
`status`'s report, which every console page builds on), so figures compare across machines.

    python -m bench.bench_console [--posts 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from argon2 import PasswordHasher
from starlette.testclient import TestClient

import console.accounts
from bench.bench_scheduler import synthetic
from campaign.clock import FakeClock
from console.app import ConsoleConfig
from console.server import create_app
from scheduler.store import Store, sync_plan
from scheduler.store.status import build_status

UTC = dt.timezone.utc


def timed(action, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    console.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # logins are not measured
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'bench.db'}"
        store = Store(url)
        start = dt.datetime(2027, 1, 1, tzinfo=UTC)
        sync_plan(store, synthetic(args.posts, start), start)
        console.accounts.Accounts(store.engine).add("bench", "admin", "bench-password", by="bench", now=start)
        app = create_app(ConsoleConfig(db=url, calendar=ROOT / "calendar.yaml", build=Path(work) / "build"),
                         clock=FakeClock(start), store=store)
        client = TestClient(app, base_url="http://127.0.0.1")
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.post("/login", data={"csrf": token, "name": "bench", "password": "bench-password", "next": "/"})
        baseline = timed(lambda: build_status(store, start))
        print(f"{args.posts} posts in the store; baseline: status report {baseline * 1000:.0f} ms")
        for name, path in (("calendar, first 200 posts (week view)", "/"),
                           ("calendar, one channel's list", "/?channel=be-x&view=list"),
                           ("operations", "/operations"), ("live poll, nothing changed", None)):
            if path is None:
                since = client.get("/").text.split("since=", 1)[1].split('"', 1)[0]
                path = "/live?since=" + since
            assert client.get(path).status_code == 200
            seconds = timed(lambda: client.get(path))
            print(f"{name}: {seconds * 1000:.0f} ms = {seconds / baseline:.1f}x the status report")
        client.close()
        store.close()


if __name__ == "__main__":
    main()
