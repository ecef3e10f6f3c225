"""Bring the store in line with a plan: add, update, cancel; never touch what went out.

Idempotent (a second run with the same plan changes nothing) and bulk: one SELECT of
(id, hash, state), then executemany INSERT/UPDATE, so 10,000 posts sync in well under 5 s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import and_, bindparam, insert, select, update

from campaign.post import PlannedPost
from scheduler.store import states
from scheduler.store.rows import post_values, to_db
from scheduler.store.schema import audit, post_steps, posts
from scheduler.store.store import Store, _chunks

SYNC_ACTOR = "schedule"
REMOVED = "removed from the calendar"
#: The reason of a post cancelled because the plan could no longer place it (a blackout added after
#: `schedule`, a slot removed...): `status` lists these under what needs a person.
DISPLACED_PREFIX = "could not be planned: "


def held_reason(post: PlannedPost) -> str | None:
    """Why a post is held (its plan errors), or None when it can be published."""
    return ("not published: " + "; ".join(post.problems)) if post.problems else None


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    #: Why each cancelled post was cancelled (removed from the calendar, or why it can no longer be planned).
    cancel_reasons: dict[str, str] = field(default_factory=dict)
    #: Posts stored as held because the plan found an error in them.
    held: list[str] = field(default_factory=list)
    unchanged: int = 0
    #: Posts whose calendar entry changed after they went out (or while in flight): (id, why).
    drift: list[tuple[str, str]] = field(default_factory=list)
    #: Approved posts that changed and went back to waiting for approval.
    unapproved: list[str] = field(default_factory=list)
    #: Sent-back posts whose calendar entry changed: no longer held.
    released: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.cancelled)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.cancelled)} cancelled, "
                f"{self.unchanged} unchanged, {len(self.drift)} drifted"
                + (f", {len(self.unapproved)} need approval again" if self.unapproved else "")
                + (f", {len(self.held)} held by plan errors" if self.held else "")
                + (f", {len(self.released)} sent back and now changed" if self.released else ""))


def sync_plan(store: Store, plan: object, now: dt.datetime, *, actor: str = SYNC_ACTOR) -> SyncReport:
    """Sync `plan.posts` (a Plan, or any iterable of PlannedPost) into the store."""
    planned: Iterable[PlannedPost] = getattr(plan, "posts", plan)  # type: ignore[assignment]
    wanted = {p.id: p for p in planned}
    unplaced = {i.post_id: i.message.removeprefix(f"{i.post_id}: ")
                for i in getattr(plan, "issues", []) if i.severity == "error" and i.post_id}
    report = SyncReport()
    now_db = to_db(now)
    with store.engine.begin() as conn:
        existing = {r.id: (r.content_hash, r.state, r.needs_approval)
                    for r in conn.execute(select(posts.c.id, posts.c.content_hash, posts.c.state, posts.c.needs_approval))}
        inserts, updates, audits = [], [], []
        for post_id, post in wanted.items():
            found = existing.get(post_id)
            if post.held:
                report.held.append(post_id)
            if found is not None and found[0] == post.content_hash() and found[1] != states.CANCELLED:
                report.unchanged += 1  # the common case on every restart: no serialisation needed
                continue
            values = post_values(post)
            if found is None:
                inserts.append({**values, "id": post_id, "state": states.initial_state(post.needs_approval, post.held),
                                "state_reason": held_reason(post), "attempts": 0, "transient_failures": 0, "updated_at": now_db})
                report.added.append(post_id)
                continue
            old_hash, old_state, _ = found
            if old_hash == values["content_hash"] and old_state != states.CANCELLED:
                report.unchanged += 1
                continue
            if old_state not in states.REWRITABLE:
                if old_hash != values["content_hash"]:
                    report.drift.append((post_id, _drift_reason(old_state)))
                else:
                    report.unchanged += 1
                continue
            new_state = _state_after_change(old_state, post)
            if old_state == states.SENT_BACK:
                report.released.append(post_id)
                audits.append(dict(at=now_db, actor=actor, action="released", target=post_id,
                                   detail="the calendar entry changed after it was sent back: it waits for approval again"
                                   if new_state == states.PLANNED else "the calendar entry changed after it was sent back"))
            if old_state == states.APPROVED and new_state == states.PLANNED:
                report.unapproved.append(post_id)
                audits.append(dict(at=now_db, actor=actor, action="approval-withdrawn", target=post_id,
                                   detail="the post changed after it was approved: it needs approval again"))
            reset = old_state in (states.FAILED, states.MISSED, states.CANCELLED, states.RETRY_WAIT, states.SENT_BACK)
            updates.append({**{f"v_{k}": v for k, v in values.items()}, "b_id": post_id, "b_state": old_state,
                            "v_state": new_state, "v_updated_at": now_db, "v_state_reason": held_reason(post),
                            **({"v_next_attempt_at": None, "v_transient_failures": 0, "v_last_error": None}
                               if reset else {})})
            report.updated.append(post_id)
        to_cancel = [pid for pid, (_, state, _) in existing.items() if pid not in wanted and state in states.CANCELLABLE]
        for row in existing.items():
            pid, (_, state, _) = row
            if pid not in wanted and state in (states.PUBLISHED, states.PUBLISHING, states.UNKNOWN):
                why = DISPLACED_PREFIX + unplaced[pid] if pid in unplaced else REMOVED
                report.drift.append((pid, f"{why} but {_drift_reason(state)}"))
        reasons = {pid: DISPLACED_PREFIX + unplaced[pid] if pid in unplaced else REMOVED for pid in to_cancel}

        if inserts:
            conn.execute(insert(posts), inserts)
        changed = [u["b_id"] for u in updates]
        for chunk in _chunks(changed, 500):  # media ids and containers of the old content must not be reused;
            conn.execute(post_steps.delete().where(  # evidence that a create went out stays
                post_steps.c.post_id.in_(chunk), post_steps.c.name.not_in(("create_sent", "created", "interrupted"))))
        for group in _group_by_keys(updates):
            stmt = (update(posts).where(and_(posts.c.id == bindparam("b_id"), posts.c.state == bindparam("b_state")))
                    .values({k[2:]: bindparam(k) for k in group[0] if k.startswith("v_")}))
            conn.execute(stmt, group)
        for reason, group in _group_by_reason(reasons).items():
            for chunk in _chunks(group, 500):
                conn.execute(update(posts).where(posts.c.id.in_(chunk), posts.c.state.in_(states.CANCELLABLE)).values(
                    state=states.CANCELLED, state_reason=reason, claimed_by=None, updated_at=now_db))
        report.cancelled = to_cancel
        report.cancel_reasons = reasons
        if to_cancel:
            audits += [dict(at=now_db, actor=actor, action="cancel", target=pid, detail=reasons[pid]) for pid in to_cancel]
        if report.updated:
            audits.append(dict(at=now_db, actor=actor, action="update", target=f"{len(report.updated)} posts",
                               detail=", ".join(report.updated[:20])))
        if audits:
            conn.execute(insert(audit), audits)
    return report


def _state_after_change(old_state: str, post: PlannedPost) -> str:
    """A changed post must be (re-)approved where its channel needs approval; else it is due (held if it has plan errors)."""
    return states.initial_state(post.needs_approval, post.held)


def _group_by_reason(reasons: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for pid, reason in reasons.items():
        groups.setdefault(reason, []).append(pid)
    return groups


def _drift_reason(state: str) -> str:
    return {states.PUBLISHED: "it was already published: the change was not applied",
            states.PUBLISHING: "it is being published right now: the change was not applied",
            states.UNKNOWN: "it may already have gone out (unknown, check): the change was not applied"}.get(
        state, f"it is {state}")


def _group_by_keys(rows: list[dict]) -> list[list[dict]]:
    groups: dict[frozenset[str], list[dict]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    return list(groups.values())
