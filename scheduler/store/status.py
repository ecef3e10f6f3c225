"""What `status` tells a manager: counts, what goes out next, what failed and why, what needs a human."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from scheduler.store import states
from scheduler.store.rows import StoredPost, from_db, to_db
from scheduler.store.schema import posts
from scheduler.store.store import ALL_CHANNELS, Store
from scheduler.store.sync import DISPLACED_PREFIX


def build_status(store: Store, now: dt.datetime, *, limit: int = 10) -> dict[str, Any]:
    counts = store.counts()
    by_channel: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for (channel, state), n in sorted(counts.items()):
        by_channel.setdefault(channel, {})[state] = n
        totals[state] = totals.get(state, 0) + n
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
        "next": [_brief(p) for p in upcoming],
        "problems": [_brief(p) for p in troubled],
        "needs_human": {
            "unknown": [_brief(p) for p in troubled if p.state == states.UNKNOWN],
            "failed": [_brief(p) for p in troubled if p.state == states.FAILED],
            "missed": [_brief(p) for p in troubled if p.state == states.MISSED],
            "held": [_brief(p) for p in troubled if p.state == states.HELD],
            "cannot_be_planned": [_brief(p) for p in displaced],
            "sent_back": [_brief(p) for p in sent_back],
            "paused_channels": paused,
            "awaiting_approval": {"count": totals.get(states.PLANNED, 0), "first": [_brief(p) for p in waiting]},
        },
        "rate_limited": limited,
        "daemons": [{"worker": b["worker"], "last_beat": _iso(b["at"]), "pid": b["pid"], "host": b["host"]}
                    for b in beats[:5]],
    }


def render_status(status: dict[str, Any]) -> str:
    lines = [f"Status at {status['now']}"]
    totals = status["totals"]
    if not totals:
        return lines[0] + "\nNo posts in the store yet: run `python run.py schedule`."
    lines.append("Posts: " + ", ".join(f"{n} {s}" for s, n in sorted(totals.items())))
    lines.append("")
    order = [s for s in states.ALL if s in totals]
    width = max(len(c) for c in status["by_channel"])
    lines.append(f"{'channel':<{width}}  " + "  ".join(f"{s:>10}" for s in order))
    for channel, row in status["by_channel"].items():
        lines.append(f"{channel:<{width}}  " + "  ".join(f"{row.get(s, 0):>10}" for s in order))
    human = status["needs_human"]
    lines.append("")
    lines.append("Next:")
    lines += [f"  {p['scheduled_at']}  {p['id']}  ({p['state']})" for p in status["next"]] or ["  nothing scheduled"]
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
                     f"first: {waiting['first'][0]['id']} at {waiting['first'][0]['scheduled_at']}")
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


def _brief(post: StoredPost) -> dict[str, Any]:
    return {"id": post.id, "channel": post.channel_id, "state": post.state, "scheduled_at": _iso(post.scheduled_at),
            "next_attempt_at": _iso(post.next_attempt_at), "attempts": post.attempts, "last_error": post.last_error,
            "reason": post.state_reason, "remote_url": post.remote_url}


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


__all__ = ["build_status", "render_status", "from_db", "to_db"]
