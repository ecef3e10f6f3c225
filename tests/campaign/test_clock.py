"""The rehearsal clock: fast, leaps forward, waits where it is told, never runs backwards."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from campaign.clock import FakeClock, ScaledClock, real_seconds

START = dt.datetime(2027, 5, 9, 6, 0, tzinfo=dt.timezone.utc)


def test_scaled_clock_runs_fast_and_converts_to_real_seconds() -> None:
    clock = ScaledClock(START, speed=3600)
    time.sleep(0.05)
    elapsed = (clock.now() - START).total_seconds()
    assert 150 <= elapsed <= 3600  # 0.05 s real is 3 min campaign (scheduling jitter allowed)
    assert real_seconds(clock, 7200) == pytest.approx(2.0)
    assert real_seconds(FakeClock(START), 30) == 30


def test_hold_stops_the_clock_at_a_moment_and_release_resumes_from_there() -> None:
    clock = ScaledClock(START, speed=100_000)
    stop = START + dt.timedelta(minutes=1)
    clock.hold_at(stop)
    time.sleep(0.05)  # 5000 s of campaign time would have passed
    assert clock.now() == stop
    clock.hold_at(None)
    assert stop <= clock.now() < stop + dt.timedelta(minutes=30)  # resumes from the hold, no jump


def test_leap_goes_forward_only_and_hold_never_goes_back() -> None:
    clock = ScaledClock(START, speed=1)
    later = START + dt.timedelta(days=30)
    assert clock.leap_to(later) and clock.now() >= later
    assert not clock.leap_to(START)
    clock.hold_at(START)  # in the past: the clock stays where it is
    assert clock.now() >= later


def test_scaled_clock_refuses_naive_times_and_bad_speeds() -> None:
    with pytest.raises(ValueError):
        ScaledClock(START.replace(tzinfo=None), speed=2)
    with pytest.raises(ValueError):
        ScaledClock(START, speed=0)


def test_a_leap_past_a_hold_is_not_pulled_back() -> None:
    """The rehearsal holds at one due post, then leaps to the next: the leap must stick."""
    clock = ScaledClock(START, speed=100_000)
    clock.hold_at(START + dt.timedelta(minutes=1))
    time.sleep(0.01)
    target = START + dt.timedelta(days=3)
    assert clock.leap_to(target)
    assert clock.now() == target  # held at the leap's target, not back at the old hold
    clock.hold_at(target)
    assert clock.now() == target


def test_file_clock_is_one_campaign_time_for_every_process(tmp_path):
    """The fault harness shares campaign time between the daemons, the emulators and itself
    through a clock file: two readers agree, and a leap written by one moves the other."""
    import datetime as dt
    import subprocess
    import sys

    from campaign.clock import FileClock

    start = dt.datetime(2027, 5, 9, 6, 0, tzinfo=dt.timezone.utc)
    path = tmp_path / "clock.json"
    ours = FileClock.create(path, start, 600)
    code = "import sys; from campaign.clock import FileClock; print(FileClock(sys.argv[1]).now().isoformat())"
    theirs = dt.datetime.fromisoformat(subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                                                      text=True, check=True).stdout.strip())
    assert abs((theirs - ours.now()).total_seconds()) < 600 * 2  # the same clock, give or take 2 real seconds
    reader = FileClock(path)
    assert ours.leap_to(start + dt.timedelta(days=3))
    assert reader.now() >= start + dt.timedelta(days=3) and not ours.leap_to(start)
