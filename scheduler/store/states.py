"""The states a post moves through, and which of them the daemon may act on.

planned -> approved (channels needing approval) -> publishing -> published | retry_wait |
processing | failed | missed | cancelled | unknown. Posts of channels without approval start
as `due`. `processing` is slow platform work (video, Instagram container) a later pass checks.
A post the plan itself calls unpublishable (caption over the limit...) is `held` with the
reason until the calendar is fixed; nothing ever claims it.
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
HELD = "held"  # the plan found an error in it (state_reason says which): fix the calendar, then `schedule`

ALL = (PLANNED, DUE, APPROVED, PUBLISHING, PUBLISHED, RETRY_WAIT, PROCESSING, FAILED, MISSED, CANCELLED, UNKNOWN, HELD)
#: States a dispatcher may claim once the post's time (and next_attempt_at) has come.
CLAIMABLE = (DUE, APPROVED, RETRY_WAIT, PROCESSING)
#: Claimable states `mark_missed` may close when the grace ends (a processing post is judged
#: by the dispatcher: once its create request went out it may exist, so it is never "missed").
MISSABLE = (DUE, APPROVED, RETRY_WAIT)
#: States a sync may rewrite when the calendar changes: nothing went out yet and nothing is in flight.
REWRITABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED, CANCELLED, HELD)
#: States a sync cancels when the post left the calendar.
CANCELLABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED, HELD)
#: States that need a person to do something.
NEEDS_HUMAN = (UNKNOWN, FAILED, MISSED, HELD)


def initial_state(needs_approval: bool, held: bool = False) -> str:
    """Where a new (or re-planned) post starts: held when the plan found an error in it."""
    if held:
        return HELD
    return PLANNED if needs_approval else DUE
