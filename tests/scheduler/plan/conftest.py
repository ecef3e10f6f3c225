"""Shared helpers for the planning tests: the sample calendar and small calendars built in code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

from campaign.calendar.loader import LoadedCalendar, load_calendar

TODAY = dt.date(2026, 11, 1)


@pytest.fixture(scope="session")
def sample() -> LoadedCalendar:
    return load_calendar(REPO / "calendar.yaml", today=TODAY)


@pytest.fixture()
def sample_copy(sample: LoadedCalendar):
    """Returns a function that builds a LoadedCalendar from the sample with some sections replaced."""

    def build(**changes) -> LoadedCalendar:
        return LoadedCalendar(sample.calendar.model_copy(update=changes), sample.path, [], {})

    return build
