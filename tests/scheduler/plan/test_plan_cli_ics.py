"""`plan` (table, --json, --from/--to, --ics read back by two independent parsers)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import icalendar
import ics
import pytest

from campaign.calendar.loader import LoadedCalendar
from scheduler.plan import plan_posts
from scheduler.plan.export_ics import plan_to_ics

pytestmark = pytest.mark.slow  # runs the CLI as a process

REPO = Path(__file__).resolve().parents[3]
STAMP = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a manager runs it, but never from the repository: what a demo or a person left in
    the working folder (build/, campaign.db, CAMPAIGN_* variables) must not change a test's outcome."""
    if cwd is None:
        cwd = Path(tempfile.mkdtemp(prefix="plan-cli-"))
        if "--calendar" not in args:
            args = (*args, "--calendar", str(REPO / "calendar.yaml"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_") or k.startswith(("CAMPAIGN_TEST_", "CAMPAIGN_REQUIRE_"))}
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def sample_ics(sample: LoadedCalendar) -> tuple[list, bytes]:
    posts = plan_posts(sample).posts
    return posts, plan_to_ics(posts, stamp=STAMP)


def test_ics_round_trips_through_icalendar(sample_ics) -> None:
    posts, data = sample_ics
    calendar = icalendar.Calendar.from_ical(data)
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/Brussels", "Asia/Tokyo", "America/New_York", "America/Toronto", "Africa/Casablanca"}
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(events) == len(posts)
    for post in posts:
        event = events[f"{post.id}@embracing-openness"]
        start = event.decoded("DTSTART")
        assert start == post.scheduled_at
        assert event["DTSTART"].params["TZID"] == str(post.local_time.tzinfo)
        assert str(event["SUMMARY"]) == f"{post.channel_id} · {post.language} · {post.moment_id}"
        assert post.caption in str(event["DESCRIPTION"])


def test_ics_parsed_by_the_independent_ics_package(sample_ics, monkeypatch) -> None:
    # ics 0.7 parses through TatSu, whose colour set-up wraps sys.stdout once per parsed line
    # until Python's recursion limit breaks (TatSu 5.15 + colorama): keep it from colouring.
    monkeypatch.setattr("tatsu.color.init", lambda: None)
    posts, data = sample_ics
    parsed = ics.Calendar(data.decode("utf-8"))
    events = {e.uid: e for e in parsed.events}
    assert len(events) == len(posts)
    for post in posts:
        event = events[f"{post.id}@embracing-openness"]
        assert event.begin.datetime == post.scheduled_at
        assert event.begin.utcoffset() == post.local_time.utcoffset()
        assert event.name == f"{post.channel_id} · {post.language} · {post.moment_id}"


def test_plan_command_prints_table_and_exits_zero(tmp_path: Path) -> None:
    # an empty build folder: the assets are "not rendered" even where the demo has rendered build/
    result = run("plan", "--wide", "--build", str(tmp_path), "--from", "2027-03-08", "--to", "2027-03-08")
    assert result.returncode == 0, result.stderr
    assert "4 planned posts" in result.stdout  # Tokyo, be-x, be-linkedin, be-youtube
    assert "2027-03-08 09:00 JST Asia/Tokyo" in result.stdout and "03-08 00:00Z" in result.stdout
    assert "not rendered" in result.stdout and "no plan errors" in result.stdout


def test_plan_does_not_depend_on_the_working_folder(tmp_path: Path) -> None:
    """After `python run.py demo` the repository holds build/ with every asset rendered: a test
    that ran `plan` there saw "✓" instead of "not rendered". Here the working folder is the
    test's own, with a build/ of its own that says the opposite of an empty one."""
    empty = run("plan", "--json", "--from", "2027-05-09", "--to", "2027-05-09")
    first = json.loads(empty.stdout)["posts"][0]
    assert first["media"]["rendered"] is False
    rendered = tmp_path / "build" / first["media"]["path"]
    rendered.parent.mkdir(parents=True)
    rendered.write_bytes(b"stand-in")
    inside = run("plan", "--json", "--from", "2027-05-09", "--to", "2027-05-09", "--calendar", str(REPO / "calendar.yaml"), cwd=tmp_path)
    assert json.loads(inside.stdout)["posts"][0]["media"]["rendered"] is True
    again = run("plan", "--json", "--from", "2027-05-09", "--to", "2027-05-09")
    assert json.loads(again.stdout)["posts"][0]["media"]["rendered"] is False


def test_plan_json_and_ics_from_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "plan.ics"
    result = run("plan", "--json", "--build", str(tmp_path / "build"), "--from", "2027-05-09", "--to", "2027-05-09", "--ics", str(out))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["posts"]) == 17 and payload["issues"] == []  # Europe Day, be-threads (en, fr) included
    first = payload["posts"][0]
    assert first["local_time"] == "2027-05-09T07:00:00+02:00" and first["scheduled_at"] == "2027-05-09T05:00:00+00:00"
    assert first["media"]["rendered"] is False and first["media"]["alt_text"]
    assert len(icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")) == 17


def test_plan_exits_one_when_a_post_cannot_be_planned(tmp_path: Path) -> None:
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    text = text.replace('    slots: ["09:00", "13:00", "17:00"]\n    min_spacing: 3h\n    daily_cap: 2',
                        '    slots: ["09:00"]\n    min_spacing: 3h\n    daily_cap: 1')
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    for link in ("assets", "templates"):
        (tmp_path / link).symlink_to(REPO / link)
    result = run("plan", "--calendar", "calendar.yaml", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "pride-marriage-equality.2027.embassy-washington.en: blocked by blackout" in result.stdout


def test_plan_bad_date_and_bad_template_exit_two(tmp_path: Path) -> None:
    assert run("plan", "--from", "9 May").returncode == 2
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "assets").symlink_to(REPO / "assets")
    captions = tmp_path / "templates" / "captions"
    captions.mkdir(parents=True)
    (captions / "testimonial.j2").write_text("{{ title }}\n{{ qoute }}\n", encoding="utf-8")
    (captions / "testimonial.ja.j2").write_text("{{ title }}\n", encoding="utf-8")
    result = run("plan", "--calendar", "calendar.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "templates/captions/testimonial.j2:2: undefined variable `qoute`" in result.stderr
    assert "Traceback" not in result.stderr
