"""What every command shares: the calendar option, loading it or exiting 2 with every problem."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from campaign.calendar import LoadedCalendar, load_calendar
from campaign.errors import CalendarError

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
