"""Daylight-saving edge cases: Europe/Brussels, America/New_York, Asia/Tokyo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from testkit import plan as plankit

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


def test_repeated_slot_on_fall_back_takes_the_first_occurrence_and_says_so() -> None:
    brussels = resolve_local(dt.date(2027, 10, 31), dt.time(2, 30), BRUSSELS)
    assert brussels.utc == dt.datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # still CEST (+02:00)
    assert brussels.local.utcoffset() == dt.timedelta(hours=2)
    assert brussels.note and "02:30 happens twice on 2027-10-31 in Europe/Brussels" in brussels.note and "first" in brussels.note
    new_york = resolve_local(dt.date(2027, 11, 7), dt.time(1, 30), NEW_YORK)
    assert new_york.utc == dt.datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # EDT, not EST
    assert new_york.note and "happens twice" in new_york.note
    assert resolve_local(dt.date(2027, 11, 8), dt.time(9), NEW_YORK).utc.hour == 14
    assert resolve_local(dt.date(2027, 11, 7), dt.time(9), NEW_YORK).note is None, "only the repeated hour is ambiguous"


def _transition_days(zone: ZoneInfo, year: int) -> list[dt.date]:
    days = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        before = dt.datetime.combine(day, dt.time(0), zone).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).utcoffset()
        if before != after:
            days += [day, day + dt.timedelta(days=1)]
        day += dt.timedelta(days=1)
    return days


def test_notes_agree_with_dateutil_on_which_times_do_not_exist_or_happen_twice() -> None:
    """dateutil (not this project) judges: every wall time of every transition day, in zones with
    one-hour, half-hour and midnight transitions, north and south."""
    from dateutil import tz

    zones = ["Europe/Brussels", "America/Los_Angeles", "America/Santiago", "Australia/Lord_Howe", "Asia/Beirut", "Asia/Tokyo"]
    checked = 0
    for name in zones:
        zone = ZoneInfo(name)
        for day in _transition_days(zone, 2027):
            for minutes in range(0, 24 * 60, 15):
                wall = dt.time(minutes // 60, minutes % 60)
                slot = resolve_local(day, wall, zone)
                naive = dt.datetime.combine(day, wall, tzinfo=tz.gettz(name))
                exists, ambiguous = tz.datetime_exists(naive), tz.datetime_ambiguous(naive)
                assert (slot.note is not None and "does not exist" in slot.note) == (not exists), (name, day, wall)
                assert (slot.note is not None and "happens twice" in slot.note) == ambiguous, (name, day, wall)
                if not exists:  # moved forward to the jump: after the wall time, and dateutil agrees it exists
                    assert slot.local.replace(tzinfo=None) > dt.datetime.combine(day, wall)
                    assert tz.datetime_exists(slot.local.replace(tzinfo=tz.gettz(name)))
                checked += 1
    assert checked > 1000


def test_a_blackout_starting_inside_a_dst_gap_blocks_the_slot_it_covers(tmp_path: Path) -> None:
    """2027-03-14 02:30-03:15 in Los Angeles: 02:30 does not exist, so the blackout starts at 03:00 PDT."""
    la = "America/Los_Angeles"
    cal = plankit.calendar(
        [plankit.channel(timezone=la, slots=("03:00", "09:00"), daily_cap=1)],
        [plankit.moment(date=dt.date(2027, 3, 14), languages=["en"])],
        blackouts=[{"start": "2027-03-14 02:30", "end": "2027-03-14 03:15", "reason": "Night of silence",
                    "channels": "all", "timezone": la}],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert not plan.errors
    post = plan.posts[0]
    assert post.local_time.hour == 9, "03:00 PDT is inside the blackout"
    assert any("Night of silence" in w for w in post.warnings)
    # The daemon reads blackout bounds by the same rule: at 03:00 PDT the channel is silenced.
    from scheduler.daemon.blackouts import active_blackout, blacked_out_channels

    at = dt.datetime(2027, 3, 14, 10, 0, tzinfo=UTC)  # 03:00 PDT
    assert active_blackout(cal, "ch", at) is not None
    assert blacked_out_channels(cal, at + dt.timedelta(minutes=14)) == {"ch": "Night of silence"}
    assert active_blackout(cal, "ch", at + dt.timedelta(minutes=15)) is None
    assert active_blackout(cal, "ch", at - dt.timedelta(seconds=1)) is None


def test_a_blackout_ending_inside_a_gap_ends_at_the_jump(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel(slots=("03:00",))],
        [plankit.moment(date=dt.date(2027, 3, 28), languages=["en"])],
        blackouts=[{"start": "2027-03-28 01:00", "end": "2027-03-28 02:30", "reason": "Maintenance", "channels": "all"}],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert not plan.errors and plan.posts[0].scheduled_at == dt.datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_planned_post_on_fall_back_carries_the_warning(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel(slots=("02:30",))],
        [plankit.moment(date=dt.date(2027, 10, 31), languages=["en"])],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert any("happens twice" in w for w in plan.posts[0].warnings)


def _consent_calendar(until: str, slot: str):  # type: ignore[no-untyped-def]
    testimonial = {"id": "t", "name": "T", "country": "Canada", "spoken_language": "en", "pillar": "innovation",
                   "quote": {"en": "Quote"}, "photo": "t.jpg", "consent_until": until}
    return plankit.calendar(
        [plankit.channel(timezone="America/Los_Angeles", slots=(slot,))],
        [plankit.moment(start=dt.date(2027, 6, 9), end=dt.date(2027, 6, 10), languages=["en"], testimonials=["t"])],
        testimonials=[testimonial],
    )


def test_consent_is_counted_in_the_campaign_time_zone(tmp_path: Path) -> None:
    """22:30 in Los Angeles on the last day of consent is 07:30 the next day in Brussels: too late."""
    folder = plankit.write_templates(tmp_path)
    late = plan_posts(plankit.loaded(_consent_calendar("2027-06-09", "22:30"), folder))
    assert late.posts == []
    assert late.errors and "consent" in late.errors[0].message and "campaign's time zone" in late.errors[0].message
    early = plan_posts(plankit.loaded(_consent_calendar("2027-06-09", "09:00"), folder))
    assert [p.local_time.date() for p in early.posts] == [dt.date(2027, 6, 9)]
    assert early.posts[0].media is not None and early.posts[0].media.testimonial_id == "t"


def test_consent_ending_in_brussels_allows_the_tokyo_morning_of_the_next_day(tmp_path: Path) -> None:
    """09:00 in Tokyo on 10 June is 02:00 in Brussels on 10 June; with consent until 10 June it may go."""
    testimonial = {"id": "t", "name": "T", "country": "Japan", "spoken_language": "en", "pillar": "innovation",
                   "quote": {"en": "Quote"}, "photo": "t.jpg", "consent_until": "2027-06-10"}
    cal = plankit.calendar([plankit.channel(timezone="Asia/Tokyo", slots=("09:00",))],
                           [plankit.moment(date=dt.date(2027, 6, 10), languages=["en"], testimonials=["t"])],
                           testimonials=[testimonial])
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert not plan.errors and plan.posts[0].media is not None


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
