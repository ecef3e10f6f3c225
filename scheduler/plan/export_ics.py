"""The plan as an RFC 5545 calendar, so managers see the campaign in their own calendar program.

Each post is a 15-minute event at its local time in the channel's zone; a VTIMEZONE is
included for every zone used (icalendar's `add_missing_timezones`), so Outlook, Apple
Calendar and Google Calendar place 09:00 Tokyo and 09:00 Brussels correctly.
"""

from __future__ import annotations

import datetime as dt

import icalendar

from campaign.post import PlannedPost

UID_DOMAIN = "embracing-openness"
EVENT_LENGTH = dt.timedelta(minutes=15)


def plan_to_ics(posts: list[PlannedPost], *, stamp: dt.datetime, name: str = "Embracing Openness") -> bytes:
    """The posts as an .ics file. `stamp` (aware) is the DTSTAMP: pass the clock's now."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Embracing Openness//campaign planner//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{name} — planned posts")
    for post in posts:
        event = icalendar.Event()
        event.add("uid", f"{post.id}@{UID_DOMAIN}")
        event.add("dtstamp", stamp.astimezone(dt.timezone.utc))
        event.add("dtstart", post.local_time)
        event.add("dtend", post.local_time + EVENT_LENGTH)
        event.add("summary", f"{post.channel_id} · {post.language} · {post.moment_id}")
        event.add("description", _description(post))
        event.add("categories", [post.platform, post.language])
        if post.link:
            event.add("url", post.link)
        if post.warnings:
            event.add("status", "TENTATIVE")
        calendar.add_component(event)
    if posts:
        first = min(p.scheduled_at for p in posts).date() - dt.timedelta(days=366)
        last = max(p.scheduled_at for p in posts).date() + dt.timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def _description(post: PlannedPost) -> str:
    lines = [post.caption, "", f"{post.platform} @{post.account} · {post.language}",
             f"UTC {post.scheduled_at:%Y-%m-%d %H:%M}"]
    if post.media:
        lines.append(f"{post.media.kind}: {post.media.path}")
    if post.needs_approval:
        lines.append("needs approval before it goes out")
    lines += [f"warning: {w}" for w in post.warnings]
    return "\n".join(lines)
