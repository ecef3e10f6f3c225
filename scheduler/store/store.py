"""The durable record of every post: claiming, outcomes, pauses, approvals, audit, heartbeat.

Every method is one short transaction. A claim is one atomic step: `SELECT ... FOR UPDATE
SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite, then an UPDATE conditional on the
state, so two daemons on one store never own the same post.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import uuid
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import Connection, and_, func, insert, inspect, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from scheduler.store import states
from scheduler.store.engine import make_engine, one_creator, reads_only, resolve_url
from scheduler.store.problems import masked_url
from scheduler.store.rows import Claim, StoredPost, from_db, to_db
from scheduler.store.schema import (
    LATER_COLUMNS, LATER_INDEXES, assets, attempts, audit, channel_state, heartbeat, metadata, post_steps, posts,
)

ALL_CHANNELS = "*"
  # the channel_state row that pauses everything


def new_worker_id() -> str:
    """host:pid:random — the host and pid let a restarted daemon see that a lease holder died."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def worker_is_dead(worker: str) -> bool:
    """True only when the worker ran on this host and its process no longer exists."""
    try:
        host, pid_text, _ = worker.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class Store:
    """The database behind the scheduler (SQLite file by default, any SQLAlchemy URL)."""

    def __init__(self, url: str | None = None, *, schema: str | None = None, create: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine: Engine = make_engine(self.url, schema=schema)
        self.reads: Engine = reads_only(self.engine)  # for reads that write nothing (engine.reads_only)
        if create:
            with one_creator(self.engine):
                metadata.create_all(self.engine)
                _add_later_columns(self.engine)
                _add_later_indexes(self.engine)

    @property
    def shown_url(self) -> str:
        """The URL as printed and logged: its password masked."""
        return masked_url(self.url)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()

    # -- reading ---------------------------------------------------------------------------

    def get(self, post_id: str) -> StoredPost | None:
        with self.reads.begin() as conn:
            row = conn.execute(select(posts).where(posts.c.id == post_id)).mappings().first()
        return StoredPost.from_row(row) if row else None

    def posts_by_id(self, post_ids: Iterable[str]) -> list[StoredPost]:
        """The stored posts among `post_ids` (unknown ids are left out), in time order."""
        wanted = list(post_ids)
        found: list[StoredPost] = []
        with self.reads.begin() as conn:
            for chunk in _chunks(wanted, 500):
                found += [StoredPost.from_row(r) for r in conn.execute(select(posts).where(posts.c.id.in_(chunk))).mappings()]
        return sorted(found, key=lambda p: (p.scheduled_at, p.id))

    def all_posts(self, *, state: str | None = None) -> list[StoredPost]:
        query = select(posts).order_by(posts.c.scheduled_at, posts.c.id)
        if state:
            query = query.where(posts.c.state == state)
        with self.reads.begin() as conn:
            return [StoredPost.from_row(r) for r in conn.execute(query).mappings()]

    def counts(self) -> dict[tuple[str, str], int]:
        """Posts per (channel, state)."""
        query = select(posts.c.channel_id, posts.c.state, func.count()).group_by(posts.c.channel_id, posts.c.state)
        with self.reads.begin() as conn:
            return {(c, s): n for c, s, n in conn.execute(query)}

    def audit_rows(self, target: str | None = None) -> list[dict[str, Any]]:
        query = select(audit).order_by(audit.c.id)
        if target:
            query = query.where(audit.c.target == target)
        with self.reads.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def attempt_rows(self, post_id: str | None = None) -> list[dict[str, Any]]:
        query = select(attempts).order_by(attempts.c.id)
        if post_id:
            query = query.where(attempts.c.post_id == post_id)
        with self.reads.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def next_due_at(self, skip_channels: Iterable[str] = ()) -> dt.datetime | None:
        """When the earliest post a dispatcher could claim becomes due: its time, its retry time
        or its channel's rate-limit end, whichever is last; paused (and skipped) channels wait
        for a person, so they do not count."""
        due = func.coalesce(posts.c.next_attempt_at, posts.c.scheduled_at)
        latest = func.max(posts.c.scheduled_at, due) if not self.is_postgres else func.greatest(posts.c.scheduled_at, due)
        query = (select(posts.c.channel_id, func.min(latest)).where(posts.c.state.in_(states.CLAIMABLE))
                 .group_by(posts.c.channel_id))
        with self.reads.begin() as conn:
            per_channel = {channel: from_db(value) for channel, value in conn.execute(query)}
            rows = conn.execute(select(channel_state)).mappings().all()
        paused = {r["channel_id"] for r in rows if r["paused"]} | set(skip_channels)
        if ALL_CHANNELS in paused:
            return None
        limited = {r["channel_id"]: from_db(r["rate_limited_until"]) for r in rows if r["rate_limited_until"]}
        candidates = [max(value, limited.get(channel) or value) for channel, value in per_channel.items()
                      if channel not in paused and value is not None]
        return min(candidates, default=None)

    def channels_publishing(self, now: dt.datetime) -> set[str]:
        """Channels with a publish in flight (a live claim): their tokens are not renewed now."""
        query = select(posts.c.channel_id).distinct().where(posts.c.state == states.PUBLISHING,
                                                            posts.c.claimed_until > to_db(now))
        with self.engine.begin() as conn:
            return set(conn.execute(query).scalars())

    # -- claiming and outcomes -------------------------------------------------------------

    def _blocked_channels(self, conn: Connection, now_db: dt.datetime) -> set[str]:
        rows = conn.execute(select(channel_state).where(
            or_(channel_state.c.paused.is_(True), channel_state.c.rate_limited_until > now_db))).mappings()
        return {r["channel_id"] for r in rows}

    def claim_next(self, worker: str, now: dt.datetime, *, lease_seconds: float,
                   skip_channels: Iterable[str] = (), channel: str | None = None) -> Claim | None:
        """Claim the earliest due post (its time and retry time reached, channel not paused,
        rate-limited or skipped; only `channel`'s when given) and commit the intent: state
        publishing, lease, attempt row."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            blocked = self._blocked_channels(conn, now_db) | set(skip_channels)
            if ALL_CHANNELS in blocked:
                return None
            query = (select(posts.c.id).where(
                posts.c.state.in_(states.CLAIMABLE), posts.c.scheduled_at <= now_db,
                or_(posts.c.next_attempt_at.is_(None), posts.c.next_attempt_at <= now_db))
                .order_by(posts.c.scheduled_at, posts.c.id).limit(1)
                .with_for_update(skip_locked=True))
            if blocked:
                query = query.where(posts.c.channel_id.not_in(sorted(blocked)))
            if channel is not None:
                query = query.where(posts.c.channel_id == channel)
            post_id = conn.execute(query).scalar()
            if post_id is None:
                return None
            until = to_db(now + dt.timedelta(seconds=lease_seconds))
            result = conn.execute(update(posts).where(
                posts.c.id == post_id, posts.c.state.in_(states.CLAIMABLE)).values(
                state=states.PUBLISHING, claimed_by=worker, claimed_until=until,
                attempts=posts.c.attempts + 1, updated_at=now_db))
            if result.rowcount != 1:
                return None  # another daemon got there first
            attempt_id = conn.execute(insert(attempts).values(
                post_id=post_id, worker=worker, started_at=now_db).returning(attempts.c.id)).scalar_one()
            row = conn.execute(select(posts).where(posts.c.id == post_id)).mappings().one()
        return Claim(StoredPost.from_row(row), attempt_id, worker)

    def record_published(self, claim: Claim, now: dt.datetime, remote_id: str, remote_url: str | None,
                         *, outcome: str = "published", message: str | None = None,
                         before_commit: Callable[[], None] | None = None) -> bool:
        """Commit the remote id right after the platform answered; False if the lease was lost."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            done = conn.execute(update(posts).where(
                posts.c.id == claim.post.id, posts.c.claimed_by == claim.worker,
                posts.c.state == states.PUBLISHING).values(
                state=states.PUBLISHED, remote_id=remote_id, remote_url=remote_url, published_at=now_db,
                claimed_by=None, claimed_until=None, next_attempt_at=None, last_error=None,
                state_reason=message, updated_at=now_db)).rowcount == 1
            self._finish_attempt(conn, claim.attempt_id, now_db, outcome, None, message, remote_id)
            if not done:  # the claim was lost, but the post is out: keep its id for whoever holds it now
                self._put_step(conn, claim.post.id, "created", remote_id, now_db)
            if before_commit is not None:
                before_commit()  # the crash tests die here: written, not committed
        return done

    # -- the ledger of steps ---------------------------------------------------------------------

    def steps(self, post_id: str) -> dict[str, str]:
        """What earlier attempts already did on the platform for this post (name -> value)."""
        with self.engine.begin() as conn:
            return {r.name: r.value for r in conn.execute(
                select(post_steps.c.name, post_steps.c.value).where(post_steps.c.post_id == post_id))}

    def save_step(self, claim: Claim, name: str, value: str | None, now: dt.datetime) -> bool:
        """Record (or, with None, withdraw) one step, only while `claim` still owns the post;
        False when it does not (the lease was taken over)."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            owned = conn.execute(select(posts.c.id).where(
                posts.c.id == claim.post.id, posts.c.claimed_by == claim.worker,
                posts.c.state == states.PUBLISHING)).first() is not None
            if not owned:
                return False
            if value is None:
                conn.execute(post_steps.delete().where(post_steps.c.post_id == claim.post.id, post_steps.c.name == name))
            else:
                self._put_step(conn, claim.post.id, name, value, now_db)
        return True

    @staticmethod
    def _put_step(conn: Connection, post_id: str, name: str, value: str, now_db: dt.datetime) -> None:
        if conn.execute(update(post_steps).where(post_steps.c.post_id == post_id, post_steps.c.name == name).values(
                value=value, at=now_db)).rowcount == 0:
            conn.execute(insert(post_steps).values(post_id=post_id, name=name, value=value, at=now_db))

    @staticmethod
    def _clear_steps(conn: Connection, post_ids: list[str]) -> None:
        for chunk in _chunks(post_ids, 500):
            conn.execute(post_steps.delete().where(post_steps.c.post_id.in_(chunk)))

    def renew(self, claim: Claim, now: dt.datetime, *, lease_seconds: float) -> bool:
        """Extend the lease of a publish still alive; False when the claim is no longer ours."""
        with self.engine.begin() as conn:
            return conn.execute(update(posts).where(
                posts.c.id == claim.post.id, posts.c.claimed_by == claim.worker,
                posts.c.state == states.PUBLISHING).values(
                claimed_until=to_db(now + dt.timedelta(seconds=lease_seconds)))).rowcount == 1

    def record_outcome(self, claim: Claim, now: dt.datetime, *, state: str, outcome: str,
                       error_class: str | None, message: str, next_attempt_at: dt.datetime | None = None,
                       transient: bool = False, reason: str | None = None) -> bool:
        """A publish that did not end in `published`: the post's new state and why."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            values: dict[str, Any] = dict(
                state=state, last_error=message, state_reason=reason or message, claimed_by=None,
                claimed_until=None, next_attempt_at=to_db(next_attempt_at), updated_at=now_db)
            if transient:
                values["transient_failures"] = posts.c.transient_failures + 1
            done = conn.execute(update(posts).where(
                posts.c.id == claim.post.id, posts.c.claimed_by == claim.worker,
                posts.c.state == states.PUBLISHING).values(**values)).rowcount == 1
            self._finish_attempt(conn, claim.attempt_id, now_db, outcome, error_class, message, None)
        return done

    @staticmethod
    def _finish_attempt(conn: Connection, attempt_id: int, now_db: dt.datetime, outcome: str,
                        error_class: str | None, message: str | None, remote_id: str | None) -> None:
        conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(
            finished_at=now_db, outcome=outcome, error_class=error_class, message=message, remote_id=remote_id))

    def expired_claims(self, now: dt.datetime, *, own_worker: str | None = None) -> list[StoredPost]:
        """Posts left in `publishing` by a daemon that died: lease expired or process gone."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(posts).where(posts.c.state == states.PUBLISHING)).mappings().all()
        found = []
        for row in rows:
            post = StoredPost.from_row(row)
            if post.claimed_by == own_worker:
                continue
            if post.claimed_until is None or post.claimed_until <= now or worker_is_dead(post.claimed_by or ""):
                found.append(post)
        return found

    def take_over(self, post: StoredPost, worker: str, now: dt.datetime, *, lease_seconds: float) -> Claim | None:
        """Take over a dead daemon's claim to reconcile it; None if someone else already did."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            changed = conn.execute(update(posts).where(
                posts.c.id == post.id, posts.c.state == states.PUBLISHING,
                posts.c.claimed_by == post.claimed_by).values(
                claimed_by=worker, claimed_until=to_db(now + dt.timedelta(seconds=lease_seconds)),
                updated_at=now_db)).rowcount
            if changed != 1:
                return None
            attempt_id = conn.execute(insert(attempts).values(
                post_id=post.id, worker=worker, started_at=now_db, outcome=None,
                message=f"reconciling after {post.claimed_by} stopped mid-publish").returning(attempts.c.id)).scalar_one()
            # Count claims that ended without an outcome (a post that crashes the daemon is held after a few).
            crashes = conn.execute(select(post_steps.c.value).where(
                post_steps.c.post_id == post.id, post_steps.c.name == "interrupted")).scalar()
            self._put_step(conn, post.id, "interrupted", str(int(crashes or 0) + 1), now_db)
            # The dead daemon's attempt never finished: say so.
            conn.execute(update(attempts).where(
                attempts.c.post_id == post.id, attempts.c.finished_at.is_(None), attempts.c.id != attempt_id).values(
                finished_at=now_db, outcome="interrupted", message="the daemon stopped during this attempt"))
            row = conn.execute(select(posts).where(posts.c.id == post.id)).mappings().one()
        return Claim(StoredPost.from_row(row), attempt_id, worker)

    def mark_missed(self, now: dt.datetime) -> list[StoredPost]:
        """Due posts whose grace window ended before they could go out (daemon down, blackout, pause)."""
        now_db = to_db(now)
        missed: list[StoredPost] = []
        with self.engine.begin() as conn:
            sent = select(post_steps.c.post_id).where(post_steps.c.name == "create_sent")
            rows = conn.execute(select(posts).where(  # a post whose create went out may exist: the dispatcher decides
                posts.c.state.in_(states.MISSABLE + (states.PLANNED,)), posts.c.scheduled_at <= now_db,
                posts.c.id.not_in(sent))).mappings().all()
            for row in rows:
                post = StoredPost.from_row(row)
                if post.grace_ends >= now:
                    continue
                late = now - post.scheduled_at
                reason = (f"missed: due {post.scheduled_at:%Y-%m-%d %H:%M} UTC, the channel's grace of "
                          f"{_human(dt.timedelta(seconds=post.grace_seconds))} ended {_human(late - dt.timedelta(seconds=post.grace_seconds))} ago"
                          + (" (never approved)" if post.state == states.PLANNED else "")
                          + (f"; last error: {post.last_error}" if post.last_error else ""))
                if conn.execute(update(posts).where(posts.c.id == post.id, posts.c.state == post.state).values(
                        state=states.MISSED, state_reason=reason, updated_at=now_db)).rowcount == 1:
                    missed.append(post)
        return missed

    # -- channels ----------------------------------------------------------------------------

    def _upsert_channel(self, conn: Connection, channel_id: str, **values: Any) -> None:
        if conn.execute(update(channel_state).where(channel_state.c.channel_id == channel_id).values(**values)).rowcount == 0:
            conn.execute(insert(channel_state).values(channel_id=channel_id, **{"paused": False, **values}))

    def pause(self, channel_id: str | None, reason: str, by: str, now: dt.datetime) -> None:
        target = channel_id or ALL_CHANNELS
        with self.engine.begin() as conn:
            self._upsert_channel(conn, target, paused=True, reason=reason, paused_by=by, paused_at=to_db(now))
            self._audit(conn, now, by, "pause", target, reason)

    def resume(self, channel_id: str | None, by: str, now: dt.datetime) -> list[str]:
        """Resume one channel, or (no channel) everything that is paused; returns what was resumed."""
        with self.engine.begin() as conn:
            query = select(channel_state.c.channel_id).where(channel_state.c.paused.is_(True))
            if channel_id:
                query = query.where(channel_state.c.channel_id == channel_id)
            resumed = list(conn.execute(query).scalars())
            for target in resumed:
                self._upsert_channel(conn, target, paused=False, reason=None, paused_by=None, paused_at=None)
                self._audit(conn, now, by, "resume", target, None)
        return resumed

    def rate_limit(self, channel_id: str, until: dt.datetime) -> None:
        with self.engine.begin() as conn:
            self._upsert_channel(conn, channel_id, rate_limited_until=to_db(until))

    def channel_states(self) -> dict[str, dict[str, Any]]:
        with self.engine.begin() as conn:
            return {r["channel_id"]: {**dict(r), "paused_at": from_db(r["paused_at"]),
                                      "rate_limited_until": from_db(r["rate_limited_until"])}
                    for r in conn.execute(select(channel_state)).mappings()}

    # -- approval, audit, assets, heartbeat ----------------------------------------------------

    def approve(self, *, by: str, now: dt.datetime, post_id: str | None = None, moment_id: str | None = None,
                channel_id: str | None = None, post_ids: Iterable[str] | None = None) -> list[str]:
        """Approve waiting posts of a post, a list of posts, a moment or a channel; one audit row per post approved."""
        conditions = [posts.c.state == states.PLANNED]
        if post_id:
            conditions.append(posts.c.id == post_id)
        if post_ids is not None:
            conditions.append(posts.c.id.in_(list(post_ids)))
        if moment_id:
            conditions.append(posts.c.moment_id == moment_id)
        if channel_id:
            conditions.append(posts.c.channel_id == channel_id)
        now_db = to_db(now)
        with self.engine.begin() as conn:
            ids = list(conn.execute(select(posts.c.id).where(and_(*conditions)).order_by(posts.c.id)).scalars())
            if ids:
                for chunk in _chunks(ids, 500):
                    conn.execute(update(posts).where(posts.c.id.in_(chunk), posts.c.state == states.PLANNED).values(
                        state=states.APPROVED, approved_by=by, approved_at=now_db, updated_at=now_db))
                conn.execute(insert(audit), [dict(at=now_db, actor=by, action="approve", target=i, detail=None) for i in ids])
        return ids

    def send_back(self, post_id: str, *, comment: str, by: str, now: dt.datetime) -> bool:
        """A reviewer said no: the post is held (sent_back, the comment as its reason) until its
        calendar entry or its rendered asset changes. False if it is not waiting to go out."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            done = conn.execute(update(posts).where(posts.c.id == post_id, posts.c.state.in_(states.SENDABLE_BACK)).values(
                state=states.SENT_BACK, state_reason=comment, approved_by=None, approved_at=None,
                updated_at=now_db)).rowcount == 1
            if done:
                self._audit(conn, now, by, "send-back", post_id, comment)
        return done

    def resolve(self, post_id: str, *, published: bool, by: str, now: dt.datetime, remote_url: str | None = None) -> bool:
        """A human checked an "unknown" post: it went out (published) or did not (due again)."""
        now_db = to_db(now)
        with self.engine.begin() as conn:
            row = conn.execute(select(posts).where(posts.c.id == post_id, posts.c.state == states.UNKNOWN)).mappings().first()
            if row is None:
                return False
            if published:
                values = dict(state=states.PUBLISHED, remote_url=remote_url, published_at=now_db,
                              state_reason=f"confirmed published by {by}")
            else:
                values = dict(state=states.APPROVED if row["needs_approval"] else states.DUE,
                              state_reason=f"confirmed not published by {by}; will go out again", next_attempt_at=None)
            conn.execute(update(posts).where(posts.c.id == post_id).values(updated_at=now_db, **values))
            if not published:  # a person looked: the next attempt starts afresh
                self._clear_steps(conn, [post_id])
            self._audit(conn, now, by, "resolve", post_id, "published" if published else "not published")
        return True

    def add_audit(self, now: dt.datetime, actor: str, action: str, target: str, detail: str | None = None) -> None:
        with self.engine.begin() as conn:
            self._audit(conn, now, actor, action, target, detail)

    @staticmethod
    def _audit(conn: Connection, now: dt.datetime, actor: str, action: str, target: str, detail: str | None) -> None:
        conn.execute(insert(audit).values(at=to_db(now), actor=actor, action=action, target=target, detail=detail))

    def record_assets(self, entries: Iterable[Mapping[str, Any] | object], now: dt.datetime | None = None) -> int:
        """Record rendered files (from the asset manifest); the same path is updated, not duplicated."""
        stamp = to_db(now or dt.datetime.now(dt.timezone.utc))
        records = [_asset_record(entry, stamp) for entry in entries]
        with self.engine.begin() as conn:
            changed = set()
            for record in records:
                before = conn.execute(select(assets.c.content_hash).where(assets.c.path == record["path"])).first()
                if before is None:
                    conn.execute(insert(assets).values(**record))
                else:
                    conn.execute(update(assets).where(assets.c.path == record["path"]).values(**record))
                if before is None or record["content_hash"] is None or before[0] != record["content_hash"]:
                    changed.add(record["path"])  # rendered anew (the inbox job reports no hash: it rendered it)
            if changed:
                self._release_sent_back(conn, changed, stamp)
        return len(records)

    def _release_sent_back(self, conn: Connection, changed_paths: set[str], now_db: dt.datetime) -> None:
        """Sent-back posts whose asset was (re-)rendered differently wait for approval again."""
        for row in conn.execute(select(posts).where(posts.c.state == states.SENT_BACK)).mappings().all():
            post = StoredPost.from_row(row)
            if post.media is None or post.media.path not in changed_paths:
                continue
            conn.execute(update(posts).where(posts.c.id == post.id, posts.c.state == states.SENT_BACK).values(
                state=states.initial_state(post.needs_approval), state_reason=None, updated_at=now_db))
            conn.execute(insert(audit).values(at=now_db, actor="render", action="released", target=post.id,
                                              detail=f"its asset {post.media.path} was rendered again after it was sent back"))

    def asset_rows(self) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            return [dict(r) for r in conn.execute(select(assets).order_by(assets.c.path)).mappings()]

    def beat(self, worker: str, now: dt.datetime, detail: Mapping[str, Any] | None = None) -> None:
        host, pid = socket.gethostname(), os.getpid()
        values = dict(host=host, pid=pid, at=to_db(now), detail=json.dumps(detail or {}, default=str))
        with self.engine.begin() as conn:
            if conn.execute(update(heartbeat).where(heartbeat.c.worker == worker).values(**values)).rowcount == 0:
                conn.execute(insert(heartbeat).values(worker=worker, **values))

    def heartbeats(self) -> list[dict[str, Any]]:
        with self.reads.begin() as conn:
            return [{**dict(r), "at": from_db(r["at"])} for r in conn.execute(select(heartbeat).order_by(heartbeat.c.at.desc())).mappings()]


def _asset_record(entry: Mapping[str, Any] | object, stamp: dt.datetime) -> dict[str, Any]:
    def get(*names: str) -> Any:
        for name in names:
            value = entry.get(name) if isinstance(entry, Mapping) else getattr(entry, name, None)
            if value is not None:
                return value
        return None

    path = get("path", "output")
    if not path:
        raise ValueError(f"an asset record needs a path: {entry!r}")
    rendered = get("rendered_at")
    if isinstance(rendered, str):
        rendered = dt.datetime.fromisoformat(rendered)
    if isinstance(rendered, dt.datetime):
        rendered = to_db(rendered if rendered.tzinfo else rendered.replace(tzinfo=dt.timezone.utc))
    return dict(path=str(path), testimonial_id=get("testimonial_id", "testimonial"), variant=get("variant"),
                language=get("language", "lang"), content_hash=get("content_hash", "hash", "sha256"),
                rendered_at=rendered or stamp)


def _add_later_columns(engine: Engine) -> None:
    """Columns added to the schema after stores were made (`LATER_COLUMNS`), added where missing
    (`ALTER TABLE ... ADD COLUMN`, nullable: SQLite and PostgreSQL add it in place, old rows NULL).
    Another process adding it at the same moment is fine; a store that cannot be altered raises."""
    inspector = inspect(engine)
    found: dict[str, set[str]] = {}
    for column in LATER_COLUMNS:
        table = column.table
        if table.name not in found:
            found[table.name] = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
        if column.name in found[table.name]:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        name = engine.dialect.identifier_preparer.format_table(table)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE {name} ADD COLUMN {column.name} {kind}")
        except SQLAlchemyError:
            if column.name not in {c["name"] for c in inspect(engine).get_columns(table.name, schema=table.schema)}:
                raise  # a read-only file, a user without ALTER: the commands' store_errors says so in one line


def _add_later_indexes(engine: Engine) -> None:
    """Indexes added to the schema after stores were made (`LATER_INDEXES`), made where missing; a
    read-only store, or another process making it at the same moment, is left as it is."""
    for index in LATER_INDEXES:
        table = index.table
        if table is None or index.name in {found["name"] for found in inspect(engine).get_indexes(table.name)}:
            continue
        try:
            index.create(engine)
        except SQLAlchemyError:
            pass  # made meanwhile by another process, or the store cannot be written: queries work without it


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _human(delta: dt.timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m" if seconds % 3600 else f"{seconds // 3600}h"
    if seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"
