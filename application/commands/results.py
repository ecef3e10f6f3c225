"""CLI for results: `results` (figures by moment, pillar, channel, ...) and `results-import`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from application.cli_support import (
    DEFAULT_CALENDAR, EXIT_BAD_INPUT, EXIT_OK, CalendarOption, date_or_exit, load_or_exit,
    store_clock_or_exit,
)
from application.commands.scheduler import DbOption, _store, store_errors
from campaign.errors import CampaignError
from scheduler.platforms.figures import LABELS
from scheduler.results.analytics import read_export
from scheduler.results.html import write_results_page
from scheduler.results.report import DIMENSIONS, Group, Results, build_results
from scheduler.results.store import ResultsStore

NOT_GIVEN = "–"


NOT_YET = "not yet"


def _cell(value: int | None, group: Group | None = None) -> str:
    if value is None:
        return NOT_YET if group is not None and group.collected == 0 else NOT_GIVEN
    return f"{value:,}"


def _group_dict(group: Group) -> dict:
    return {"key": group.key, "posts": group.posts, "totals": group.totals, "given_by": group.given_by}


def results(calendar: CalendarOption = DEFAULT_CALENDAR, db: DbOption = None,
            by: Annotated[str, typer.Option("--by", help=f"Group by one of: {', '.join(DIMENSIONS)}.")] = "moment",
            date_from: Annotated[Optional[str], typer.Option("--from", help="Only posts published on or after this day (YYYY-MM-DD).")] = None,
            date_to: Annotated[Optional[str], typer.Option("--to", help="Only posts published on or before this day (YYYY-MM-DD).")] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON: groups, totals, every post, notes.")] = False,
            as_csv: Annotated[bool, typer.Option("--csv", help="Print the groups as CSV.")] = False,
            html: Annotated[Optional[Path], typer.Option("--html", help="Also write the results page (charts, top posts) here.")] = None,
            build_dir: Annotated[Path, typer.Option("--build", help="Rendered assets, for the page's thumbnails.")] = Path("build")) -> None:
    """What the campaign reached: each published post's latest figures, by moment, pillar, channel, language..."""
    if by not in DIMENSIONS:
        print(f"--by {by!r} is not a dimension — choose one of {', '.join(DIMENSIONS)}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT)
    start, end = date_or_exit(date_from, "--from"), date_or_exit(date_to, "--to")
    loaded = load_or_exit(calendar, quiet_warnings=True)
    store = _store(db)  # a mistyped --db is refused, never reported on as a new empty store
    try:
        clock = store_clock_or_exit(store)  # the store's clock: a rehearsal's figures are read in its campaign time
        now, clock_info = clock.now(), clock.info()
        report = build_results(store, loaded.calendar, start=start, end=end)
    finally:
        store.close()
    groups = report.group(by)
    if html is not None:
        write_results_page(report, loaded.calendar, html, build_dir=build_dir, now=now)
        print(f"results page: {html}", file=sys.stderr)
    if as_json:
        print(json.dumps({"by": by, "from": date_from, "to": date_to, "groups": [_group_dict(g) for g in groups],
                          "totals": _group_dict(report.totals()),
                          "posts": [{**{k: v for k, v in vars(p).items() if k not in ("caption",)},
                                     "published_at": p.published_at.isoformat() if p.published_at else None,
                                     "collected_at": p.collected_at.isoformat() if p.collected_at else None}
                                    for p in report.posts],
                          "notes": report.notes, "clock": clock_info}, ensure_ascii=False, indent=2))
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow([by, "posts", *report.columns])
        for group in groups + [report.totals()]:
            writer.writerow([group.key, group.posts, *("" if group.totals[c] is None else group.totals[c] for c in report.columns)])
    else:
        _print_table(report, groups, by)
        print(f"as of {clock_info['shown']}")
    raise typer.Exit(EXIT_OK)


def _print_table(report: Results, groups: list[Group], by: str) -> None:
    console = Console(width=max(Console().width, 120), highlight=False)
    table = Table(title=f"Results by {by} — {len(report.posts)} published posts", title_justify="left")
    table.add_column(by)
    table.add_column("posts", justify="right")
    total = report.totals()
    # A column no platform gives is left out; before the first collection nothing is known, so all stay.
    shown = [c for c in report.columns if any(g.totals[c] is not None for g in groups) or total.collected == 0]
    for column in shown:
        table.add_column(LABELS.get(column, column), justify="right")
    for group in groups:
        table.add_row(group.key, str(group.posts), *(_cell(group.totals[c], group) for c in shown))
    table.add_row("all", str(total.posts), *(_cell(total.totals[c], total) for c in shown), style="bold")
    console.print(table)
    console.print(f"{NOT_GIVEN} not given by these posts' platforms (never counted as 0); {NOT_YET}: not collected yet. "
                  "Figures are each post's latest collection; reach and impressions add up per post, not unique "
                  "people across posts.")
    for note in report.notes:
        console.print(f"note: {note}")


def results_import(export: Annotated[Path, typer.Argument(help="A CSV export from Matomo or GA4 with UTM campaign, source, content and sessions.")],
                   db: DbOption = None) -> None:
    """Import web sessions per UTM campaign, source and content; importing the same file again replaces it."""
    try:
        rows = read_export(export)
    except CampaignError as error:
        print(str(error), file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    store = _store(db)
    try:
        count = ResultsStore(store).replace_sessions(str(export.resolve()), rows, store_clock_or_exit(store).now())
    finally:
        store.close()
    print(f"{export}: {count} rows, {sum(r[3] for r in rows):,} sessions imported into {store.url}")
    raise typer.Exit(EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("results")(store_errors(results))
    app.command("results-import")(store_errors(results_import))
