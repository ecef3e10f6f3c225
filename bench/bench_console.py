"""Console speed on a big store: the pages a team opens all day, with 10,000 posts in the store;
and a save of the sample calendar from the editing forms (goal: under 2 s).

Prints each page's time against a baseline measured in the same run (the same store read by
`status`'s report, which every console page builds on), so figures compare across machines.
The save is measured against `validate`'s own check of the same file, in the same run.

Then the concurrent figure (issue 23): a real `web` process (uvicorn) while --clients clients
load the calendar over and over, and /healthz and /live are polled meanwhile: their p50/p95
(goal: p95 under 100 ms, no error), against the same requests on the idle server.

Identical requests of one account share a render (console.probes.Coalesced): with --views N the
clients spread over N different calendar views (the whole calendar, then one channel each), which
share less.

    python -m bench.bench_console [--posts 10000] [--clients 50] [--seconds 20] [--views 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
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
    parser.add_argument("--clients", type=int, default=50, help="clients loading the calendar at once")
    parser.add_argument("--seconds", type=float, default=20, help="how long the concurrent run lasts")
    parser.add_argument("--views", type=int, default=1, choices=range(1, len(VIEWS) + 1),
                        help="how many different calendar views the clients spread over")
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
        concurrent(url, Path(work), args.clients, args.seconds, args.views)
    bench_save()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


#: The calendar views the concurrent clients load (--views: the first N).
VIEWS = ("/", "/?channel=be-facebook", "/?channel=be-instagram", "/?channel=be-x", "/?channel=be-linkedin",
         "/?channel=be-mastodon", "/?channel=embassy-tokyo")


def concurrent(url: str, work: Path, clients: int, seconds: float, views: int = 1) -> None:
    """`web` in its own process; `clients` load the calendar while /healthz and /live are polled."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (work / "web.log").open("w")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "web", "--db", url, "--port", str(port),
                               "--calendar", str(ROOT / "calendar.yaml"), "--build", str(work / "build")],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("web did not start: " + (work / "web.log").read_text())
            time.sleep(0.2)
        asyncio.run(_load(base, clients, seconds, views))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


async def _timed_get(http, kind: str, path: str, times: dict[str, list[float]], errors: list[str]) -> None:  # type: ignore[no-untyped-def]
    import httpx

    started = time.perf_counter()
    try:
        answer = await http.get(path)
        if answer.status_code != 200:
            errors.append(f"{kind}: HTTP {answer.status_code}")
    except httpx.HTTPError as error:
        errors.append(f"{kind}: {type(error).__name__}")
    times.setdefault(kind, []).append(time.perf_counter() - started)


def _loaders(base: str, cookie: str, clients: int, seconds: float, views: int, results) -> None:  # type: ignore[no-untyped-def]
    """In a process of its own (so reading 50 big pages does not delay the pollers' clock):
    `clients` clients loading the calendar until the time is up."""
    import httpx

    async def run() -> tuple[dict[str, list[float]], list[str]]:
        times: dict[str, list[float]] = {}
        errors: list[str] = []
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base, timeout=300, limits=limits, cookies={"eo_session": cookie}) as http:
            stop = time.monotonic() + seconds

            async def loader(path: str) -> None:
                while time.monotonic() < stop:
                    await _timed_get(http, "calendar", path, times, errors)

            await asyncio.gather(*(loader(VIEWS[i % views]) for i in range(clients)))
        return times, errors

    results.put(asyncio.run(run()))


async def _load(base: str, clients: int, seconds: float, views: int) -> None:
    import multiprocessing

    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=300) as http:
        page = await http.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        await http.post("/login", data={"csrf": token, "name": "bench", "password": "bench-password", "next": "/"})
        calendar = await http.get("/")
        assert calendar.status_code == 200, calendar.status_code
        since = calendar.text.split("since=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
        live_path = "/live?since=" + since
        times: dict[str, list[float]] = {}
        errors: list[str] = []
        for _ in range(20):  # idle: the same polls with nothing else running
            await _timed_get(http, "healthz", "/healthz", times, errors)
            await _timed_get(http, "live", live_path, times, errors)
        idle = {k: statistics.median(v) for k, v in times.items()}
        times = {}
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        load = context.Process(target=_loaders, args=(base, http.cookies["eo_session"], clients, seconds, views, results))
        load.start()
        await asyncio.sleep(min(3.0, seconds / 5))  # the clients are all waiting for pages
        stop = time.monotonic() + seconds * 0.8

        async def poller(kind: str, path: str, every: float) -> None:
            while time.monotonic() < stop:
                await _timed_get(http, kind, path, times, errors)
                await asyncio.sleep(every)

        await asyncio.gather(poller("healthz", "/healthz", 0.1), poller("live", live_path, 0.25))
        loaded, load_errors = await asyncio.to_thread(results.get)
        load.join()
    times.update(loaded)
    errors += load_errors
    print(f"\nconcurrent: {clients} clients of one account loading the calendar ({views} different view"
          f"{'s' if views != 1 else ''}) for {seconds:.0f} s, /healthz and /live polled meanwhile")
    for kind in ("calendar", "healthz", "live"):
        got = times.get(kind, [])
        alone = f"; alone {idle[kind] * 1000:.0f} ms" if kind in idle else ""
        print(f"  {kind}: {len(got)} answers, p50 {percentile(got, 0.5) * 1000:.0f} ms, "
              f"p95 {percentile(got, 0.95) * 1000:.0f} ms, p99 {percentile(got, 0.99) * 1000:.0f} ms, max {max(got) * 1000:.0f} ms{alone}")
    worst = max(percentile(times["healthz"], 0.95), percentile(times["live"], 0.95))
    print(f"  errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors))[:5])})" if errors else ""))
    print(f"  /healthz and /live p95 {'under' if worst < 0.1 else 'OVER'} 100 ms ({worst * 1000:.0f} ms); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


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
