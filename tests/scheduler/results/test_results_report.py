"""The report: totals that equal the stored rows, grouping, dates, web sessions joined in, and
"not given" where a platform gives nothing — through the real CLI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.results import World
from sqlalchemy import text

from scheduler.results.analytics import AnalyticsFileError, read_export

REPO = Path(__file__).resolve().parents[3]
HOUR = dt.timedelta(hours=1)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in this process (Click's runner keeps stdout and stderr apart); one test runs the real process."""
    from typer.testing import CliRunner

    from application.cli import app

    result = CliRunner().invoke(app, [*args, "--calendar", str(REPO / "calendar.yaml")] if args[0] == "results" else list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def run_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture
def collected(world: World) -> World:
    """Posts on two moments, two languages and two platforms, collected at 1 h and 24 h."""
    for n, (moment, language) in enumerate([("pride-2027", "en"), ("pride-2027", "fr"), ("europe-day", "en")]):
        world.publish("x", n, moment=moment, language=language)
        world.publish("mastodon", n, moment=moment, language=language)
    collector = world.collector(publishing_due=lambda now: False)
    world.clock.advance(HOUR)
    collector.run_once()
    world.clock.advance(dt.timedelta(hours=23))
    collector.run_once()
    return world


def _db(world: World) -> str:
    return world.store.url


@pytest.mark.slow  # runs the CLI as a process
def test_json_totals_equal_the_stored_rows(collected: World) -> None:
    done = run_process("results", "--db", _db(collected), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    with collected.store.engine.begin() as conn:  # each post's latest row, summed by the database itself
        expected = conn.execute(text(
            "SELECT SUM(impressions), SUM(likes), SUM(reposts), SUM(replies), COUNT(*) FROM figures f WHERE f.id = "
            "(SELECT MAX(id) FROM figures g WHERE g.post_id = f.post_id)")).one()
    totals = report["totals"]["totals"]
    assert (totals["impressions"], totals["likes"], totals["reposts"], totals["replies"]) == tuple(expected[:4])
    assert expected[4] == 6 and report["totals"]["posts"] == 6
    assert sum(g["totals"]["likes"] for g in report["groups"]) == totals["likes"]
    assert all(p["age"] == "24h" for p in report["posts"])
    assert totals["reach"] is None  # neither X nor Mastodon gives reach: null, not 0


@pytest.mark.slow  # runs the CLI as a process
def test_grouping_dates_and_csv(collected: World) -> None:
    by_language = json.loads(run("results", "--db", _db(collected), "--json", "--by", "language").stdout)
    assert sorted(g["key"] for g in by_language["groups"]) == ["en", "fr"]
    assert {g["key"]: g["posts"] for g in by_language["groups"]} == {"en": 4, "fr": 2}
    later = (collected.clock.now() + dt.timedelta(days=1)).date().isoformat()
    assert json.loads(run("results", "--db", _db(collected), "--json", "--from", later).stdout)["totals"]["posts"] == 0
    rows = list(csv.reader(io.StringIO(run("results", "--db", _db(collected), "--csv", "--by", "platform").stdout)))
    assert rows[0][:3] == ["platform", "posts", "impressions"]
    mastodon = next(r for r in rows if r[0] == "mastodon")
    assert mastodon[2] == ""  # Mastodon gives no impressions: an empty cell, not 0
    table = run("results", "--db", _db(collected), "--by", "platform")
    assert table.returncode == 0 and "not given" in table.stdout and "mastodon" in table.stdout
    bad = run("results", "--db", _db(collected), "--by", "colour")
    assert bad.returncode == 2 and "choose one of" in bad.stderr
    bad_date = run("results", "--db", _db(collected), "--from", "12/03/2027")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr


GA4 = """# ----------------------------------------
# Traffic acquisition: Session manual campaign name
# 20270301-20270331
# ----------------------------------------
Session manual campaign name,Session manual source,Session manual ad content,Sessions,Engaged sessions
pride-2027,x,en,"1,201",800
pride-2027,mastodon,en,41,30
europe-day,x,en,7,3
(not set),(direct),(not set),9000,100
"""

MATOMO = "Campaign Name;Campaign Source;Campaign Content;Visits\npride-2027;X;fr;12\n"


def test_web_sessions_join_the_posts_that_carried_the_tags(collected: World, tmp_path: Path) -> None:
    export = tmp_path / "ga4.csv"
    export.write_text(GA4, encoding="utf-8")
    done = run("results-import", str(export), "--db", _db(collected))
    assert done.returncode == 0, done.stderr
    assert "3 rows, 1,249 sessions" in done.stdout
    (tmp_path / "matomo.csv").write_text(MATOMO, encoding="utf-8")
    assert run("results-import", str(tmp_path / "matomo.csv"), "--db", _db(collected)).returncode == 0
    assert run("results-import", str(export), "--db", _db(collected)).returncode == 0  # again: replaced, not doubled
    report = json.loads(run("results", "--db", _db(collected), "--json", "--by", "moment").stdout)
    sessions = {(p["moment"], p["platform"], p["language"]): p["figures"]["sessions"] for p in report["posts"]}
    assert sessions[("pride-2027", "x", "en")] == 1201
    assert sessions[("pride-2027", "x", "fr")] == 12  # Matomo's "X" source matched case-insensitively
    assert sessions[("pride-2027", "mastodon", "en")] == 41
    assert sessions[("europe-day", "mastodon", "en")] is None  # no sessions came from it: not a zero
    assert report["totals"]["totals"]["sessions"] == 1201 + 12 + 41 + 7


def test_a_broken_export_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("utm_campaign,utm_source,utm_content,sessions\npride-2027,x,en,12\npride-2027,x,fr,lots\n", encoding="utf-8")
    with pytest.raises(AnalyticsFileError) as caught:
        read_export(bad)
    assert str(caught.value).startswith("bad.csv:3: sessions:") and "whole number" in str(caught.value)
    missing = tmp_path / "missing.csv"
    missing.write_text("# export\nCampaign,Visits\npride,3\n", encoding="utf-8")
    with pytest.raises(AnalyticsFileError) as caught:
        read_export(missing)
    assert "missing.csv:2: header: no source column" in str(caught.value)
    done = run("results-import", str(missing), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "no content column" in done.stderr
