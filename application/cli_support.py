"""What every command shares: the calendar option, loading it or exiting 2 with every problem."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from campaign.calendar import LoadedCalendar, load_calendar
from campaign.clock import Clock, ClockSettingError, make_clock
from campaign.errors import CalendarError
from scheduler.store.clock import StoreClock
from scheduler.store.store import Store

CalendarOption = Annotated[
    Path, typer.Option("--calendar", "-c", help="The campaign calendar to use.", show_default=True)
]
DEFAULT_CALENDAR = Path("calendar.yaml")

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_BAD_INPUT = 2


def load_or_exit(path: Path, today: dt.date | None = None, quiet_warnings: bool = False) -> LoadedCalendar:
    """Load the calendar; on any problem print each as file:line and exit 2 (never a traceback)."""
    try:
        loaded = load_calendar(path, today=today)
    except CalendarError as error:
        for problem in error.problems:
            print(f"{problem}", file=sys.stderr)
        for warning in error.warnings:
            print(f"{warning} (warning)", file=sys.stderr)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} in {path}: nothing was done.", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if not quiet_warnings:
        for warning in loaded.warnings:
            print(f"{warning} (warning)", file=sys.stderr)
    return loaded


def date_or_exit(value: str | None, option: str) -> dt.date | None:
    """A `--from`/`--to` day as a date (None when not given); a malformed one exits 2 with the format."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        print(f"{option} {value!r} is not a date — write it as YYYY-MM-DD, e.g. 2027-05-09", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def clock_or_exit(*, real_posts: bool = False) -> Clock:
    """`campaign.clock.make_clock`; a malformed or misplaced clock variable is one line and exit 2."""
    try:
        return make_clock(real_posts=real_posts)
    except ClockSettingError as error:
        print(error, file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def store_clock_or_exit(store: Store, *, real_posts: bool = False) -> StoreClock:
    """The clock of `store` (one clock per store): the campaign clock a daemon put it on, else the
    environment's clock as `clock_or_exit` makes it."""
    return StoreClock(store, clock_or_exit(real_posts=real_posts))
