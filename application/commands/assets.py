"""`render`: turn the designers' inbox into every branded file the calendar needs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.cli_support import DEFAULT_CALENDAR, EXIT_BAD_INPUT, CalendarOption, load_or_exit
from assets.inbox import DEFAULT_SETTLE_SECONDS
from assets.pipeline import DEFAULT_INBOX, DEFAULT_OUT, ProgressEvent, RenderSummary, render_all
from campaign.errors import CampaignError
from scheduler.render_queue.queue import dispatcher, queue_listener


def render(
    calendar: CalendarOption = DEFAULT_CALENDAR,
    inbox: Annotated[Path, typer.Option("--inbox", help="Folder where designers drop photos, clips and subtitles.")] = DEFAULT_INBOX,
    out: Annotated[Path, typer.Option("--out", help="Folder for rendered files and manifest.json.")] = DEFAULT_OUT,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")] = False,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Sources rendered in parallel (default: one per "
                                                                         "core; each clip's encoders use one thread each).")] = None,
    settle: Annotated[float, typer.Option("--settle", min=0.0, help="Seconds a just-modified file is watched for a copy in progress.")] = DEFAULT_SETTLE_SECONDS,
    queue: Annotated[Optional[str], typer.Option("--queue", help="PostgreSQL URL of the render queue: put one job per output "
                                                                 "on it for `worker`s instead of rendering here.")] = None,
) -> None:
    """Render what is missing or stale; exit 0 if all rendered, 1 if some inputs were rejected, 2 for a bad calendar."""
    loaded = load_or_exit(calendar, quiet_warnings=as_json)
    if not inbox.is_dir():
        print(f"note: the inbox {inbox} does not exist yet — create it and drop the testimonial media there", file=sys.stderr)
    try:
        if queue:
            summary = _render_on_queue(loaded, inbox, out, queue, settle)
        else:
            summary = render_with_progress(loaded, inbox, out, workers=workers, settle=settle)
    except CampaignError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if as_json:
        print(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    _print_summary(summary, out)
    raise typer.Exit(summary.exit_code)


def _render_on_queue(loaded, inbox: Path, out: Path, queue: str, settle: float) -> RenderSummary:  # type: ignore[no-untyped-def]
    with queue_listener(queue) as listener:
        return render_all(loaded, inbox, out, settle_seconds=settle, listener=listener, dispatch=dispatcher(queue))


def render_with_progress(loaded, inbox: Path, out: Path, *, workers: int | None = None,  # type: ignore[no-untyped-def]
                         settle: float = DEFAULT_SETTLE_SECONDS, move_rejected: bool = True,
                         console=None) -> RenderSummary:
    """`render_all` with a progress bar on a terminal, one line per step elsewhere (logs, CI)."""
    console = console or Console(stderr=True)
    with Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=False) as bar:
        task = bar.add_task("", total=None)

        def progress(event: ProgressEvent) -> None:
            bar.update(task, completed=event.done, total=event.total, description=event.message)
            if not console.is_terminal:
                console.print(f"[{event.done}/{event.total}] {event.message}", markup=False, highlight=False)

        return render_all(loaded, inbox, out, workers=workers, progress=progress, settle_seconds=settle,
                          move_rejected=move_rejected)


def _print_summary(summary: RenderSummary, out: Path) -> None:
    """Human summary on stderr (stdout stays clean for --json)."""
    err = sys.stderr
    for entry in summary.rendered:
        notes = f" ({'; '.join(entry['notes'])})" if entry.get("notes") else ""
        print(f"rendered  {out / entry['output']}  [{', '.join(entry['platforms'])}]{notes}", file=err)
    for entry in summary.rendered:
        for warning in entry.get("warnings") or []:
            print(f"WARNING   {out / entry['output']}: {warning}", file=err)
    for entry in summary.rejected:
        where = f" -> moved to {entry['moved_to']}" if entry.get("moved_to") else ""
        label = entry.get("output") or entry["source"]
        print(f"REJECTED  {label}: {entry['reason']}{where}", file=err)
    for entry in summary.missing:
        print(f"MISSING   {entry['source']}: {entry['reason']}", file=err)
    for entry in summary.errors:
        print(f"ERROR     {entry.get('output') or entry['source']}: {'; '.join(entry['problems'])}", file=err)
    for entry in summary.queued:
        print(f"QUEUED    {out / entry['output']}: {entry['reason']}", file=err)
    counts = summary.to_dict()["counts"]
    warned = sum(1 for entry in summary.rendered if entry.get("warnings"))
    print(
        f"{counts['rendered']} rendered ({warned} with a warning), {counts['skipped']} up to date or unused, {counts['rejected']} rejected, "
        f"{counts['missing']} missing, {counts['errors']} failed the platform check"
        + (f", {counts['queued']} queued for render workers" if summary.queued else "") + f" — {summary.seconds:.1f} s",
        file=err,
    )


def register(app: typer.Typer) -> None:
    app.command("render")(render)
