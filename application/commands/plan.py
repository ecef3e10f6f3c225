"""`plan` and `preview`: what managers read before anything goes out."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from application.cli_support import (
    DEFAULT_CALENDAR, EXIT_BAD_INPUT, EXIT_OK, EXIT_PARTIAL, CalendarOption, date_or_exit, load_or_exit,
)
from campaign.clock import SystemClock
from campaign.errors import TemplateError
from campaign.post import PlanIssue, PlannedPost
from scheduler.plan.export_ics import plan_to_ics
from scheduler.plan.planner import Plan, plan_posts
from scheduler.plan.preview import render_preview
from scheduler.plan.subtitle_view import summary_lines

InboxOption = Annotated[Path, typer.Option("--inbox", help="The designers' inbox (subtitles approved, draft or missing per clip and language).")]
DEFAULT_INBOX = Path("inbox")
BuildOption = Annotated[Path, typer.Option("--build", help="Folder of rendered assets (to mark what is not rendered yet).")]
DEFAULT_BUILD = Path("build")


def _plan_or_exit(calendar: Path, build: Path) -> tuple[Any, Plan]:
    loaded = load_or_exit(calendar)
    try:
        return loaded, plan_posts(loaded, build_dir=build, today=SystemClock().now().date())
    except TemplateError as error:
        print(f"{error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _in_range(post: PlannedPost, start: dt.date | None, end: dt.date | None) -> bool:
    day = post.local_time.date()
    return (start is None or day >= start) and (end is None or day <= end)


def post_as_json(post: PlannedPost, rendered: bool) -> dict[str, Any]:
    media = None
    if post.media:
        media = {**post.media.__dict__, "rendered": rendered}
    return {
        "id": post.id, "moment": post.moment_id, "occurrence": post.occurrence, "channel": post.channel_id,
        "platform": post.platform, "account": post.account, "language": post.language,
        "scheduled_at": post.scheduled_at.isoformat(), "local_time": post.local_time.isoformat(),
        "timezone": str(post.local_time.tzinfo), "caption": post.caption, "link": post.link,
        "hashtags": list(post.hashtags), "media": media, "needs_approval": post.needs_approval,
        "grace_seconds": post.grace_seconds, "warnings": list(post.warnings), "held": post.held, "problems": list(post.problems),
        "idempotency_key": post.idempotency_key,
        # the other languages this one post carries (a YouTube video's titles and descriptions), by language
        "languages": list(post.languages), "localizations": dict(post.localizations),
    }


def issue_as_json(issue: PlanIssue) -> dict[str, Any]:
    return dict(issue.__dict__)


def plan(
    calendar: CalendarOption = DEFAULT_CALENDAR,
    as_json: Annotated[bool, typer.Option("--json", help="Print posts and issues as JSON for scripts.")] = False,
    from_date: Annotated[str | None, typer.Option("--from", help="Only posts on or after this local date (YYYY-MM-DD).")] = None,
    to_date: Annotated[str | None, typer.Option("--to", help="Only posts on or before this local date (YYYY-MM-DD).")] = None,
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write the posts as an RFC 5545 calendar file.")] = None,
    build: BuildOption = DEFAULT_BUILD,
    wide: Annotated[bool, typer.Option("--wide", help="Every column (UTC, asset, warnings in full), however wide the terminal.")] = False,
    inbox: InboxOption = DEFAULT_INBOX,
) -> None:
    """List every planned post (local time, channel, language, moment, caption; --wide adds UTC, asset and warnings); exit 1 if some cannot be planned."""
    start, end = date_or_exit(from_date, "--from"), date_or_exit(to_date, "--to")
    loaded, result = _plan_or_exit(calendar, build)
    posts = [p for p in result.posts if _in_range(p, start, end)]
    if ics is not None:
        ics.parent.mkdir(parents=True, exist_ok=True)
        ics.write_bytes(plan_to_ics(posts, stamp=SystemClock().now(), name=loaded.calendar.campaign.name))
    if as_json:
        payload = {"posts": [post_as_json(p, result.is_rendered(p)) for p in posts],
                   "issues": [issue_as_json(i) for i in result.issues]}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        _print_table(posts, result, ics, wide=wide)
        for line in summary_lines(loaded.calendar, inbox):
            print(line)
    raise typer.Exit(EXIT_PARTIAL if result.errors else EXIT_OK)


def _print_table(posts: list[PlannedPost], result: Plan, ics: Path | None, *, wide: bool = False) -> None:
    """The plan as a table that fits the terminal (80 columns when not a terminal): local time,
    channel, language, moment, the caption's start and a warnings count; `wide` adds UTC, the
    asset and the warnings in full, at 200 columns or more."""
    console = Console(soft_wrap=False, width=max(Console().width, 200)) if wide else Console(soft_wrap=False)
    # Rows go in the order the posts go out (UTC): 09:00 in Tokyo leaves before 08:00 in Brussels the same day.
    title = f"{len(posts)} planned posts, in the order they go out" + ("" if wide else ", at each channel's local time")
    table = Table(title=title, show_lines=False, header_style="bold", pad_edge=False,
                  collapse_padding=True, box=None if not wide else box.HEAVY_HEAD)
    table.add_column("local time", no_wrap=True, min_width=16)
    if wide:
        table.add_column("UTC", no_wrap=True)
    table.add_column("channel", no_wrap=True, overflow="ellipsis", max_width=18 if not wide else None)
    table.add_column("lang", no_wrap=True, min_width=4)
    table.add_column("moment", no_wrap=True, overflow="ellipsis", max_width=16 if not wide else None)
    if wide:
        table.add_column("asset", no_wrap=True)
    # narrow: the caption gets what the other columns leave (16+18+4+16+2 and a space between each)
    caption_width = 36 if wide else max(8, console.width - 62)
    table.add_column("caption", no_wrap=not wide, overflow="ellipsis" if not wide else "fold", max_width=caption_width)
    table.add_column("warnings" if wide else "⚠", overflow="fold", no_wrap=not wide, min_width=2)
    refusals = {p.id: result.media_refusal(p) for p in posts if p.media and not result.is_rendered(p)}
    for post in posts:
        local = post.local_time
        start = " ".join(post.caption.split())
        row: list[Any] = [f"{local:%Y-%m-%d %H:%M}" + (f" {local:%Z} {local.tzinfo}" if wide else "")]
        if wide:
            row.append(f"{post.scheduled_at:%m-%d %H:%M}Z")
        # a post carrying several languages: "en+2" (narrow), "en+fr+nl" (wide); listed under the table
        languages = "+".join(post.languages) if wide else post.language + (f"+{len(post.localizations)}" if post.localizations else "")
        row += [post.channel_id + (" ✋" if post.needs_approval else ""), languages, post.moment_id]
        if wide:
            if post.media:
                asset = Text(post.media.path)
                refused = None if result.is_rendered(post) else result.media_refusal(post)
                # the reason goes under the table, once per file: in the column it squeezed every other one
                asset.append(" ✓" if result.is_rendered(post) else " (refused)" if refused else " (not rendered)",
                             style="green" if result.is_rendered(post) else "red" if refused else "yellow")
            else:
                asset = Text("text only", style="dim")
            row.append(asset)
            row.append(start[:34] + ("…" if len(start) > 34 else ""))
            row.append(Text("\n".join(post.warnings), style="yellow") if post.warnings else "")
        else:
            row.append(start[:caption_width - 1] + "…" if len(start) > caption_width else start)
            flags = (str(len(post.warnings)) if post.warnings else "") + ("✗" if refusals.get(post.id) else "")
            row.append(Text(flags, style="red" if refusals.get(post.id) else "yellow") if flags else "")
        table.add_row(*row)
    console.print(table)
    refused_files: dict[str, tuple[str, int]] = {}
    for post in posts:
        if refusals.get(post.id):
            reason, count = refused_files.get(post.media.path, (refusals[post.id], 0))  # type: ignore[union-attr]
            refused_files[post.media.path] = (reason, count + 1)  # type: ignore[union-attr]
    for path, (reason, count) in refused_files.items():
        console.print(Text(f"✗ refused: {path} ({count} post{'s' if count != 1 else ''}): {reason}", style="red"))
    several = [p for p in posts if p.localizations]
    if several:
        console.print(f"{len(several)} post{'s carry' if len(several) != 1 else ' carries'} several languages "
                      "(one post each; the first language is shown above):")
        for post in several:
            console.print(f"  {post.id}: {', '.join(post.languages)}")
    for issue in result.issues:
        style = "bold red" if issue.severity == "error" else "yellow"
        console.print(Text(f"{issue.severity}: {issue.message}", style=style))
    errors = len(result.errors)
    summary = f"{len(posts)} posts planned" + (f", {errors} could not be planned" if errors else ", no plan errors")
    if not wide:
        summary += "; ⚠ counts warnings, ✗ marks a refused asset (--wide shows them with UTC times and assets)"
    if ics is not None:
        summary += f"; calendar written to {ics}"
    console.print(summary)


def preview(
    calendar: CalendarOption = DEFAULT_CALENDAR,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the HTML page.")] = Path("build/preview.html"),
    build: BuildOption = DEFAULT_BUILD,
    inbox: InboxOption = DEFAULT_INBOX,
) -> None:
    """Write one static HTML page showing every planned post as it will look, week by week."""
    loaded, result = _plan_or_exit(calendar, build)
    try:
        html = render_preview(result, loaded.calendar, templates_dir=loaded.root / loaded.calendar.templates,
                              root=loaded.root, generated=SystemClock().now(), source=str(calendar),
                              subtitles=summary_lines(loaded.calendar, inbox))
    except TemplateError as error:
        print(f"{error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    errors = len(result.errors)
    print(f"preview of {len(result.posts)} posts written to {output}" + (f" ({errors} plan errors listed at the top)" if errors else ""))
    raise typer.Exit(EXIT_PARTIAL if errors else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("preview")(preview)
