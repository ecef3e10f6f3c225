"""Which ids exist, so a mistyped `--moment`, `--channel` or `--post` is refused with a
suggestion instead of being accepted as "0 posts approved" or a pause of nothing."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from campaign.calendar import load_calendar
from campaign.errors import CalendarError
from scheduler.store.schema import channel_state, posts
from scheduler.store.store import ALL_CHANNELS, Store


@dataclass(frozen=True)
class KnownIds:
    posts: frozenset[str] = field(default_factory=frozenset)
    moments: frozenset[str] = field(default_factory=frozenset)
    channels: frozenset[str] = field(default_factory=frozenset)


def known_ids(store: Store, calendar: Path | None = None) -> KnownIds:
    """Ids in the store, plus the channels and moments of `calendar` when it loads (a channel
    can be paused before anything was scheduled on it)."""
    with store.engine.begin() as conn:
        rows = conn.execute(select(posts.c.id, posts.c.moment_id, posts.c.channel_id)).all()
        paused = set(conn.execute(select(channel_state.c.channel_id)).scalars()) - {ALL_CHANNELS}
    moments = {r.moment_id for r in rows}
    channels = {r.channel_id for r in rows} | paused
    if calendar is not None and calendar.is_file():
        try:
            loaded = load_calendar(calendar).calendar
        except CalendarError:
            loaded = None
        if loaded is not None:
            moments |= {m.id for m in loaded.moments}
            channels |= {c.id for c in loaded.channels}
    return KnownIds(frozenset(r.id for r in rows), frozenset(moments), frozenset(channels))


def unknown_message(kind: str, value: str, known: frozenset[str], where: str) -> str | None:
    """None when `value` is known; else what is wrong and the closest known ids."""
    if value in known:
        return None
    close = difflib.get_close_matches(value, sorted(known), n=3, cutoff=0.5)
    close += [k for k in sorted(known) if value in k and k not in close][:3 - len(close)]
    if close:
        hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    elif known:
        listed = sorted(known)
        hint = f"known {kind}s: {', '.join(listed[:8])}" + (" …" if len(listed) > 8 else "")
    else:
        hint = "the store has none yet — run `python run.py schedule` first"
    return f"no {kind} `{value}` in {where} — {hint}"
