"""Property tests of the expansion: whatever the calendar, the plan keeps every channel's rules."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from scheduler.plan import plan_posts
from scheduler.plan.timing import blackout_windows
from testkit import plan as plankit

pytestmark = pytest.mark.slow  # hypothesis: many generated calendars

TEMPLATES = plankit.write_templates(Path(tempfile.mkdtemp(prefix="plan-props-")))
ZONES = ["Europe/Brussels", "America/New_York", "Asia/Tokyo", "UTC"]
SLOTS = ["00:30", "02:30", "08:00", "09:00", "10:30", "12:00", "15:00", "18:00", "23:30"]
# Days around the 2027 DST changes in Europe and the US, plus an ordinary one.
ANCHORS = [dt.date(2027, 3, 13), dt.date(2027, 3, 27), dt.date(2027, 10, 30), dt.date(2027, 11, 6), dt.date(2027, 6, 1)]


@st.composite
def calendars(draw):
    channels = []
    for index in range(draw(st.integers(1, 3))):
        channels.append(plankit.channel(
            f"ch{index}",
            timezone=draw(st.sampled_from(ZONES)),
            slots=draw(st.lists(st.sampled_from(SLOTS), min_size=1, max_size=4, unique=True)),
            min_spacing=draw(st.sampled_from(["0m", "30m", "90m", "3h"])),
            daily_cap=draw(st.integers(1, 3)),
            languages=draw(st.lists(st.sampled_from(["en", "nl", "fr"]), min_size=1, max_size=3, unique=True)),
        ))
    ids = [c["id"] for c in channels]
    moments = []
    for index in range(draw(st.integers(1, 5))):
        first = draw(st.sampled_from(ANCHORS)) + dt.timedelta(days=draw(st.integers(0, 2)))
        length = draw(st.integers(0, 3))
        dates = {"date": first} if length == 0 else {"start": first, "end": first + dt.timedelta(days=length)}
        moments.append(plankit.moment(f"m{index}", channels=draw(st.lists(st.sampled_from(ids), min_size=1, unique=True)), **dates))
    blackouts = []
    for _ in range(draw(st.integers(0, 2))):
        start = dt.datetime.combine(draw(st.sampled_from(ANCHORS)), dt.time(draw(st.integers(0, 23))))
        blackouts.append({"start": start, "end": start + dt.timedelta(hours=draw(st.integers(1, 30))), "reason": "quiet",
                          "timezone": draw(st.sampled_from([None] + ZONES)),
                          "channels": draw(st.sampled_from(["all", [ids[0]]]))})
    return plankit.calendar(channels, moments, blackouts=blackouts, start=dt.date(2027, 3, 1), end=dt.date(2027, 11, 30))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars())
def test_plan_keeps_spacing_caps_blackouts_and_ranges(cal) -> None:
    plan = plan_posts(plankit.loaded(cal, TEMPLATES))
    by_channel: dict[str, list] = {}
    for post in plan.posts:
        by_channel.setdefault(post.channel_id, []).append(post)
    for channel_id, posts in by_channel.items():
        channel = cal.channel(channel_id)
        zone = ZoneInfo(channel.timezone)
        times = sorted(p.scheduled_at for p in posts)
        # no two posts of a channel closer than its spacing
        assert all(b - a >= channel.min_spacing for a, b in zip(times, times[1:]))
        # never above the daily cap in the channel's own local day
        per_day = Counter(p.scheduled_at.astimezone(zone).date() for p in posts)
        assert max(per_day.values()) <= channel.daily_cap
        windows = blackout_windows(cal.blackouts, channel_id, cal.campaign.timezone)
        for post in posts:
            # compare as UTC: Python never finds an ambiguous (fall-back) local time equal to another zone's
            assert post.local_time.tzinfo == zone and post.local_time.astimezone(dt.timezone.utc) == post.scheduled_at
            assert not any(w.contains(post.scheduled_at) for w in windows), post.id
            moment = cal.moment(post.moment_id)
            day = post.local_time.date()
            assert moment.first_day <= day <= moment.last_day
            assert cal.campaign.start <= day <= cal.campaign.end
    # every expected post is either planned or reported, never silently lost
    expected = {f"{m.id}.2027.{c}.{lang}" for m in cal.moments for c in m.channels for lang in cal.channel(c).languages}
    reported = {i.post_id for i in plan.errors}
    assert {p.id for p in plan.posts} | reported == expected
    assert not ({p.id for p in plan.posts} & reported)


@settings(max_examples=15, deadline=None)
@given(calendars())
def test_plan_is_deterministic(cal) -> None:
    first = plan_posts(plankit.loaded(cal, TEMPLATES))
    second = plan_posts(plankit.loaded(cal, TEMPLATES))
    assert [(p.id, p.scheduled_at) for p in first.posts] == [(p.id, p.scheduled_at) for p in second.posts]
    assert first.issues == second.issues
