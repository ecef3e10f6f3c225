"""Digests: per recipient, what is new since their last message, in one message.

Approvers get the posts waiting for approval on their channels; those with `failures: true`
get failed and "unknown, check" posts. A post in a state is told once; a recipient gets at
most one digest every `notifications.every`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.notify.outbox import Notice, Outbox
from scheduler.plan.preview import account_label
from scheduler.store import Store, states
from scheduler.store.reads import PostFilter, find_posts
from scheduler.store.rows import StoredPost

FAILURES = (states.FAILED, states.UNKNOWN)
LISTED = 25  # posts listed per section; the rest are counted


@dataclass(frozen=True)
class Queued:
    recipient: str
    subject: str
    approvals: int
    failures: int


def _approves(recipient: Any, calendar: Any) -> list[str]:
    if recipient.approves == "all":
        return [c.id for c in calendar.channels if c.approval]
    return list(recipient.approves)


def _line(post: StoredPost, calendar: Any, console: str | None) -> str:
    channel = next((c for c in calendar.channels if c.id == post.channel_id), None)
    local = post.scheduled_at.astimezone(ZoneInfo(channel.timezone)) if channel else post.scheduled_at
    caption = " ".join(post.caption.split())
    line = (f"- {local:%a %-d %b %H:%M} {local.tzname()} · {account_label(channel, post.account)} "
            f"({post.platform}, {post.language}) · {post.moment_id}: {caption[:80]}{'…' if len(caption) > 80 else ''}")
    if post.state in FAILURES and post.state_reason:
        line += f"\n  {'unknown, check' if post.state == states.UNKNOWN else 'failed'}: {post.state_reason[:200]}"
    if console:
        line += f"\n  {console.rstrip('/')}/posts/{post.id}"
    return line


def _section(title: str, new: list[StoredPost], total: int, calendar: Any, console: str | None) -> list[str]:
    head = f"{title} ({len(new)} new" + (f", {total} in all" if total > len(new) else "") + "):"
    lines = [head] + [_line(p, calendar, console) for p in new[:LISTED]]
    if len(new) > LISTED:
        lines.append(f"- … and {len(new) - LISTED} more")
    return lines + [""]


def compose(store: Store, calendar: Any, now: dt.datetime, outbox: Outbox | None = None) -> list[Queued]:
    """Queue a digest for each recipient with something new (and none sent within `every`)."""
    settings = calendar.notifications
    if settings is None or not settings.recipients:
        return []
    outbox = outbox or Outbox(store)
    name = calendar.campaign.name
    queued: list[Queued] = []
    for recipient in settings.recipients:
        medium, target = ("email", recipient.email) if recipient.email else ("webhook", recipient.webhook)
        last = outbox.last_digest(medium, target)
        if last is not None and now - last < settings.every:
            continue
        told = outbox.already_seen(recipient.key)
        waiting: list[StoredPost] = []
        failing: list[StoredPost] = []
        channels = _approves(recipient, calendar)
        if channels:
            rows, _ = find_posts(store, PostFilter(state=states.PLANNED, channel=channels))
            waiting = [StoredPost.from_row(r) for r in rows]
        if recipient.failures:
            rows, _ = find_posts(store, PostFilter(state=FAILURES))
            failing = [StoredPost.from_row(r) for r in rows]
        new_waiting = [p for p in waiting if (p.id, p.state) not in told]
        new_failing = [p for p in failing if (p.id, p.state) not in told]
        if not new_waiting and not new_failing:
            continue
        parts = []
        if new_waiting:
            parts.append(f"{len(new_waiting)} post{'s' if len(new_waiting) != 1 else ''} wait for your approval")
        if new_failing:
            parts.append(f"{len(new_failing)} failed or to check")
        subject = f"{name}: " + ", ".join(parts)
        lines = [f"Hello {recipient.name}," if recipient.name else "Hello,", ""]
        if new_waiting:
            lines += _section("Waiting for your approval", new_waiting, len(waiting), calendar, settings.console)
            if settings.console:
                lines += [f"Review them: {settings.console.rstrip('/')}/?needs=me", ""]
        if new_failing:
            lines += _section("Failed or \"unknown, check\"", new_failing, len(failing), calendar, settings.console)
        lines.append(f"— the {name} campaign tool (one message at most every {_human(settings.every)})")
        marks = [(recipient.key, p.id, p.state) for p in new_waiting + new_failing]
        key = f"digest:{recipient.key}:{now.isoformat()}"
        if outbox.enqueue(Notice(medium, target, subject, "\n".join(lines), key), now, seen_posts=marks):
            queued.append(Queued(recipient.shown, subject, len(new_waiting), len(new_failing)))
    return queued


def _human(every: dt.timedelta) -> str:
    minutes = int(every.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes} min"
