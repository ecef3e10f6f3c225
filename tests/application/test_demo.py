"""End to end: the demo on the shipped calendar and sample media, checked against the store
and against what the emulators themselves recorded — then run again through the CLI, which
must re-render nothing and report the same campaign."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.console import Console

from application.demo import run_demo
from scheduler.plan import plan_posts
from application.rehearsal import rehearsal_start
from scheduler.store import Store, states

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = ROOT / "calendar.yaml"
#: The first test also runs the module's demo from scratch: every variant rendered into a new
#: build folder (20 s on an idle machine, 190 s measured with 8 jobs sharing 2 cores), the
#: preview, the rehearsal with its collections (~45 s under that load).
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # the whole demo, twice (once through the CLI)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    work_root = tmp_path_factory.mktemp("demo")
    console = Console(file=io.StringIO(), width=200)
    outcome = run_demo(CALENDAR, build=work_root / "build", work=work_root / "demo", console=console)
    outcome.printed = console.file.getvalue()  # type: ignore[attr-defined]
    return work_root, outcome


def test_the_demo_leaves_its_store_and_prints_a_console_account_for_it(first_run) -> None:  # type: ignore[no-untyped-def]
    import re

    from starlette.testclient import TestClient

    from console.app import ConsoleConfig

    from console.server import create_app

    root, outcome = first_run
    printed = " ".join(outcome.printed.split())
    found = re.search(r"python run\.py web --db (sqlite:///\S+?),? .*log in as (\w+) with the password (\S+) ", printed)
    assert found, printed[-800:]
    url, name, password = found.groups()
    assert url == f"sqlite:///{root / 'demo' / 'rehearsal.db'}"
    app = create_app(ConsoleConfig(db=url, calendar=CALENDAR, build=root / "build"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post("/login", data={"csrf": token, "name": name, "password": password, "next": "/"},
                           follow_redirects=False).status_code == 303
        results = client.get("/results").text
        linked = [p for p in Store(url).all_posts(state="published") if p.remote_url]
        assert linked and results.count('rel="noopener noreferrer">open</a>') == len(linked)


def test_every_x_post_goes_out_through_renewed_2_hour_tokens(first_run) -> None:  # type: ignore[no-untyped-def]
    """The sandbox connects X (and LinkedIn) through the emulators' OAuth: X tokens live 2 hours on the
    campaign clock, so every X post of the year goes out with a token the daemon renewed, and says so."""
    root, outcome = first_run
    x_posts = [r for r in outcome.result.received if r.platform == "x"]
    assert x_posts and all(r.token_generation is not None and r.token_generation >= 1 for r in x_posts), \
        [(r.channel_id, r.token_generation) for r in x_posts]
    log = (root / "demo" / "daemon.log").read_text(encoding="utf-8")
    refreshed = {line.split("channel=")[1].split()[0].rstrip("]") for line in log.splitlines() if "token_refreshed" in line}
    assert {"be-x", "embassy-tokyo"} <= refreshed
    assert "reconnect_needed" not in log and "renew_failed" not in log


def test_every_planned_post_is_published_once_as_planned(first_run) -> None:  # type: ignore[no-untyped-def]
    root, outcome = first_run
    assert outcome.report is not None and outcome.report.ok, outcome.report and outcome.report.to_markdown()
    plan = plan_posts(outcome.loaded, build_dir=root / "build", today=rehearsal_start(outcome.loaded).date())
    store = Store(f"sqlite:///{root / 'demo' / 'rehearsal.db'}")
    try:
        stored = {p.id: p for p in store.all_posts()}
    finally:
        store.close()
    assert set(stored) == {p.id for p in plan.posts} and len(plan.posts) >= 40
    calendar = outcome.loaded.calendar
    received = {(r.platform, r.remote_id): r for r in outcome.result.received}
    assert len(received) == len(outcome.result.received) == len(plan.posts)  # nothing arrived twice
    for planned in plan.posts:
        post = stored[planned.id]
        assert post.state == states.PUBLISHED, (post.id, post.state_reason)
        got = received[(post.platform, post.remote_id)]
        channel = calendar.channel(post.channel_id)
        assert got.channel_id == post.channel_id and got.account == channel.account
        # The right language: the text the platform shows is the plan's, which carries this
        # language's baseline or quote.
        assert got.text == post.caption == planned.caption
        testimonial = next((t for t in calendar.testimonials if planned.media and t.id == planned.media.testimonial_id), None)
        if testimonial is not None and post.language in testimonial.quote:
            assert " ".join(testimonial.quote[post.language].split()[:3]) in " ".join(got.text.split())
        # The right asset: the file rendered for this variant and language, byte for byte in size.
        if planned.media is None:
            assert got.media == []
        else:
            assert f".{post.language}." in planned.media.path
            rendered = root / "build" / planned.media.path
            assert len(got.media) == 1 and got.media[0]["bytes"] == rendered.stat().st_size
            assert (got.media[0]["width"], got.media[0]["height"]) == (planned.media.width, planned.media.height)
        # The right local time: the platform received it at the planned slot of the channel's zone.
        zone = ZoneInfo(channel.timezone)
        assert got.created_at is not None
        assert abs(got.created_at - planned.scheduled_at) < dt.timedelta(minutes=5), (post.id, got.created_at)
        assert got.created_at.astimezone(zone).strftime("%H:%M") == planned.local_time.strftime("%H:%M")
        assert post.published_at is not None and abs(post.published_at - got.created_at) < dt.timedelta(minutes=5)


def test_report_matches_the_store(first_run) -> None:  # type: ignore[no-untyped-def]
    root, outcome = first_run
    saved = json.loads((root / "demo" / "report.json").read_text(encoding="utf-8"))
    store = Store(f"sqlite:///{root / 'demo' / 'rehearsal.db'}")
    try:
        posts = store.all_posts()
    finally:
        store.close()
    per_line: dict[tuple[str, str], int] = {}
    for post in posts:
        per_line[(post.channel_id, post.language)] = per_line.get((post.channel_id, post.language), 0) + 1
    assert {(line["channel"], line["language"]): line["planned"] for line in saved["lines"]} == per_line
    assert all(line["published"] == line["planned"] for line in saved["lines"])
    assert {p["id"]: p["url"] for p in saved["posts"]} == {p.id: p.remote_url for p in posts}
    assert saved["ok"] is True and saved["mismatches"] == [] and saved["late"] == []
    assert (root / "build" / "preview.html").stat().st_size > 10_000
    assert len(list((root / "demo" / "outbox").glob("*/*/post.json"))) == sum(p.platform == "outbox" for p in posts)


def test_the_daemon_collected_figures_of_every_post_from_every_emulator(first_run) -> None:  # type: ignore[no-untyped-def]
    from scheduler.results.report import build_results
    from scheduler.results.store import DEFAULT_AGES, ResultsStore

    root, outcome = first_run
    store = Store(f"sqlite:///{root / 'demo' / 'rehearsal.db'}")
    try:
        rows = ResultsStore(store).figure_rows()
        results = build_results(store, outcome.loaded.calendar)
    finally:
        store.close()
    published = {p.post_id: p for p in results.posts}
    ages = {label for label, _ in DEFAULT_AGES}
    for post_id, post in published.items():
        got = {r["age"] for r in rows if r["post_id"] == post_id}
        assert got == ages, (post_id, got)  # 1 h, 24 h, 7 d and 30 d, each once
        if post.platform == "outbox":
            assert post.not_given
            continue
        assert post.not_given is None and post.figures["likes"], post_id  # every emulator gave figures
    platforms = {p.platform for p in published.values() if p.figures["likes"]}
    assert platforms == {c.platform.value for c in outcome.loaded.calendar.channels} - {"outbox"}
    page = (root / "demo" / "results.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3 and "Top posts" in page and "by age after publication" in page


def test_every_figure_was_collected_at_its_age_as_at_real_speed(first_run) -> None:  # type: ignore[no-untyped-def]
    """The rehearsal's clock never runs or leaps past a due collection: each figure is read
    within the stated tolerance of its age (Davos's 1-hour figure was read 7 weeks late)."""
    from scheduler.results.report import build_results
    from scheduler.results.store import age_seconds, age_tolerance

    root, outcome = first_run
    store = Store(f"sqlite:///{root / 'demo' / 'rehearsal.db'}")
    try:
        results = build_results(store, outcome.loaded.calendar)
    finally:
        store.close()
    assert len(results.series) == 4 * len(results.posts)
    for row in results.series:
        nominal = age_seconds(row["age"])
        late = row["real_age"] - nominal
        assert 0 <= late <= age_tolerance(nominal).total_seconds(), (row["post_id"], row["age"], row["collected_at"])
    assert not any("later than their age" in note or "not collected yet" in note for note in results.notes)


def test_the_demo_prints_true_figures_and_no_scheduler_warnings(first_run) -> None:  # type: ignore[no-untyped-def]
    import re

    _root, outcome = first_run
    printed = " ".join(outcome.printed.split())
    found = re.search(r"(\d+) of (\d+) published posts have figures \(and (\d+) outbox posts", printed)
    assert found, printed[-1500:]
    with_figures, total, by_hand = map(int, found.groups())
    published = [p for p in outcome.result.posts if p.state == states.PUBLISHED]
    assert with_figures == total == len(published) - by_hand and by_hand == sum(p.platform == "outbox" for p in published)
    assert "maximum number of running instances" not in outcome.printed


def test_second_run_through_the_cli_renders_nothing_and_reports_the_same(first_run) -> None:  # type: ignore[no-untyped-def]
    root, _ = first_run
    build = root / "build"
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(build.rglob("*")) if p.is_file()
              and p.suffix in (".jpg", ".mp4", ".png")}
    first = json.loads((root / "demo" / "report.json").read_text(encoding="utf-8"))
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "demo", "--calendar", str(CALENDAR),
                           "--build", str(build), "--work", str(root / "demo")],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "0 rendered" in done.stderr
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(build.rglob("*")) if p.is_file()
             and p.suffix in (".jpg", ".mp4", ".png")}
    assert after == before
    second = json.loads((root / "demo" / "report.json").read_text(encoding="utf-8"))
    assert second["lines"] == first["lines"]
    assert [(p["id"], p["state"], p["published_local"]) for p in second["posts"]] == \
        [(p["id"], p["state"], p["published_local"]) for p in first["posts"]]
    assert "store and platforms disagree" not in done.stdout and "checked: the emulators" in done.stdout


def test_demo_fails_when_a_post_could_not_be_planned(tmp_path: Path) -> None:
    """Its own table promises exit 1 unless every post went out as planned: a post a full-day
    blackout leaves without a slot did not."""
    import shutil

    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    brand = ROOT / "assets" / "brand"
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(json.dumps({
        "campaign": {"name": "Small", "tagline": "Small", "baseline": {"en": "Others say it"}, "pillars": ["innovation"],
                     "timezone": "Europe/Brussels", "start": "2027-05-01", "end": "2027-05-31"},
        "brand": {"logo": str(brand / "logo.png"), "fonts": {"latin": str(brand / "fonts/NotoSans-Bold.ttf")}},
        "channels": [{"id": "press", "platform": "outbox", "account": "press", "languages": ["en"],
                      "timezone": "Europe/Brussels", "slots": ["09:00"]}],
        "moments": [{"id": "europe-day", "title": "Europe Day", "date": "2027-05-09", "pillar": "innovation", "channels": ["press"]},
                    {"id": "mourning", "title": "A day", "date": "2027-05-12", "pillar": "innovation", "channels": ["press"]}],
        "blackouts": [{"start": "2027-05-12 00:00", "end": "2027-05-13 00:00", "reason": "National mourning", "channels": "all"}],
    }), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), "demo", "--calendar", str(calendar), "--inbox", str(tmp_path / "inbox"),
                           "--build", str(tmp_path / "build"), "--work", str(tmp_path / "demo"), "--speed", "2000000"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, (done.stdout[-2000:], done.stderr[-2000:])
    report = json.loads((tmp_path / "demo" / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] is False and any("National mourning" in m for m in report["unplanned"])
    assert [p["state"] for p in report["posts"]] == ["published"], "the post that could be planned went out"
    assert "could not be planned" in done.stdout
