"""Telling people what needs them: digests by email (SMTP) and webhook (Slack, Mattermost, Teams).

Reusable by any part that has something to say (token-expiry warnings, ...):

    from scheduler.notify import Notice, Outbox
    Outbox(store).enqueue(Notice("webhook", "team-chat", "be-x: token expires in 7 days", text,
                                 key="token-expiry:be-x:2027-03-01"), now)   # `key`: queued once, ever
    Outbox(store).to_audience(calendar.notifications, "failures", subject, text, key=..., now=now)

A notice is written to the store first (`notify_outbox`), then the daemon's notify job
(`scheduler.notify.job.NotifyJob`, handed to the daemon by the `daemon` command) delivers
it, retrying with backoff when the server or the webhook fails. It runs on its own job, so
a slow or failing notifier never delays a post.
"""

from scheduler.notify.outbox import Notice, Outbox

__all__ = ["Notice", "Outbox"]
