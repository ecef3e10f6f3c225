"""What a person does to the store: approve, send back, comment, pause, resume, resolve.

One function per action, shared by the CLI (`python run.py approve ...`) and the console, so
no rule (what may be approved, who may approve which channel, that a pause needs a reason)
lives twice. Each returns a sentence a manager can read, or raises ActionError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from scheduler.store import Store, states
from scheduler.store.known import known_ids, unknown_message


#: The longest comment and reason a person may give (anywhere: CLI, console, API). Every page
#: and live poll shows them, so a 900 KB comment would make each of those 900 KB.
MAX_COMMENT = 4_000
MAX_REASON = 500
MAX_URL = 2_000


class ActionError(ValueError):
    """The action cannot be done as asked; the message says what to do instead."""


class NotAllowed(ActionError):
    """The person may not do this (role or channel scope)."""


@dataclass(frozen=True)
class Outcome:
    message: str
    post_ids: tuple[str, ...] = ()


def bounded(text: str | None, limit: int, what: str) -> str:
    """`text` stripped, or ActionError if it is longer than `limit` characters."""
    text = (text or "").strip()
    if len(text) > limit:
        raise ActionError(f"{what} has {len(text):,} characters; at most {limit:,} characters, please")
    return text


def _refuse_unknown(store: Store, kind: str, value: str | None, calendar: Path | None = None) -> None:
    """A mistyped id is refused with the closest known ones, never taken as "0 posts approved"
    or a pause of nothing; `calendar` adds its channels and moments (known before scheduling)."""
    if not value:
        return
    known = known_ids(store, calendar)
    ids = {"post": known.posts, "moment": known.moments, "channel": known.channels}[kind]
    where = f"the store {store.shown_url}" + (f" or {calendar}" if calendar is not None and calendar.is_file() else "")
    message = unknown_message(kind, value, ids, where)
    if message:
        raise ActionError(message)


def _scope_check(store: Store, post_id: str, channels: Collection[str] | None) -> None:
    if channels is None:
        return
    post = store.get(post_id)
    if post is not None and post.channel_id not in channels:
        raise NotAllowed(f"{post_id} is on channel {post.channel_id}, which you do not approve for")


def approve(store: Store, *, by: str, now: dt.datetime, post: str | None = None, moment: str | None = None,
            channel: str | None = None, channels: Collection[str] | None = None,
            calendar: Path | None = None) -> Outcome:
    """Approve the waiting posts of exactly one post, moment or channel.

    `channels`: the approver's scope (None: every channel); posts outside it are left waiting.
    """
    if sum(x is not None and x != "" for x in (post, moment, channel)) != 1:
        raise ActionError("give exactly one of --post ID, --moment ID or --channel ID")
    for kind, value in (("post", post), ("moment", moment), ("channel", channel)):
        _refuse_unknown(store, kind, value, calendar)
    if channels is not None and channel is not None and channel not in channels:
        raise NotAllowed(f"you do not approve for channel {channel}")
    if post:
        _scope_check(store, post, channels)
    if channels is None or post or channel:
        ids = store.approve(by=by, now=now, post_id=post or None, moment_id=moment or None, channel_id=channel or None)
    else:  # a moment, within the approver's channels only
        ids = [i for c in sorted(channels) for i in store.approve(by=by, now=now, moment_id=moment, channel_id=c)]
    if not ids:
        return Outcome("approved 0 posts — nothing waits for approval there (`python run.py status` lists what does)")
    return Outcome(f"approved {len(ids)} post{'s' if len(ids) != 1 else ''}: " + ", ".join(ids[:10])
                   + (f" and {len(ids) - 10} more" if len(ids) > 10 else ""), tuple(ids))


def _refuse_unknown_posts(store: Store, post_ids: Collection[str]) -> None:
    """Every id of a selection must exist (the ids are read once, whatever the selection's size)."""
    found = {p.id for p in store.posts_by_id(post_ids)}
    for post_id in post_ids:
        if post_id not in found:
            _refuse_unknown(store, "post", post_id)


def _scope_check_all(store: Store, post_ids: Collection[str], channels: Collection[str] | None) -> None:
    """Refuse the whole selection when any of it is outside the person's channels (nothing half done)."""
    if channels is None:
        return
    outside = sorted(p.id for p in store.posts_by_id(post_ids) if p.channel_id not in channels)
    if outside:
        raise NotAllowed(f"{len(outside)} of the selected posts are on channels you do not approve for: "
                         + ", ".join(outside[:5]) + (" ..." if len(outside) > 5 else ""))


def _listed(verb: str, ids: Collection[str]) -> str:
    ids = list(ids)
    if not ids:
        return f"{verb} 0 posts"
    return (f"{verb} {len(ids)} post{'s' if len(ids) != 1 else ''}: " + ", ".join(ids[:10])
            + (f" and {len(ids) - 10} more" if len(ids) > 10 else ""))


def approve_posts(store: Store, *, post_ids: Collection[str], by: str, now: dt.datetime,
                  channels: Collection[str] | None = None) -> Outcome:
    """Approve a selection of posts in one step (the console's checkboxes, "this week"): all of
    it is checked first (known ids, the person's channels); those not waiting are left as they are."""
    wanted = sorted(set(post_ids))
    if not wanted:
        raise ActionError("select at least one post to approve")
    _refuse_unknown_posts(store, wanted)
    _scope_check_all(store, wanted, channels)
    ids = store.approve(by=by, now=now, post_ids=wanted)
    skipped = len(wanted) - len(ids)
    return Outcome(_listed("approved", ids) + (f" ({skipped} selected were not waiting for approval)" if skipped else ""),
                   tuple(ids))


def send_back_posts(store: Store, *, post_ids: Collection[str], comment: str, by: str, now: dt.datetime,
                    channels: Collection[str] | None = None) -> Outcome:
    """Send a selection back with one comment (each post holds it in its thread and the audit trail)."""
    comment = bounded(comment, MAX_COMMENT, "the comment")
    if not comment:
        raise ActionError("say why you send them back (the comment is what the editor sees)")
    wanted = sorted(set(post_ids))
    if not wanted:
        raise ActionError("select at least one post to send back")
    _refuse_unknown_posts(store, wanted)
    _scope_check_all(store, wanted, channels)
    held = [p for p in wanted if store.send_back(p, comment=comment, by=by, now=now)]
    skipped = len(wanted) - len(held)
    return Outcome(_listed("sent back", held) + f" ({comment})"
                   + (f"; {skipped} selected had gone out or were not waiting" if skipped else ""), tuple(held))


def comment(store: Store, *, post: str, text: str, by: str, now: dt.datetime,
            channels: Collection[str] | None = None) -> Outcome:
    """Add to a post's thread of comments (kept in the audit trail); it changes nothing else."""
    text = bounded(text, MAX_COMMENT, "the comment")
    if not text:
        raise ActionError("the comment is empty")
    _refuse_unknown(store, "post", post)
    _scope_check(store, post, channels)
    store.add_audit(now, by, "comment", post, text)
    return Outcome(f"{post}: comment added", (post,))


def send_back(store: Store, *, post: str, comment: str, by: str, now: dt.datetime,
              channels: Collection[str] | None = None) -> Outcome:
    """Hold a post that has not gone out, with a comment for whoever edits the calendar or assets."""
    comment = bounded(comment, MAX_COMMENT, "the comment")
    if not comment:
        raise ActionError("say why you send it back (the comment is what the editor sees)")
    _refuse_unknown(store, "post", post)
    _scope_check(store, post, channels)
    if not store.send_back(post, comment=comment, by=by, now=now):
        found = store.get(post)
        raise ActionError(f"{post} is {found.state if found else 'gone'}: only posts waiting to go out "
                          f"({', '.join(states.SENDABLE_BACK)}) can be sent back")
    return Outcome(f"{post}: sent back ({comment}); it is held until its calendar entry or asset changes", (post,))


def pause(store: Store, *, channel: str | None, reason: str, by: str, now: dt.datetime,
          calendar: Path | None = None) -> Outcome:
    """Stop posting at once on one channel, or on all (channel None)."""
    reason = bounded(reason, MAX_REASON, "the reason")
    if not reason:
        raise ActionError("the reason is empty — say why posting stops (it is shown in status and the audit trail)")
    _refuse_unknown(store, "channel", channel, calendar)
    store.pause(channel or None, reason, by, now)
    return Outcome(f"paused {channel or 'all channels'}: {reason}")


def resume(store: Store, *, channel: str | None, by: str, now: dt.datetime, calendar: Path | None = None) -> Outcome:
    _refuse_unknown(store, "channel", channel, calendar)
    resumed = store.resume(channel or None, by, now)
    if not resumed:
        return Outcome("nothing was paused")
    return Outcome(f"resumed {', '.join('all channels' if c == '*' else c for c in resumed)}")


def resolve(store: Store, *, post: str, published: bool, by: str, now: dt.datetime, url: str | None = None) -> Outcome:
    """Settle an "unknown, check" post after a person looked at the platform."""
    url = bounded(url, MAX_URL, "the post's URL") or None
    if url and not url.lower().startswith(("https://", "http://")):
        raise ActionError(f"the post's URL must start with https:// (got {url[:60]!r})")
    _refuse_unknown(store, "post", post)
    if not store.resolve(post, published=published, by=by, now=now, remote_url=url or None):
        raise ActionError(f"{post} is not an 'unknown, check' post")
    return Outcome(f"{post}: recorded as {'published' if published else 'not published (it will go out again)'}", (post,))
