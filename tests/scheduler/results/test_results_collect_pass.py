"""The collection pass over a store: due ages, append-only rows, publishing first, errors and rate
limits that wait without touching the post."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from testkit.channels import ACCOUNTS
from testkit.results import World, add_published

from campaign.calendar.models import ResultsSettings
from emulators import metrics
from scheduler.results.store import ResultsStore

HOUR = dt.timedelta(hours=1)


def test_each_age_is_collected_once_and_rows_are_only_appended(world: World) -> None:
    x, masto = world.publish("x", 1), world.publish("mastodon", 1)
    collector = world.collector(publishing_due=lambda now: False)
    assert collector.run_once().collected == []  # nothing is an hour old yet
    world.clock.advance(HOUR)
    assert sorted(collector.run_once().collected) == sorted([f"{x}@1h", f"{masto}@1h"])
    assert collector.run_once().collected == []  # the 1 h figures are not read twice
    first = ResultsStore(world.store).figure_rows()
    world.clock.advance(dt.timedelta(hours=23))
    assert sorted(collector.run_once().collected) == sorted([f"{x}@24h", f"{masto}@24h"])
    rows = ResultsStore(world.store).figure_rows()
    assert len(rows) == 4 and rows[:2] == first  # the earlier rows are untouched
    by_age = {(r["post_id"], r["age"]): r for r in rows}
    assert by_age[(x, "24h")]["impressions"] > by_age[(x, "1h")]["impressions"]
    assert by_age[(masto, "1h")]["impressions"] is None  # Mastodon counts no views: not a zero


def test_a_pass_defers_while_a_post_is_due(world: World) -> None:
    world.publish("x", 1)
    world.clock.advance(HOUR)
    busy = world.collector(publishing_due=lambda now: True)
    report = busy.run_once()
    assert report.deferred and report.collected == []
    assert world.emulators["x"].requests[-1][1] == "/2/tweets"  # not a single figures request was made


def test_the_real_rule_for_a_due_post_uses_the_store(world: World) -> None:
    world.publish("x", 1)
    add_published(world.store, "later.2027.be-x.en", channel_id="be-x", platform="x", remote_id="", state="due",
                  published_at=world.clock.now())
    world.clock.advance(HOUR)
    assert world.collector().run_once().deferred  # a due post in the store: publishing first


def test_a_platform_error_retries_later_and_leaves_the_post_alone(world: World) -> None:
    post_id = world.publish("x", 1)
    world.clock.advance(HOUR)
    world.emulators["x"].inject("server_error", on="metrics")
    collector = world.collector(publishing_due=lambda now: False)
    report = collector.run_once()
    assert report.retrying == [f"{post_id}@1h"] and report.collected == []
    assert world.store.get(post_id).state == "published"  # collecting never marks a post failed
    open_row = next(r for r in ResultsStore(world.store).collection_rows() if r["age"] == "1h")
    assert "temporary problem" in open_row["last_error"] and open_row["done_at"] is None
    assert collector.run_once().collected == []  # it waits for its retry time
    world.clock.advance(dt.timedelta(minutes=16))
    assert collector.run_once().collected == [f"{post_id}@1h"]


def test_a_rate_limit_pauses_that_channel_only(world: World) -> None:
    first, second = world.publish("x", 1), world.publish("x", 2)
    masto = world.publish("mastodon", 1)
    world.clock.advance(HOUR)
    world.emulators["x"].inject("rate_limit", on="metrics", retry_after=600)
    collector = world.collector(publishing_due=lambda now: False)
    report = collector.run_once()
    assert report.collected == [f"{masto}@1h"]
    assert sorted(report.retrying) == sorted([f"{first}@1h", f"{second}@1h"])
    x_requests = [path for _m, path in world.emulators["x"].requests if path.startswith("/2/tweets/")]
    assert len(x_requests) == 1  # the second X post did not hit the limit again
    world.clock.advance(dt.timedelta(minutes=9))
    assert collector.run_once().collected == []
    world.clock.advance(dt.timedelta(minutes=2))
    assert sorted(collector.run_once().collected) == sorted([f"{first}@1h", f"{second}@1h"])


def test_a_platform_that_gives_nothing_is_recorded_as_not_given(world: World) -> None:
    post_id = world.publish("x", 1)
    metrics.deny(world.emulators["x"], ACCOUNTS["x"])
    world.clock.advance(HOUR)
    report = world.collector(publishing_due=lambda now: False).run_once()
    assert report.not_given == [f"{post_id}@1h"]
    row = ResultsStore(world.store).figure_rows()[0]
    assert "no figures" in row["not_given"] and row["impressions"] is None and row["likes"] is None


def test_channel_ages_come_from_the_calendar(world: World, sample_calendar) -> None:  # type: ignore[no-untyped-def]
    calendar = sample_calendar.calendar
    be_x = calendar.channel("be-x").model_copy(update={"results": ResultsSettings(ages=[dt.timedelta(minutes=30)])})
    calendar = calendar.model_copy(update={"channels": [be_x if c.id == "be-x" else c for c in calendar.channels]})
    post_id = world.publish("x", 1)
    world.clock.advance(dt.timedelta(minutes=30))
    report = world.collector(calendar=calendar, publishing_due=lambda now: False).run_once()
    assert report.collected == [f"{post_id}@30m"]
    assert [r["age"] for r in ResultsStore(world.store).collection_rows()] == ["30m"]


@pytest.fixture
def sample_calendar():  # type: ignore[no-untyped-def]
    from campaign.calendar import load_calendar

    return load_calendar(Path(__file__).resolve().parents[3] / "calendar.yaml")
