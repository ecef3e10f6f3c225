"""Shared rules for what a moment needs: which languages it posts in and which media it carries.

The planner (which post carries which file) and the asset pipeline (which files to render)
must agree exactly, so both ask these functions.
"""

from __future__ import annotations

from campaign.calendar.models import Calendar, Channel, Moment, Testimonial


def moment_languages(moment: Moment, channel: Channel) -> list[str]:
    """Languages a moment posts in on one channel: the channel's, narrowed by the moment's `languages:`."""
    if moment.languages is None:
        return list(channel.languages)
    return [lang for lang in channel.languages if lang in moment.languages]


def media_kind(moment: Moment, testimonial: Testimonial) -> str:
    """`photo` or `clip`: the moment's choice, or with `auto` the clip when there is one."""
    if moment.media == "photo":
        return "photo"
    if moment.media == "clip":
        return "clip"
    return "clip" if testimonial.clip else "photo"


def moment_channels(calendar: Calendar, moment: Moment) -> list[Channel]:
    known = {c.id: c for c in calendar.channels}
    return [known[cid] for cid in moment.channels if cid in known]
