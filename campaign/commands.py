"""`validate`: check the calendar and report every problem with its line."""

from __future__ import annotations

import typer

from campaign.cli_support import DEFAULT_CALENDAR, CalendarOption, load_or_exit


def validate(calendar: CalendarOption = DEFAULT_CALENDAR) -> None:
    """Check the calendar; print every problem as file:line: where: what — fix (exit 2 if any)."""
    loaded = load_or_exit(calendar)
    cal = loaded.calendar
    warnings = len(loaded.warnings)
    print(
        f"{calendar}: valid — {len(cal.channels)} channels, {len(cal.testimonials)} testimonials, "
        f"{len(cal.moments)} moments, {len(cal.blackouts)} blackouts"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
