"""`validate`: check the calendar and report every problem with its line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from application.cli_support import DEFAULT_CALENDAR, EXIT_BAD_INPUT, CalendarOption, load_or_exit
from campaign.calendar import LoadedCalendar
from campaign.secrets import secrets_file_warning
from scheduler.plan import plan_posts
from scheduler.plan.plan_problems import plan_problems
from scheduler.plan.subtitle_view import summary_lines
from scheduler.plan.template_check import template_problems


def validated_or_exit(calendar: Path) -> tuple[LoadedCalendar, int]:
    """The calendar, checked, and every caption it will post rendered once (how many); on any
    problem print each as file:line and exit 2."""

    loaded = load_or_exit(calendar)
    problems, captions = template_problems(loaded)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        count = len(problems)
        print(f"{count} template problem{'s' if count != 1 else ''} for {calendar}: nothing was done.", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    return loaded, captions


def validate(calendar: CalendarOption = DEFAULT_CALENDAR,
             inbox: Annotated[Path, typer.Option("--inbox", help="The designers' inbox: subtitles approved, draft or missing per clip and language.")] = Path("inbox")) -> None:
    """Check the calendar and render every caption it will post; print every problem as
    file:line: where: what — fix (exit 2 if any)."""

    loaded, captions = validated_or_exit(calendar)
    held_or_dropped = plan_problems(loaded, plan_posts(loaded))
    if held_or_dropped:  # "valid" would be a promise the plan then breaks
        for problem in held_or_dropped:
            print(problem, file=sys.stderr)
        count = len(held_or_dropped)
        print(f"{count} post{'s' if count != 1 else ''} the plan would hold or drop in {calendar}: fix the lines above.",
              file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    warning = secrets_file_warning()
    if warning:
        print(warning, file=sys.stderr)
    cal = loaded.calendar
    warnings = len(loaded.warnings)
    print(
        f"{calendar}: valid — {len(cal.channels)} channels, {len(cal.testimonials)} testimonials, "
        f"{len(cal.moments)} moments, {len(cal.blackouts)} blackouts, {captions} captions rendered"
        + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")
    )
    for line in summary_lines(cal, inbox):
        print(line)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
