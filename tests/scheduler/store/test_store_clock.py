"""One clock per store (issue 23): in a sandbox on the campaign clock, `status` printed the real
date (2026) while the daemon lived in 2027, posts already past on the campaign clock read
"scheduled", and the audit trail mixed both years. The store now says which clock it lives on,
and every reader (status, approve and the other actions, the console and its API) takes its time
from there and says which clock it shows."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from application.cli import app
from campaign.clock import FakeClock, ScaledClock, SystemClock
from scheduler.store import Store, states, sync_plan
from scheduler.store.clock import ClockKeeper, StoreClock, read_anchor
from testkit.scheduler import make_post
from testkit.console import cheap_password_hashes  # noqa: F401 (autouse: the console rig's passwords at Argon2's smallest cost)

UTC = dt.timezone.utc
ROOT = Path(__file__).resolve().parents[3]
CAMPAIGN = dt.datetime(2027, 5, 9, 7, 0, tzinfo=UTC)  # where the rehearsal's clock stands
PAST = make_post("europe-eve", "be-x", CAMPAIGN - dt.timedelta(hours=2))  # past on the campaign clock
LATER = make_post("europe-day", "be-x", CAMPAIGN + dt.timedelta(days=3))


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    made = Store(f"sqlite:///{tmp_path / 'sandbox.db'}")
    sync_plan(made, [PAST, LATER], CAMPAIGN - dt.timedelta(days=1))
    yield made
    made.close()


def _cli(*args: str) -> tuple[int, str, str]:
    unset = {k: None for k in os.environ if k.startswith("CAMPAIGN_CLOCK")}  # the store alone says which clock
    result = CliRunner().invoke(app, list(args), env=unset)
    return result.exit_code, result.stdout, result.stderr


def test_status_reads_the_campaign_clock_a_daemon_put_the_store_on(store: Store) -> None:
    ClockKeeper(store, ScaledClock(CAMPAIGN, 3600), "sandbox-daemon", "rehearsal").start()  # what a daemon does at start
    code, out, err = _cli("status", "--db", store.url)
    assert code == 0, err
    assert "Status at 2027-05-09" in out and "campaign clock: 2027-05-09" in out and "x3600, rehearsal" in out
    shown = {line.split()[-1].strip("()") for line in out.splitlines() if PAST.id in line}
    assert shown == {"due"}, out  # past on the campaign clock: due, never "scheduled"
    code, out, _ = _cli("status", "--db", store.url, "--json")
    report = json.loads(out)
    assert report["clock"]["kind"] == "campaign" and report["now"].startswith("2027-05-09")
    assert report["not_yet_due"]["total"] == 1  # only the post three days ahead waits


def test_the_audit_trail_is_in_one_year(store: Store) -> None:
    keeper = ClockKeeper(store, ScaledClock(CAMPAIGN, 60), "sandbox-daemon", "sandbox")
    keeper.start()
    code, out, err = _cli("send-back", "--db", store.url, "--post", LATER.id, "--comment", "wrong photo", "--by", "ada")
    assert code == 0, err
    code, _, err = _cli("pause", "--db", store.url, "--reason", "press embargo", "--by", "ada",
                        "--calendar", str(ROOT / "calendar.yaml"))
    assert code == 0, err
    keeper.stop()
    rows = store.audit_rows()
    assert {row["action"] for row in rows} >= {"store-clock", "send-back", "pause"}
    assert {row["at"].year for row in rows} == {2027}, [(r["action"], r["at"]) for r in rows]


def test_a_stopped_daemon_leaves_the_clock_standing_and_a_real_one_takes_it_back(store: Store) -> None:
    keeper = ClockKeeper(store, ScaledClock(CAMPAIGN, 3600), "w", "rehearsal")
    keeper.start()
    keeper.stop(CAMPAIGN)
    clock = StoreClock(store, SystemClock())
    assert clock.now() == CAMPAIGN and "stopped: rehearsal ended" in clock.describe()
    ClockKeeper(store, SystemClock(), "real-daemon").start()
    assert read_anchor(store) is None and StoreClock(store).now().year == dt.datetime.now(UTC).year
    assert store.audit_rows()[-1]["detail"].startswith("the store runs on the real clock again")
    ClockKeeper(store, FakeClock(CAMPAIGN), "test").start()  # a test's clock leaves the store as it is
    assert read_anchor(store) is None


def test_leaps_reach_the_readers(store: Store) -> None:
    clock = ScaledClock(CAMPAIGN, 60)
    keeper = ClockKeeper(store, clock, "w", "rehearsal")
    keeper.start()
    clock.leap_to(CAMPAIGN + dt.timedelta(days=30))
    keeper.keep()
    assert abs((StoreClock(store).now() - clock.now()).total_seconds()) < 60


def test_a_daemon_still_running_takes_the_clock_back_from_one_that_stopped(store: Store, monkeypatch) -> None:
    import scheduler.store.clock as store_clock

    clock = ScaledClock(CAMPAIGN, 60)
    first, second = ClockKeeper(store, clock, "a", "emulators"), ClockKeeper(store, clock, "b", "emulators")
    first.start()
    second.start()
    first.stop()
    assert read_anchor(store).speed == 0  # type: ignore[union-attr]
    monkeypatch.setattr(store_clock, "RECHECK_REAL_SECONDS", 0.0)
    second.keep()
    assert read_anchor(store).speed == 60  # type: ignore[union-attr]


def test_the_console_header_and_the_api_say_which_clock(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from console.app import ConsoleConfig
    from console.server import create_app
    from testkit.console import login, make_rig

    rig = make_rig(tmp_path)
    try:
        application = create_app(ConsoleConfig(db=rig.url, calendar=rig.calendar_path, build=rig.build, inbox=rig.inbox),
                                 clock=rig.clock, store=rig.store)
        with TestClient(application, base_url="http://127.0.0.1") as client:
            login(client, "ada")
            assert "real clock: 2026-12-01 08:00 UTC" in client.get("/").text  # no daemon: the clock it was given
            ClockKeeper(rig.store, ScaledClock(CAMPAIGN, 3600), "w", "rehearsal").start()
            application.state.console.clock.refresh = 0  # read the row at once (a console reads it every 2 s)
            page = client.get("/operations").text
            assert 'class="clock campaign"' in page and "campaign clock: 2027-05-09" in page
            answer = client.get("/api/v1/posts")
            assert answer.headers["x-campaign-clock"].startswith("campaign clock: 2027-05-09")
    finally:
        rig.store.close()


def test_failed_logins_wait_real_minutes_on_a_fast_campaign_clock(tmp_path: Path) -> None:
    """The console takes the store's clock for what it shows and records; the limit on failed
    logins stays in real time (at x3600 a 15-minute wait would last a quarter of a second)."""
    from starlette.testclient import TestClient

    from console.accounts import MAX_FAILURES
    from console.app import ConsoleConfig
    from console.server import create_app
    from testkit.console import login, make_rig

    rig = make_rig(tmp_path)
    try:
        ClockKeeper(rig.store, ScaledClock(CAMPAIGN, 3600), "w", "rehearsal").start()
        application = create_app(ConsoleConfig(db=rig.url, calendar=rig.calendar_path, build=rig.build, inbox=rig.inbox),
                                 clock=rig.clock, store=rig.store)
        with TestClient(application, base_url="http://127.0.0.1") as client:
            for _ in range(MAX_FAILURES):
                assert login(client, "ada", "wrong password!").status_code == 401
            time.sleep(0.5)  # half an hour on the campaign clock
            assert login(client, "ada").status_code == 429
        assert {row["at"].year for row in rig.store.audit_rows() if row["action"] == "login-failed"} == {2027}
        # an upload's 24 hours are real hours too (tus Upload-Expires)
        assert application.state.console.desk.tus(lambda *_: None).clock is rig.clock
    finally:
        rig.store.close()


@pytest.mark.slow  # a real sandbox daemon (its emulators) and CLI processes: about 10 s
def test_a_sandbox_daemon_on_the_campaign_clock_and_status_after_it(tmp_path: Path) -> None:
    for name in ("calendar.yaml",):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("templates", "assets/brand"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_CLOCK")}
    db = f"sqlite:///{tmp_path / 'sandbox.db'}"

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp_path, env={**clean, **env},
                              capture_output=True, text=True, timeout=120)

    # Europe Day 2027 on the campaign clock; the real date is 2026.
    done = run("daemon", "--sandbox", "--once", "--db", db, "--build", str(tmp_path / "build"),
               CAMPAIGN_CLOCK_START="2027-05-09T06:55:00+02:00", CAMPAIGN_CLOCK_SPEED="60")
    assert done.returncode == 0, done.stderr
    status = run("status", "--db", db)  # no clock variable: the store says which clock
    assert status.returncode == 0, status.stderr
    assert "Status at 2027-05-09" in status.stdout and "campaign clock: 2027-05-09" in status.stdout, status.stdout
    assert "(stopped: sandbox ended)" in status.stdout
    report = json.loads(run("status", "--db", db, "--json").stdout)
    store = Store(db)
    try:
        now = dt.datetime.fromisoformat(report["now"])
        assert report["clock"]["kind"] == "campaign" and now.year == 2027
        waiting = [p for p in store.all_posts() if p.state == states.DUE and p.scheduled_at > now]
        assert report["not_yet_due"]["total"] == len(waiting)  # posts past on the campaign clock are not "scheduled"
        assert all(b["shown_state"] != "scheduled" for b in report["next"]
                   if dt.datetime.fromisoformat(b["scheduled_at"]) <= now)
        assert run("approve", "--db", db, "--channel", "be-linkedin", "--by", "ada").returncode == 0
        years = {row["at"].year for row in store.audit_rows()}
        assert years == {2027}, years
    finally:
        store.close()
