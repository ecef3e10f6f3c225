"""Whole-file checks of the calendar's `notifications:` section (who gets digests, how).

Each problem names its place (`notifications.recipients[1].approves[0]`); the loader turns
it into the line to edit, as for every other section.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Iterable

from campaign.calendar.models import Calendar
from campaign.errors import Problem
from campaign.secrets import secret_table

#: Where an SMTP server's login and a webhook's URL are looked up (`[notify-email]`, `[notify-<id>]`).
EMAIL_SECRETS = "notify-email"


def webhook_secrets(webhook: str) -> str:
    return f"notify-{webhook}"


def check_notifications(calendar: Calendar, _root: Path, _today: dt.date) -> Iterable[Problem]:
    settings = calendar.notifications
    if settings is None:
        return
    channels = {c.id: c for c in calendar.channels}
    if not settings.recipients:
        yield Problem("", None, "notifications", "nobody gets a digest — add `recipients:` (or remove the section)",
                      "warning")
    for index, recipient in enumerate(settings.recipients):
        where = f"notifications.recipients[{index}]"
        for c_index, channel_id in enumerate(recipient.approves if isinstance(recipient.approves, list) else []):
            channel = channels.get(channel_id)
            if channel is None:
                guess = difflib.get_close_matches(channel_id, list(channels), n=1)
                hint = f"did you mean `{guess[0]}`?" if guess else f"known: {', '.join(channels)}"
                yield Problem("", None, f"{where}.approves[{c_index}]", f"unknown channel `{channel_id}` — {hint}")
            elif not channel.approval:
                yield Problem("", None, f"{where}.approves[{c_index}]",
                              f"`{channel_id}` needs no approval (approval: false), so nothing of it waits for "
                              f"{recipient.shown}", "warning")
        if recipient.email and settings.email is None:
            yield Problem("", None, f"{where}.email", "an email needs an SMTP server: add `notifications.email:` with "
                                                     "host, port and sender")
        if recipient.webhook and not secret_table(webhook_secrets(recipient.webhook)).get("webhook"):
            name = webhook_secrets(recipient.webhook)
            yield Problem("", None, f"{where}.webhook",
                          f"no URL for webhook `{recipient.webhook}`: set CAMPAIGN_{name.upper().replace('-', '_')}_WEBHOOK "
                          f'or add [{name}] webhook = "https://..." to the secrets file (its URL is a secret)', "warning")
        if not recipient.approves and not recipient.failures:
            yield Problem("", None, where, f"{recipient.shown} gets nothing — add `approves: [CHANNEL, ...]` (or all) "
                                           "and/or `failures: true`", "warning")
