"""`validate`'s look at the plan: every post the plan would hold (a caption over the platform's
limit, alt text too long) or drop (no slot left by consent or a blackout, no testimonial with
a quote in its language) is a problem with the calendar line to edit.

`validate` said "valid" for a 560-grapheme Bluesky caption or a moment a blackout left without
a slot; `plan` then held or dropped those posts. The line named is where the fix goes: the
post's own caption in `overrides:` when it has one, else the quote its caption is built from,
else the moment.
"""

from __future__ import annotations

from campaign.calendar import LoadedCalendar
from campaign.errors import Problem
from campaign.post import post_id
from scheduler.plan.planner import Plan


def plan_problems(loaded: LoadedCalendar, plan: Plan) -> list[Problem]:
    shown = str(loaded.path)
    calendar = loaded.calendar
    moments = {m.id: i for i, m in enumerate(calendar.moments)}
    testimonials = {t.id: i for i, t in enumerate(calendar.testimonials)}
    held = {p.id: p for p in plan.posts if p.problems}

    def line_of(*path: str | int) -> int | None:
        return loaded.lines.get(tuple(path))

    problems = []
    for issue in plan.errors:
        post = held.get(issue.post_id or "")
        line = None
        # A post carrying several languages (YouTube) names the language of the text at fault.
        language = (issue.language if issue.language in post.languages else post.language) if post is not None else None
        own = post_id(post.moment_id, post.occurrence, post.channel_id, language) if post is not None and language else None
        if own is not None and own in calendar.overrides:
            line = line_of("overrides", own, "caption") or line_of("overrides", own)
        elif post is not None and post.media is not None and post.media.testimonial_id in testimonials:
            line = line_of("testimonials", testimonials[post.media.testimonial_id], "quote", language)
        if line is None and issue.moment_id in moments:
            line = line_of("moments", moments[issue.moment_id])
        what = "the plan would hold it (never sent as it is)" if post is not None else "the plan would drop it"
        problems.append(Problem(shown, line, issue.post_id or issue.moment_id, f"{what}: {_without_id(issue)}"))
    return problems


def _without_id(issue) -> str:  # type: ignore[no-untyped-def]
    prefix = f"{issue.post_id}: "
    return issue.message[len(prefix):] if issue.post_id and issue.message.startswith(prefix) else issue.message
