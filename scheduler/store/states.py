"""The states a post moves through, and which of them the daemon may act on.

planned -> approved (channels needing approval) -> publishing -> published | retry_wait |
processing | failed | missed | cancelled | unknown. Posts of channels without approval start
as `due`. `processing` is slow platform work (video, Instagram container) a later pass checks.
A post the plan itself calls unpublishable (caption over the limit...) is `held` with the
reason until the calendar is fixed; nothing ever claims it. A reviewer may send a post back
(planned, approved or due -> sent_back, with a comment): it is held until its calendar entry
or its rendered asset changes, then waits for approval again.
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
SENT_BACK = "sent_back"  # a reviewer said no, with a comment: held until the calendar or its asset changes

ALL = (PLANNED, DUE, APPROVED, PUBLISHING, PUBLISHED, RETRY_WAIT, PROCESSING, FAILED, MISSED, CANCELLED, UNKNOWN, HELD,
       SENT_BACK)
#: States a dispatcher may claim once the post's time (and next_attempt_at) has come.
CLAIMABLE = (DUE, APPROVED, RETRY_WAIT, PROCESSING)
#: Claimable states `mark_missed` may close when the grace ends (a processing post is judged
#: by the dispatcher: once its create request went out it may exist, so it is never "missed").
MISSABLE = (DUE, APPROVED, RETRY_WAIT)
#: States a sync may rewrite when the calendar changes: nothing went out yet and nothing is in flight.
REWRITABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED, CANCELLED, HELD, SENT_BACK)
#: States a sync cancels when the post left the calendar.
CANCELLABLE = (PLANNED, DUE, APPROVED, RETRY_WAIT, FAILED, MISSED, HELD, SENT_BACK)
#: States that need a person to do something.
NEEDS_HUMAN = (UNKNOWN, FAILED, MISSED, HELD)
#: States a reviewer may send back: nothing went out and nothing is in flight.
SENDABLE_BACK = (PLANNED, DUE, APPROVED)


def initial_state(needs_approval: bool, held: bool = False) -> str:
    """Where a new (or re-planned) post starts: held when the plan found an error in it."""
    if held:
        return HELD
    return PLANNED if needs_approval else DUE
