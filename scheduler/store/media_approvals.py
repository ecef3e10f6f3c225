"""Media approval (`media_approval: true` on a channel): a designer's or admin's yes to one source file.

An approval names the testimonial, the kind (photo or clip) and the SHA-256 of the raw file
that was approved, so a new file (another hash) is not approved, whatever its name. The
daemon asks `hold_reason` before it publishes a post of such a channel; a post it holds
waits in `held` with that reason, and approving the media releases it (to `approved` if a
person had approved the post, else to where a new post starts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, and_, delete, insert, select, update
from sqlalchemy.engine import Engine

from assets.manifest import Manifest

from scheduler.store import states
from scheduler.store.engine import create_tables
from scheduler.store.rows import StoredPost, from_db, to_db
from scheduler.store.schema import audit, posts

#: The start of every state_reason the daemon writes when it holds a post for its media.
HOLD_PREFIX = "media not approved"

metadata = MetaData()

approvals = Table(
    "media_approvals",
    metadata,
    Column("testimonial_id", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),  # photo | clip
    Column("sha256", String(64), nullable=False),  # of the raw file approved
    Column("size", BigInteger),  # and its size and modification time, so a page can tell cheaply that it is still there
    Column("mtime_ns", BigInteger),
    Column("approved_by", String(64), nullable=False),
    Column("approved_at", DateTime, nullable=False),
)


@dataclass(frozen=True)
class MediaApproval:
    testimonial_id: str
    kind: str
    sha256: str
    approved_by: str
    approved_at: dt.datetime
    size: int | None = None
    mtime_ns: int | None = None

    def is_file(self, path: Path) -> bool:
        """The file at `path` is still the one approved (same size and modification time: no hashing)."""
        try:
            stat = path.stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns)


class MediaApprovals:
    """The approvals table on the store's engine (created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(engine, metadata)

    def get(self, testimonial_id: str, kind: str) -> MediaApproval | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(approvals).where(approvals.c.testimonial_id == testimonial_id,
                                                       approvals.c.kind == kind)).mappings().first()
        if row is None:
            return None
        return _approval(row)

    def all(self) -> dict[tuple[str, str], MediaApproval]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(approvals)).mappings().all()
        return {(r["testimonial_id"], r["kind"]): _approval(r) for r in rows}

    def approve(self, testimonial_id: str, kind: str, sha256: str, *, by: str, now: dt.datetime,
                file: Path | None = None) -> list[str]:
        """Record the approval of the file with this hash (at `file`, whose size and time are kept too),
        audited, and release the posts held for it; the ids released."""
        stat = file.stat() if file is not None else None
        now_db = to_db(now)
        with self.engine.begin() as conn:
            conn.execute(delete(approvals).where(approvals.c.testimonial_id == testimonial_id, approvals.c.kind == kind))
            conn.execute(insert(approvals).values(testimonial_id=testimonial_id, kind=kind, sha256=sha256,
                                                  approved_by=by, approved_at=now_db, size=stat.st_size if stat else None,
                                                  mtime_ns=stat.st_mtime_ns if stat else None))
            conn.execute(insert(audit).values(at=now_db, actor=by, action="media-approve", target=f"{testimonial_id}/{kind}",
                                              detail=f"sha256 {sha256[:12]}"))
            released = []
            for row in conn.execute(select(posts).where(posts.c.state == states.HELD,
                                                        posts.c.state_reason.like(f"{HOLD_PREFIX}%"))).mappings().all():
                post = StoredPost.from_row(row)
                if post.media is None or (post.media.testimonial_id, post.media.kind) != (testimonial_id, kind):
                    continue
                state = states.APPROVED if row["approved_by"] else states.initial_state(post.needs_approval)
                done = conn.execute(update(posts).where(posts.c.id == post.id, posts.c.state == states.HELD).values(
                    state=state, state_reason=None, next_attempt_at=None, updated_at=now_db)).rowcount
                if done:
                    released.append(post.id)
                    conn.execute(insert(audit).values(at=now_db, actor=by, action="released", target=post.id,
                                                      detail=f"its media ({testimonial_id}'s {kind}) was approved"))
        return released

    def revoke(self, testimonial_id: str, kind: str, *, by: str, now: dt.datetime, why: str) -> bool:
        """Take an approval back (a new file replaced the approved one); audited when there was one."""
        with self.engine.begin() as conn:
            gone = conn.execute(delete(approvals).where(and_(approvals.c.testimonial_id == testimonial_id,
                                                             approvals.c.kind == kind))).rowcount
            if gone:
                conn.execute(insert(audit).values(at=to_db(now), actor=by, action="media-unapprove",
                                                  target=f"{testimonial_id}/{kind}", detail=why))
        return bool(gone)


def _approval(row) -> MediaApproval:  # type: ignore[no-untyped-def]
    return MediaApproval(row["testimonial_id"], row["kind"], row["sha256"], row["approved_by"], from_db(row["approved_at"]),
                         row["size"], row["mtime_ns"])


def hold_reason(approvals_table: MediaApprovals, post: StoredPost, build_dir: Path) -> str | None:
    """Why a post of a media-approval channel may not go out yet (None: its media is approved).

    The approval must be of the very file the post's render was made from (the manifest
    records the source's hash with each render).
    """
    if post.media is None:
        return None
    media = post.media
    approval = approvals_table.get(media.testimonial_id, media.kind)
    who = f"{media.testimonial_id}'s {media.kind}"
    if approval is None:
        return f"{HOLD_PREFIX}: {who} waits for a designer or an admin to approve it on the console's media desk"
    rendered_from = Manifest.load(Path(build_dir)).outputs.get(media.path, {}).get("source_sha256")
    if rendered_from is not None and rendered_from != approval.sha256:
        return (f"{HOLD_PREFIX}: {who} was replaced after {approval.approved_by} approved it — "
                "approve the new file on the console's media desk")
    return None
