"""Console speed on a big store: the pages a team opens all day, with 10,000 posts in the store;
and a save of the sample calendar from the editing forms (goal: under 2 s).

Prints each page's time against a baseline measured in the same run (the same store read by
`status`'s report, which every console page builds on), so figures compare across machines.
The save is measured against `validate`'s own check of the same file, in the same run.

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
    bench_save()


def bench_save(repeat: int = 5) -> None:
    """A save of the sample calendar as the console's form makes it (one moment's title): the
    round-trip write, `validate`'s checks, the git commit, the plan, the sync into the store
    and the signal to the daemons; and the live preview while typing (no write)."""
    import shutil
    import subprocess

    from campaign.calendar import load_calendar
    from scheduler import edits
    from scheduler.plan import plan_posts
    from scheduler.plan.template_check import template_problems

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "campaign"
        (folder / "assets").mkdir(parents=True)
        (folder / "assets" / "brand").symlink_to(ROOT / "assets" / "brand")
        (folder / "templates").symlink_to(ROOT / "templates")
        path = folder / "calendar.yaml"
        shutil.copy(ROOT / "calendar.yaml", path)
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", "-C", str(folder)]
        subprocess.run(git + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "calendar.yaml"], check=True)
        subprocess.run(git + ["commit", "-q", "-m", "sample"], check=True)
        now = dt.datetime(2026, 12, 1, 8, tzinfo=UTC)
        store = Store(f"sqlite:///{Path(work) / 'save.db'}")
        build = Path(work) / "build"
        build.mkdir()
        sync_plan(store, plan_posts(load_calendar(path, today=now.date()), build_dir=build, today=now.date()), now)
        baseline = timed(lambda: template_problems(load_calendar(path, today=now.date())), repeat)
        who = edits.Editor("bench", "admin")
        europe = load_calendar(path).calendar.moment("europe-day").model_dump(mode="python", exclude_defaults=True)
        titles = iter(f"Europe Day ({i})" for i in range(100))

        def change() -> list[edits.Change]:
            return [edits.Change("moments", "europe-day", {**europe, "title": next(titles)})]

        preview = timed(lambda: edits.preview(store, path, change(), who=who, now=now, build=build), repeat)
        save = timed(lambda: edits.apply(store, path, change(), who=who, now=now, build=build, base_hash=None), repeat)
        commits = subprocess.run(git + ["rev-list", "--count", "HEAD"], capture_output=True, text=True).stdout.strip()
        store.close()
    print(f"sample calendar ({len(load_calendar(ROOT / 'calendar.yaml').calendar.moments)} moments, 58 posts); "
          f"baseline: validate's checks of the file {baseline * 1000:.0f} ms")
    print(f"live preview of an edit (checks, plan, impact; nothing written): {preview * 1000:.0f} ms = "
          f"{preview / baseline:.1f}x validate")
    print(f"save of one title (write, checks, git commit, plan, sync, signal): {save * 1000:.0f} ms = "
          f"{save / baseline:.1f}x validate; goal under 2 s: {'met' if save < 2 else 'NOT met'} "
          f"({commits} commits made)")


if __name__ == "__main__":
    main()
