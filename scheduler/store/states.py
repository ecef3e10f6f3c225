"""The states a post moves through, and which of them the daemon may act on.

planned -> approved (channels needing approval) -> publishing -> published | retry_wait |
processing | failed | missed | cancelled | unknown. Posts of channels without approval start
as `due`. `processing` is slow platform work (video, Instagram container) a later pass checks.
"""

from __future__ import annotations

PLANNED = "planned"  # waiting for a human's approval
DUE = "due"  # no approval needed: goes out at its time
APPROVED = "approved"
PUBLISHING = "publishing"  # intent committed, the network call may be under way
PUBLISHED = "published"
RETRY_WAIT = "retry_wait"
PROCESSING = "processing"  # the platform is still working on the media: a later pass checks (next_attempt_at)
FAILED = "failed"
MISSED = "missed"
CANCELLED = "cancelled"
UNKNOWN = "unknown"  # "unknown, check": may have gone out; a human must look

ALL = (PLANNED, DUE, APPROVED, PUBLISHING, PUBLISHED, RETRY_WAIT, PROCESSING, FAILED, MISSED, CANCELLED, UNKNOWN)
#: States a dispatcher may claim once the post's time (and next_attempt_at) has come.
CLAIMABLE = (DUE, APPROVED, RETRY_WAIT, PROCESSING)
#: Claimable states `mark_missed` may close when the grace ends (a processing post is judged
#: by the dispatcher: once its create request went out it may exist, so it is never "missed").
MISSABLE = (DUE, APPROVED, RETRY_WAIT)
#: States a sync may rewrite when the calendar changes: nothing went out yet and nothing is in flight.
REWRITABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED, CANCELLED)
#: States a sync cancels when the post left the calendar.
CANCELLABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED)
#: States that need a person to do something.
NEEDS_HUMAN = (UNKNOWN, FAILED, MISSED)


def initial_state(needs_approval: bool) -> str:
    """Where a new (or re-planned) post starts."""
    return PLANNED if needs_approval else DUE
