"""`demo`: the whole campaign in one command, on the sample calendar and sample media.

validate -> render (from the sample raw media shipped with the project) -> plan -> preview ->
rehearse (the daemon publishes every post to the local emulators on a fast clock) ->
report, checked against what the emulators received. Repeatable: the rehearsal starts from
a fresh store and outbox each time, and rendering skips what is already up to date.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import assets
from application.cli_support import DEFAULT_CALENDAR, EXIT_OK, EXIT_PARTIAL, CalendarOption
from application.commands.assets import render_with_progress
from application.commands.validate import validated_or_exit
from application.rehearsal import RehearsalProgress, RehearsalResult, rehearsal_start, rehearse
from application.rehearsal_report import RehearsalReport, build_report
from assets.pipeline import RenderSummary
from campaign.calendar import LoadedCalendar
from campaign.clock import SystemClock
from console.accounts import demo_account
from scheduler.daemon.logs import EventLog
from scheduler.plan import plan_posts
from scheduler.plan.preview import render_preview
from scheduler.results.html import write_results_page
from scheduler.results.report import build_results
from scheduler.store import Store
from scheduler.subtitle_demo import speech_step

MONTH_PER_MINUTE = 30 * 24 * 3600 / 60  # campaign seconds per real second in the demo

SAMPLE_INBOX = Path(assets.__file__).resolve().parent / "samples" / "raw"


@dataclass(frozen=True)
class DemoPaths:
    build: Path
    work: Path  # the rehearsal's own store, outbox and report (never the production store)

    @property
    def db_file(self) -> Path:
        return self.work / "rehearsal.db"

    @property
    def outbox(self) -> Path:
        return self.work / "outbox"

    @property
    def preview(self) -> Path:
        return self.build / "preview.html"


@dataclass
class DemoOutcome:
    loaded: LoadedCalendar
    render: RenderSummary
    result: RehearsalResult  # with what the emulators received
    report: RehearsalReport


def clock_label(campaign_time: dt.datetime, zone: str) -> str:
    """What the progress line shows: the rehearsal's campaign clock (running a month a minute),
    said to be that, in the campaign's time zone; not the time any post was published."""

    return f"campaign clock {campaign_time.astimezone(ZoneInfo(zone)):%a %d %b %Y %H:%M %Z}"


def demo(
    calendar: CalendarOption = DEFAULT_CALENDAR,
    inbox: Annotated[Path, typer.Option("--inbox", help="Raw testimonials to render (default: the samples shipped with the project).")] = SAMPLE_INBOX,
    build: Annotated[Path, typer.Option("--build", help="Where rendered assets and the preview go.")] = Path("build"),
    work: Annotated[Path, typer.Option("--work", help="The rehearsal's store, outbox and report (emptied at each run).")] = Path("demo"),
    speed: Annotated[float, typer.Option("--speed", min=1.0, help="Campaign seconds per real second (default: a month per minute).")] = MONTH_PER_MINUTE,
) -> None:
    """Validate, render, plan, preview, then rehearse the whole campaign on local emulators and report."""
    outcome = run_demo(calendar, inbox=inbox, build=build, work=work, speed=speed)
    if outcome.report is None:
        raise typer.Exit(EXIT_PARTIAL)
    raise typer.Exit(EXIT_OK if outcome.report.ok else EXIT_PARTIAL)


def run_demo(calendar: Path, *, inbox: Path = SAMPLE_INBOX, build: Path = Path("build"), work: Path = Path("demo"),
             speed: float = MONTH_PER_MINUTE, console: Console | None = None) -> DemoOutcome:
    """The five steps; stops after rendering (report None) if assets could not be made."""
    console = console or Console(stderr=True, highlight=False)
    paths = DemoPaths(build=build, work=work)
    loaded = _step_validate(console, calendar)
    if inbox == SAMPLE_INBOX:  # one clip's subtitles drafted from its speech and approved (scheduler.subtitle_demo)
        console.print("\n[bold]Subtitles from speech[/bold]")
        inbox = speech_step(console, loaded, inbox, work)
    rendered = _step_render(console, loaded, inbox, build)
    if rendered.exit_code:
        return DemoOutcome(loaded, rendered, None, None)
    plan = _step_preview(console, loaded, paths)
    unplanned = [i.message for i in plan.errors if not any(p.id == i.post_id for p in plan.posts)]
    result, report = _step_rehearse(console, loaded, paths, speed, unplanned)
    _print_report(console, report)
    _step_results(console, loaded, paths, result)
    _console_account(console, paths, calendar)
    return DemoOutcome(loaded, rendered, result, report)


def _console_account(console: Console, paths: DemoPaths, calendar: Path) -> None:
    """The rehearsal store stays after the demo: give it a console account to look at it with."""

    url = f"sqlite:///{paths.db_file}"
    name, password = demo_account(url)
    command = f"python run.py web --db {url}" + (f" --calendar {calendar}" if calendar != DEFAULT_CALENDAR else "") + (
        f" --build {paths.build}" if paths.build != Path("build") else "")
    console.print(f"See the rehearsal in the team's console: [bold]{command}[/bold], then open "
                  f"http://127.0.0.1:8080/ and log in as [bold]{name}[/bold] with the password [bold]{password}[/bold] "
                  "(an admin of this rehearsal store only, made anew at each demo).", highlight=False, soft_wrap=True)


def _heading(console: Console, number: int, text: str) -> None:
    console.print(f"\n[bold]{number}. {text}[/bold]")


def _step_validate(console: Console, calendar: Path) -> LoadedCalendar:
    _heading(console, 1, f"Validating {calendar}")
    loaded, _captions = validated_or_exit(calendar)
    cal = loaded.calendar
    console.print(f"valid: {len(cal.channels)} channels, {len(cal.testimonials)} testimonials, "
                  f"{len(cal.moments)} moments, {len(cal.blackouts)} blackouts")
    return loaded


def _step_render(console: Console, loaded: LoadedCalendar, inbox: Path, build: Path):  # type: ignore[no-untyped-def]
    _heading(console, 2, f"Rendering the testimonials in {inbox} into {build}/")
    summary = render_with_progress(loaded, inbox, build, move_rejected=False, console=console)  # never move the samples
    counts = summary.to_dict()["counts"]
    console.print(f"{counts['rendered']} rendered, {counts['skipped']} already up to date — {summary.seconds:.1f} s")
    for entry in summary.rejected + summary.missing + summary.errors:
        console.print(f"[red]{entry.get('output') or entry.get('source')}: {entry['reason']}[/red]")
    if summary.exit_code:
        console.print("[red]Some assets could not be rendered: fix the files named above and run the demo again.[/red]")
    return summary


def _step_preview(console: Console, loaded: LoadedCalendar, paths: DemoPaths):  # type: ignore[no-untyped-def]
    _heading(console, 3, "Planning the posts and writing the preview")
    plan = plan_posts(loaded, build_dir=paths.build, today=rehearsal_start(loaded).date())
    html = render_preview(plan, loaded.calendar, templates_dir=loaded.root / loaded.calendar.templates, root=loaded.root,
                          generated=SystemClock().now(), source=str(loaded.path))
    paths.preview.parent.mkdir(parents=True, exist_ok=True)
    paths.preview.write_text(html, encoding="utf-8")
    channels = len({p.channel_id for p in plan.posts})
    console.print(f"{len(plan.posts)} posts on {channels} channels; preview: {paths.preview}")
    for issue in plan.issues:
        console.print(f"[yellow]{issue.severity}: {issue.message}[/yellow]")
    return plan


def _step_rehearse(console: Console, loaded: LoadedCalendar, paths: DemoPaths, speed: float,  # type: ignore[no-untyped-def]
                   unplanned: list[str] | None = None):
    _heading(console, 4, f"Rehearsing the campaign on the local emulators ({speed * 60 / 86400:g} campaign days "
                         "per minute, quiet weeks skipped)")
    for stale in (paths.db_file, paths.db_file.with_name(paths.db_file.name + "-wal"),
                  paths.db_file.with_name(paths.db_file.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.rmtree(paths.outbox, ignore_errors=True)
    paths.work.mkdir(parents=True, exist_ok=True)
    log_file = paths.work / "daemon.log"  # the daemon's own log lines; the screen shows progress
    logger = logging.getLogger("application.demo.daemon")
    handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    zone = loaded.calendar.campaign.timezone

    with Progress(TextColumn("{task.fields[when]}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=False) as bar:
        task = bar.add_task("", total=None, when="")
        shown = {"done": -1}

        def progress(event: RehearsalProgress) -> None:
            when = clock_label(event.campaign_time, zone)
            text = f"{event.published} published" + (f", {event.problems} problems" if event.problems else "")
            bar.update(task, completed=event.done, total=event.total, description=text, when=when)
            if not console.is_terminal and event.done != shown["done"]:
                shown["done"] = event.done
                console.print(f"  {when}: {event.done}/{event.total} done, {text}", markup=False)

        try:
            result = rehearse(loaded, build_dir=paths.build, db_url=f"sqlite:///{paths.db_file}",
                              outbox_dir=paths.outbox, speed=speed, progress=progress, log=EventLog(logger))
        finally:
            logger.removeHandler(handler)
            handler.close()
    files = {"preview": str(paths.preview), "rendered assets": f"{paths.build}/", "outbox": f"{paths.outbox}/",
             "rehearsal store": str(paths.db_file), "daemon log": str(log_file),
             "report": str(paths.work / "report.md"), "report (JSON)": str(paths.work / "report.json")}
    report = build_report(result, loaded.calendar, files, build_dir=paths.build)
    report.unplanned = list(unplanned or [])  # a post that could not be planned did not go out as planned
    (paths.work / "report.md").write_text(report.to_markdown(), encoding="utf-8")
    (paths.work / "report.json").write_text(report.to_json(), encoding="utf-8")
    if result.approved:
        console.print(f"({result.approved} posts of channels that need approval were approved as 'rehearsal'; "
                      "the audit trail in the rehearsal store says so)")
    return result, report


def _print_report(console: Console, report) -> None:  # type: ignore[no-untyped-def]
    _heading(console, 5, "Report")
    out = Console(highlight=False, soft_wrap=True, width=max(Console().width, 140))
    table = Table(title=f"campaign {report.campaign_from} → {report.campaign_to}, rehearsed in {report.real_seconds:.0f} s")
    for column in ("channel", "platform", "lang", "planned", "published", "late", "held", "failed", "where they went (first)"):
        table.add_column(column, no_wrap=column != "where they went (first)",
                         justify="right" if column in ("planned", "published", "late", "held", "failed") else "left")
    for line in report.lines:
        table.add_row(line.channel, line.platform, line.language, str(line.planned), str(line.published),
                      str(line.late), str(line.held), str(line.failed), line.example_url or "")
    out.print(table)
    for title, items in (("late", report.late), ("held", report.held), ("failed or missed", report.failed)):
        for post in items:
            out.print(f"[yellow]{title}: {post.id}: {post.why or post.state}[/yellow]")
    for message in report.unplanned:
        out.print(f"[red]could not be planned: {message}[/red]")
    if report.mismatches:
        for problem in report.mismatches:
            out.print(f"[red]store and platforms disagree: {problem}[/red]")
    else:
        total = sum(line.published for line in report.lines)
        out.print(f"checked: the emulators and the outbox received exactly the {total} published posts, each once, "
                  "on its own account, with the planned text and media")
    for name, path in report.paths.items():
        out.print(f"{name}: {path}")
    emulators = ", ".join(f"{platform} {url}" for platform, url in sorted(report.emulators.items()))
    out.print(f"The posts went to the local emulators ({emulators}), which stopped with the demo; each post's URL is "
              "the one its emulator answered, shaped like the real platform's. `python run.py daemon --sandbox` "
              "runs the same rehearsal in real time, with the emulators up for you to inspect.")
    sys.stdout.flush()


def _step_results(console: Console, loaded: LoadedCalendar, paths: DemoPaths, result) -> None:  # type: ignore[no-untyped-def]
    """The figures the daemon collected from the emulators during the rehearsal, as the results page."""
    _heading(console, 6, "Results (figures the daemon collected from the emulators, 1 hour to 30 days after each post)")
    store = Store(f"sqlite:///{paths.db_file}")
    try:
        results = build_results(store, loaded.calendar)
    finally:
        store.close()
    page = write_results_page(results, loaded.calendar, paths.work / "results.html", build_dir=paths.build,
                              now=result.finished)
    total = results.totals().totals
    gives = [p for p in results.posts if p.platform != "outbox"]  # a post a person publishes by hand has no API to read
    with_figures = sum(p.age is not None and not p.not_given for p in gives)
    by_hand = len(results.posts) - len(gives)
    console.print(f"{with_figures} of {len(gives)} published posts have figures"
                  + (f" (and {by_hand} outbox posts, published by hand: the outbox gives none)" if by_hand else "")
                  + f": {total['impressions'] or 0:,} impressions, {total['reach'] or 0:,} reached, "
                  f"{total['likes'] or 0:,} likes")
    console.print(f"results page: {page}  (and `python run.py results --db sqlite:///{paths.db_file} --by pillar`)")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
