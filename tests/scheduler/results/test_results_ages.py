"""Figures shown as what happened (issue 23, 4): by age after publication, never by the date
they were collected; "not collected yet" before the first collection, never "not given"."""

from __future__ import annotations

import datetime as dt

from testkit.results import World

from scheduler.results.html import reach_lines
from scheduler.results.report import build_results

HOUR = dt.timedelta(hours=1)


def test_before_the_first_collection_the_report_says_not_collected_yet(world: World) -> None:
    world.publish("x", 1)
    world.publish("mastodon", 1)
    results = build_results(world.store, None)
    assert any("2 of 2 published posts not collected yet" in note for note in results.notes), results.notes
    assert not any("gives" in note for note in results.notes), results.notes  # it says nothing of the platforms yet
    assert results.totals().collected == 0


def test_a_figure_a_platform_does_not_give_is_named_once_posts_were_collected(world: World) -> None:
    world.publish("mastodon", 1)
    world.clock.advance(HOUR)
    world.collector(publishing_due=lambda now: False).run_once()
    notes = build_results(world.store, None).notes
    assert any("no platform of these posts gives impressions" in note for note in notes), notes


def test_charts_place_figures_at_their_age_after_publication_not_at_the_collection_date(world: World) -> None:
    collector = world.collector(publishing_due=lambda now: False)
    january = world.publish("x", 1, moment="davos-2027")
    world.clock.advance(HOUR)
    collector.run_once()  # Davos's 1 h figure, on time
    world.clock.advance(dt.timedelta(days=60))  # the daemon was down two months: every other age at once
    collector.run_once()
    world.publish("x", 2, moment="national-day")
    world.clock.advance(HOUR)
    collector.run_once()
    results = build_results(world.store, None)
    lines = reach_lines(results)
    davos = [hours for hours, _ in lines["davos-2027"]]
    assert davos[0] == 1.0 and all(h > 24 * 60 for h in davos[1:])  # on time at 1 h; the rest where they were read
    assert [hours for hours, _ in lines["national-day"]] == [1.0]  # 1 h after it went out, not 2 months after Davos
    rows = {(r["post_id"], r["age"]): r for r in results.series}
    assert rows[(january, "1h")]["real_age"] == 3600
    assert any("3 figures were collected later than their age allows" in note for note in results.notes), results.notes
