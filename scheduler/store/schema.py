"""The store's tables (SQLAlchemy Core). Datetimes are stored as naive UTC on every backend.

Credentials are never stored here: publishers read them from the environment or the secrets file.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

posts = Table(
    "posts",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("moment_id", String(64), nullable=False),
    Column("occurrence", Integer, nullable=False),
    Column("channel_id", String(64), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("account", String(255), nullable=False),
    Column("language", String(8), nullable=False),
    Column("scheduled_at", DateTime, nullable=False),
    Column("local_time", String(64), nullable=False),
    Column("caption", Text, nullable=False),
    Column("link", Text),
    Column("hashtags", Text, nullable=False, default="[]"),  # JSON list
    Column("media", Text),  # JSON object (MediaRef) or NULL
    Column("needs_approval", Boolean, nullable=False),
    Column("grace_seconds", Integer, nullable=False),
    Column("warnings", Text, nullable=False, default="[]"),
    Column("content_hash", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text),
    Column("idempotency_key", String(64), nullable=False),
    Column("remote_id", String(255)),
    Column("remote_url", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("transient_failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),
    Column("claimed_by", String(255)),
    Column("claimed_until", DateTime),
    Column("approved_by", String(255)),
    Column("approved_at", DateTime),
    Column("published_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
    # JSON {language: caption} of the other languages a post carries (YouTube's localizations), or
    # NULL; added after stores existed (LATER_COLUMNS).
    Column("localizations", Text),
    Index("ix_posts_state_time", "state", "scheduled_at"),
    Index("ix_posts_channel", "channel_id"),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", String(255), nullable=False, index=True),
    Column("worker", String(255), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("outcome", String(32)),  # published, transient, rate_limited, permanent, auth, unknown, ...
    Column("error_class", String(64)),
    Column("message", Text),
    Column("remote_id", String(255)),
)

assets = Table(
    "assets",
    metadata,
    Column("path", String(512), primary_key=True),  # relative to the build folder
    Column("testimonial_id", String(64)),
    Column("variant", String(64)),
    Column("language", String(8)),
    Column("content_hash", String(128)),
    Column("rendered_at", DateTime, nullable=False),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("detail", Text),
    Index("ix_audit_target", "target"),  # a post's history and comment thread, a page of cards' threads
)

subtitle_reviews = Table(
    "subtitle_reviews",
    metadata,
    # Per clip and language: where its subtitles stand (scheduler/subtitle_review.py). The files
    # are in the inbox; this says who approved which version (the SHA-256 of the file written).
    Column("testimonial_id", String(64), primary_key=True),
    Column("language", String(8), primary_key=True),
    Column("state", String(16), nullable=False),  # draft | approved
    Column("origin", String(32), nullable=False),  # transcribed | machine translation | translated | edited
    Column("approved_sha256", String(64)),
    Column("approved_by", String(255)),
    Column("approved_at", DateTime),
    Column("updated_by", String(255), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

channel_state = Table(
    "channel_state",
    metadata,
    Column("channel_id", String(64), primary_key=True),
    Column("paused", Boolean, nullable=False, default=False),
    Column("reason", Text),
    Column("paused_by", String(255)),
    Column("paused_at", DateTime),
    Column("rate_limited_until", DateTime),  # the platform said "wait": every post of the channel waits
)

post_steps = Table(
    "post_steps",
    metadata,
    # What a publish already did on the platform (media id, container id, upload session,
    # "create sent", the created post), stored the moment it exists so a retry resumes there.
    Column("post_id", String(255), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("at", DateTime, nullable=False),
)

heartbeat = Table(
    "heartbeat",
    metadata,
    Column("worker", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("detail", Text),
)

# -- results: what each published post achieved (scheduler/results) -------------------------------

# The collector looks for newly published posts by publication time (scheduler/results/store.py).
Index("ix_posts_published_at", posts.c.published_at)
# The console's live poll asks, every 3 s per open page, what changed since a moment, and how many
# posts per state changed at that moment (console/views.py): with the state in the index, that count
# reads the index alone (a schedule writes every post at one instant: 10,000 rows, 12 -> 3 ms).
live_poll_index = Index("ix_posts_updated_state", posts.c.updated_at, posts.c.state)

#: Indexes added after stores existed: `create_all` makes missing tables, not missing indexes of
#: existing tables, so the store makes these on open where they are missing (scheduler/store/store.py).
LATER_INDEXES = (live_poll_index,)
#: Columns added to existing tables after stores existed (nullable, no default: an ALTER TABLE ...
#: ADD COLUMN any backend does in place): the store adds the missing ones on open.
LATER_COLUMNS = (posts.c.localizations,)

collections = Table(
    "collections",
    metadata,
    # One row per (post, age): when its figures are due, and whether they were collected.
    Column("post_id", String(255), primary_key=True),
    Column("age", String(16), primary_key=True),  # "1h", "24h", "7d", "30d"
    Column("channel_id", String(64), nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("next_try_at", DateTime, nullable=False),  # due_at, then later after an error
    Column("done_at", DateTime),
    Column("tries", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_collections_open", "done_at", "next_try_at"),
)

figures = Table(
    "figures",
    metadata,
    # Append-only: a later collection never overwrites an earlier one.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("post_id", String(255), nullable=False, index=True),
    Column("age", String(16), nullable=False),
    Column("collected_at", DateTime, nullable=False),
    Column("platform", String(32), nullable=False),
    Column("raw", Text, nullable=False),  # JSON: the figures as the platform names them
    Column("impressions", Integer),  # NULL: the platform does not give it (never a made-up zero)
    Column("reach", Integer),
    Column("likes", Integer),
    Column("reposts", Integer),
    Column("replies", Integer),
    Column("link_clicks", Integer),
    Column("video_views", Integer),
    Column("not_given", Text),  # why this platform gives this account nothing (permission, access level)
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # Imported web analytics (Matomo / GA4 export): sessions per UTM campaign, source, content.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("utm_campaign", String(255), nullable=False),
    Column("utm_source", String(255), nullable=False),
    Column("utm_content", String(255), nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("source_file", Text, nullable=False),
    Column("imported_at", DateTime, nullable=False),
)

# -- renders: where each output file stands (local `render`, the daemon's inbox job, queue workers) ----

render_progress = Table(
    "render_progress",
    metadata,
    # One row per output file (its path in the build folder); every render of it rewrites the row.
    Column("output", String(512), primary_key=True),
    Column("testimonial_id", String(64)),
    Column("source", String(255)),  # the inbox file it is made from
    Column("variant", String(64)),
    Column("language", String(8)),
    Column("kind", String(8)),  # "photo" or "clip"
    Column("state", String(16), nullable=False),  # queued, rendering, done, refused
    Column("percent", Integer, nullable=False, default=0),  # of the render in progress (100 once done)
    Column("reason", Text),  # why it was refused (a person can act on it)
    Column("worker", String(255)),  # host:pid of the process rendering it
    Column("tries", Integer, nullable=False, default=0),  # renders started (a killed worker's job is redelivered)
    Column("queued_at", DateTime),
    Column("started_at", DateTime),
    Column("finished_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_render_progress_state", "state"),
)

# -- calendar edits (console and API): the copies forms were opened on, and the change signal ------

calendar_copies = Table(
    "calendar_copies",
    metadata,
    # The calendar's text as a person's form was opened on it (by its SHA-256): a save refused as
    # stale shows what changed since, from this copy. Old copies are pruned.
    Column("hash", String(64), primary_key=True),
    Column("text", Text, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)

calendar_signal = Table(
    "calendar_signal",
    metadata,
    # One row per calendar file: bumped by each save from the console or the API; a daemon on
    # this store reloads and re-syncs when it moves (no restart, no SIGHUP, works across machines).
    Column("path", String(512), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("by", String(64), nullable=False),
    Column("serial", Integer, nullable=False, default=0),
)

# -- the clock the store lives on (scheduler/store/clock.py) -----------------------------------------

store_clock = Table(
    "store_clock",
    metadata,
    # At most one row: a daemon on the campaign clock (a rehearsal, `daemon --sandbox` with
    # CAMPAIGN_CLOCK_START) writes where its clock stands, and every reader of the store (status,
    # results, the console, the audit trail) computes the same campaign time from it. No row: the
    # store lives on the real clock.
    Column("id", Integer, primary_key=True),
    Column("campaign_at", DateTime, nullable=False),  # campaign time at real_at
    Column("real_at", DateTime, nullable=False),
    Column("speed", Float, nullable=False),  # campaign seconds per real second; 0: stopped (its daemon ended)
    Column("purpose", String(64), nullable=False),  # "rehearsal", "sandbox", ...
    Column("set_by", String(255), nullable=False),  # the worker that wrote it
)
