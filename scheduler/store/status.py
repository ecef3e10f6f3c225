"""What `status` tells a manager: counts, what goes out next, what failed and why, what needs a human."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from scheduler.store import states
from scheduler.store.rows import StoredPost, from_db, to_db
from scheduler.store.schema import posts
from scheduler.store.store import ALL_CHANNELS, Store
from scheduler.store.sync import DISPLACED_PREFIX


#: How `status` names a `due` post whose time has not come: it is scheduled, not due yet.
SCHEDULED = "scheduled"


def build_status(store: Store, now: dt.datetime, *, limit: int = 10) -> dict[str, Any]:
    """The report `status` prints, as text or JSON alike. `totals` and `by_channel` count posts as
    a person reads them: a `due` post whose time has not come is "scheduled" (the JSON said "due"
    for those while the text said "scheduled"); `store_states` keeps the store's own counts, and
    `not_yet_due` how many of its `due` posts wait for their time."""
    counts = store.counts()
    not_yet = _not_yet_due(store, now)
    stored_by_channel: dict[str, dict[str, int]] = {}
    stored_totals: dict[str, int] = {}
    for (channel, state), n in sorted(counts.items()):
        stored_by_channel.setdefault(channel, {})[state] = n
        stored_totals[state] = stored_totals.get(state, 0) + n
    totals, by_channel = _as_shown(stored_by_channel, not_yet)
    with store.engine.begin() as conn:
        upcoming = [StoredPost.from_row(r) for r in conn.execute(
            select(posts).where(posts.c.state.in_(states.CLAIMABLE + (states.PLANNED,)))
            .order_by(posts.c.scheduled_at, posts.c.id).limit(limit)).mappings()]
        troubled = [StoredPost.from_row(r) for r in conn.execute(
            select(posts).where(posts.c.state.in_((states.UNKNOWN, states.FAILED, states.MISSED, states.RETRY_WAIT, states.HELD)))
            .order_by(posts.c.scheduled_at).limit(200)).mappings()]
        displaced = [StoredPost.from_row(r) for r in conn.execute(
            select(posts).where(posts.c.state == states.CANCELLED, posts.c.state_reason.startswith(DISPLACED_PREFIX))
            .order_by(posts.c.scheduled_at).limit(200)).mappings()]
        waiting = [StoredPost.from_row(r) for r in conn.execute(
            select(posts).where(posts.c.state == states.PLANNED).order_by(posts.c.scheduled_at).limit(limit)).mappings()]
        sent_back = [StoredPost.from_row(r) for r in conn.execute(
            select(posts).where(posts.c.state == states.SENT_BACK).order_by(posts.c.scheduled_at).limit(200)).mappings()]
    channels = store.channel_states()
    paused = [{"channel": cid if cid != ALL_CHANNELS else "all channels", "reason": c["reason"],
               "by": c["paused_by"], "since": _iso(c["paused_at"])}
              for cid, c in sorted(channels.items()) if c["paused"]]
    limited = [{"channel": cid, "until": _iso(c["rate_limited_until"])}
               for cid, c in sorted(channels.items()) if c["rate_limited_until"] and c["rate_limited_until"] > now]
    beats = store.heartbeats()
    return {
        "now": _iso(now),
        "totals": totals,
        "by_channel": by_channel,
        "next": [_brief(p, now) for p in upcoming],
        "problems": [_brief(p) for p in troubled],
        "needs_human": {
            "unknown": [_brief(p) for p in troubled if p.state == states.UNKNOWN],
            "failed": [_brief(p) for p in troubled if p.state == states.FAILED],
            "missed": [_brief(p) for p in troubled if p.state == states.MISSED],
            "held": [_brief(p) for p in troubled if p.state == states.HELD],
            "cannot_be_planned": [_brief(p) for p in displaced],
            "sent_back": [_brief(p) for p in sent_back],
            "paused_channels": paused,
            "awaiting_approval": {"count": totals.get(states.PLANNED, 0), "first": [_brief(p, now) for p in waiting]},
        },
        "not_yet_due": {"total": sum(not_yet.values()), "by_channel": not_yet},
        "store_states": {"totals": stored_totals, "by_channel": stored_by_channel},
        "rate_limited": limited,
        "daemons": [{"worker": b["worker"], "last_beat": _iso(b["at"]), "pid": b["pid"], "host": b["host"]}
                    for b in beats[:5]],
    }


def render_status(status: dict[str, Any]) -> str:
    clock = status.get("clock")
    lines = [f"Status at {status['now']}" + (f" — {clock['shown']}" if clock else "")]
    totals, by_channel = status["totals"], status["by_channel"]
    if not totals:
        return lines[0] + "\nNo posts in the store yet: run `python run.py schedule`."
    lines.append("Posts: " + ", ".join(f"{n} {s}" for s, n in sorted(totals.items())))
    lines.append("")
    order = [s for s in (SCHEDULED, *states.ALL) if s in totals]
    width = max(len(c) for c in by_channel)
    lines.append(f"{'channel':<{width}}  " + "  ".join(f"{s:>10}" for s in order))
    for channel, row in by_channel.items():
        lines.append(f"{channel:<{width}}  " + "  ".join(f"{row.get(s, 0):>10}" for s in order))
    human = status["needs_human"]
    lines.append("")
    lines.append("Next:")
    lines += [f"  {_when(p)}  {p['id']}  ({p['shown_state']})" for p in status["next"]] or ["  nothing scheduled"]
    lines.append("")
    lines.append("Needs a human:")
    shown = 0
    for paused in human["paused_channels"]:
        lines.append(f"  PAUSED {paused['channel']} since {paused['since']} by {paused['by']}: {paused['reason']}")
        shown += 1
    for key, label in (("unknown", "UNKNOWN, CHECK"), ("failed", "FAILED"), ("missed", "MISSED"),
                       ("held", "HELD (fix the calendar, then `schedule`)"),
                       ("cannot_be_planned", "CANCELLED, NO SLOT (fix the calendar, then `schedule`)")):
        for p in human.get(key, []):
            lines.append(f"  {label} {p['id']}: {p['reason'] or p['last_error']}")
            shown += 1
    for p in human["sent_back"]:
        lines.append(f"  SENT BACK {p['id']}: {p['reason']} (held until its calendar entry or asset changes)")
        shown += 1
    waiting = human["awaiting_approval"]
    if waiting["count"]:
        lines.append(f"  {waiting['count']} posts await approval (`python run.py approve --post|--moment|--channel`), "
                     f"first: {waiting['first'][0]['id']} at {_when(waiting['first'][0])}")
        shown += 1
    if not shown:
        lines.append("  nothing")
    retrying = [p for p in status["problems"] if p["state"] == states.RETRY_WAIT]
    if retrying or status["rate_limited"]:
        lines.append("")
        lines.append("Retrying:")
        lines += [f"  {p['id']} at {p['next_attempt_at']}: {p['last_error']}" for p in retrying]
        lines += [f"  channel {r['channel']} rate-limited until {r['until']}" for r in status["rate_limited"]]
    if status["daemons"]:
        beat = status["daemons"][0]
        lines.append("")
        lines.append(f"Last daemon heartbeat: {beat['last_beat']} ({beat['worker']})")
    return "\n".join(lines)


def _not_yet_due(store: Store, now: dt.datetime) -> dict[str, int]:
    """channel -> posts that wait for their time (`due` in the store, but not yet)."""
    with store.engine.begin() as conn:
        rows = conn.execute(select(posts.c.channel_id, func.count())
                            .where(posts.c.state == states.DUE, posts.c.scheduled_at > to_db(now))
                            .group_by(posts.c.channel_id)).all()
    return {channel: n for channel, n in rows}


def _as_shown(stored: dict[str, dict[str, int]], waiting: dict[str, int]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """Totals and per-channel counts with `due` posts whose time has not come counted as "scheduled"."""
    by_channel: dict[str, dict[str, int]] = {}
    for channel, row in stored.items():
        row = dict(row)
        if waiting.get(channel):
            row[SCHEDULED] = waiting[channel]
            row[states.DUE] = row.get(states.DUE, 0) - waiting[channel]
        by_channel[channel] = {state: n for state, n in row.items() if n}
    totals: dict[str, int] = {}
    for row in by_channel.values():
        for state, n in row.items():
            totals[state] = totals.get(state, 0) + n
    return totals, by_channel


def _when(post: dict[str, Any]) -> str:
    """The post's time in its channel's local time, then in UTC, each with its date:
    "Mon 18 Jan 2027 08:00 (UTC+01:00) · Mon 18 Jan 07:00 UTC"."""
    utc = dt.datetime.fromisoformat(post["scheduled_at"]).astimezone(dt.timezone.utc)
    if not post.get("local_time"):
        return f"{utc:%a %d %b %Y %H:%M} UTC"
    local = dt.datetime.fromisoformat(post["local_time"])
    offset = local.strftime("%z")
    return f"{local:%a %d %b %Y %H:%M} (UTC{offset[:3]}:{offset[3:]}) · {utc:%a %d %b %H:%M} UTC"


def _shown_state(post: StoredPost, now: dt.datetime | None) -> str:
    if post.state == states.DUE and now is not None and post.scheduled_at > now:
        return SCHEDULED
    return post.state


def _brief(post: StoredPost, now: dt.datetime | None = None) -> dict[str, Any]:
    return {"id": post.id, "channel": post.channel_id, "state": post.state, "shown_state": _shown_state(post, now),
            "scheduled_at": _iso(post.scheduled_at), "local_time": _iso(post.local_time),
            "next_attempt_at": _iso(post.next_attempt_at), "attempts": post.attempts, "last_error": post.last_error,
            "reason": post.state_reason, "remote_url": post.remote_url}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


__all__ = ["build_status", "render_status", "from_db", "to_db"]
