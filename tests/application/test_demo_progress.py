"""The demo's progress line says its time is the campaign clock, not a publish time."""

from __future__ import annotations

import datetime as dt

from application.demo import clock_label


def test_progress_line_names_the_campaign_clock_in_the_campaign_zone() -> None:
    label = clock_label(dt.datetime(2027, 5, 9, 5, 0, tzinfo=dt.timezone.utc), "Europe/Brussels")
    assert label == "campaign clock Sun 09 May 2027 07:00 CEST"
