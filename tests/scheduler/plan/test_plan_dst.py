"""Daylight-saving edge cases: Europe/Brussels, America/New_York, Asia/Tokyo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import plankit

from scheduler.plan import plan_posts
from scheduler.plan.timing import resolve_local

UTC = dt.timezone.utc
BRUSSELS, NEW_YORK, TOKYO = ZoneInfo("Europe/Brussels"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


def test_nine_brussels_is_eight_utc_in_winter_and_seven_in_summer() -> None:
    assert resolve_local(dt.date(2027, 1, 18), dt.time(9), BRUSSELS).utc == dt.datetime(2027, 1, 18, 8, tzinfo=UTC)
    assert resolve_local(dt.date(2027, 7, 21), dt.time(9), BRUSSELS).utc == dt.datetime(2027, 7, 21, 7, tzinfo=UTC)
    # the day before and the day of the change
    assert resolve_local(dt.date(2027, 3, 27), dt.time(9), BRUSSELS).utc.hour == 8
    assert resolve_local(dt.date(2027, 3, 28), dt.time(9), BRUSSELS).utc.hour == 7


def test_missing_slot_on_spring_forward_moves_to_end_of_gap_with_a_note() -> None:
    slot = resolve_local(dt.date(2027, 3, 28), dt.time(2, 30), BRUSSELS)  # last Sunday of March
    assert slot.local.replace(tzinfo=None) == dt.datetime(2027, 3, 28, 3, 0)
    assert slot.utc == dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert slot.note and "02:30 does not exist on 2027-03-28 in Europe/Brussels" in slot.note and "03:00" in slot.note
    new_york = resolve_local(dt.date(2027, 3, 14), dt.time(2, 15), NEW_YORK)  # second Sunday of March
    assert new_york.local.replace(tzinfo=None) == dt.datetime(2027, 3, 14, 3, 0)
    assert new_york.utc == dt.datetime(2027, 3, 14, 7, 0, tzinfo=UTC)
    assert new_york.note


def test_repeated_slot_on_fall_back_takes_the_first_occurrence() -> None:
    brussels = resolve_local(dt.date(2027, 10, 31), dt.time(2, 30), BRUSSELS)
    assert brussels.utc == dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # still CEST (+02:00)
    assert brussels.note is None and brussels.local.utcoffset() == dt.timedelta(hours=2)
    new_york = resolve_local(dt.date(2027, 11, 7), dt.time(1, 30), NEW_YORK)
    assert new_york.utc == dt.datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # EDT, not EST
    assert resolve_local(dt.date(2027, 11, 8), dt.time(9), NEW_YORK).utc.hour == 14


def test_tokyo_has_no_daylight_saving() -> None:
    for day in (dt.date(2027, 1, 10), dt.date(2027, 3, 28), dt.date(2027, 7, 21), dt.date(2027, 10, 31)):
        assert resolve_local(day, dt.time(9), TOKYO).utc == dt.datetime.combine(day, dt.time(0), UTC)


def test_planned_post_on_spring_forward_carries_the_warning(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel(slots=("02:30", "09:00"), min_spacing="1h", daily_cap=2)],
        [plankit.moment(date=dt.date(2027, 3, 28), languages=["en"])],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert not plan.errors
    first = plan.posts[0]
    assert first.scheduled_at == dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert first.local_time.tzinfo == BRUSSELS and first.local_time.hour == 3
    assert any("does not exist" in w for w in first.warnings)


def test_same_slot_in_three_zones_gives_three_instants(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel("bru", timezone="Europe/Brussels"), plankit.channel("nyc", timezone="America/New_York"),
         plankit.channel("tyo", timezone="Asia/Tokyo")],
        [plankit.moment(channels=("bru", "nyc", "tyo"), date=dt.date(2027, 3, 20))],  # NY already on EDT, Brussels not
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    by_channel = {p.channel_id: p.scheduled_at for p in plan.posts}
    assert by_channel == {
        "tyo": dt.datetime(2027, 3, 20, 0, 0, tzinfo=UTC),
        "bru": dt.datetime(2027, 3, 20, 8, 0, tzinfo=UTC),
        "nyc": dt.datetime(2027, 3, 20, 13, 0, tzinfo=UTC),
    }
