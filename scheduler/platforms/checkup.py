"""`check`: can every channel publish? Asked before a campaign and at each daemon start.

Per channel: are its credentials present, does the platform accept them (its own "who am I"
call, through the publisher's `check()`), is its API version served, and for platforms that fetch
media by URL (Instagram, Threads): does a signed test address answer through the public address
they will be given (scheduler/media_links.py). Each problem is one line that says what to fix; nothing is published.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

from campaign.calendar.models import Calendar, Channel
from scheduler.media_links import check_links
from scheduler.platforms.base import ChannelProblem, PublishError, Publisher
from scheduler.platforms.registry import platform_of


@dataclass(frozen=True)
class ChannelReport:
    channel_id: str
    platform: str
    problems: tuple[ChannelProblem, ...] = ()

    @property
    def blocking(self) -> list[ChannelProblem]:
        """Problems that stop every post of the channel until a person fixes them."""
        return [p for p in self.problems if p.blocking]

    @property
    def ready(self) -> bool:
        """Nothing to fix (notes may remain: things to know that do not stop a post)."""
        return all(p.note for p in self.problems)

    def lines(self) -> list[str]:
        return [f"{self.channel_id} ({self.platform}): {'cannot publish' if p.blocking else 'note' if p.note else 'warning'}: "
                f"{p.message}" for p in self.problems]


def check_channel(channel_id: str, platform: str, publisher_of: Callable[[str], Publisher]) -> ChannelReport:
    """One channel's report; never raises (a failing check is itself a problem)."""
    try:
        publisher = publisher_of(channel_id)
        check = getattr(publisher, "check", None)
        problems = list(check()) if check is not None else []
    except PublishError as exc:  # e.g. credentials missing: the publisher cannot even be built
        problems = [ChannelProblem(str(exc))]
    except Exception as exc:  # noqa: BLE001 - report, never crash the caller (the daemon start)
        problems = [ChannelProblem(f"could not check channel {channel_id}: {type(exc).__name__}: {exc}", blocking=False)]
    return ChannelReport(channel_id, platform, tuple(problems))


def check_channels(calendar: Calendar, publisher_of: Callable[[str], Publisher],
                   channel_ids: Iterable[str] | None = None) -> list[ChannelReport]:
    """Reports for the calendar's channels (or only `channel_ids`), in calendar order; the
    outbox (no account) has nothing to ask and is skipped."""
    wanted = set(channel_ids) if channel_ids is not None else None
    channels = [c for c in calendar.channels if platform_of(c.platform).has_account and (wanted is None or c.id in wanted)]
    if not channels:
        return []
    # Side by side: a slow platform (time-outs) must not add up across channels at daemon start.
    with ThreadPoolExecutor(max_workers=min(8, len(channels)), thread_name_prefix="check") as pool:
        reports = list(pool.map(lambda c: check_channel(c.id, c.platform.value, publisher_of), channels))
        media = list(pool.map(lambda c: media_problems(calendar, c, publisher_of), channels))
    return [ChannelReport(r.channel_id, r.platform, r.problems + tuple(m)) for r, m in zip(reports, media)]


def media_problems(calendar: Calendar, channel: Channel, publisher_of: Callable[[str], Publisher]) -> list[ChannelProblem]:
    """For a platform that fetches media by URL: can it reach the address it will be given? (Asked
    of the pool's `media_links`; a pool without one, a bare function, has no media to check.)"""
    lookup = getattr(publisher_of, "media_links", None)
    if lookup is None:
        return []
    try:
        links = lookup(channel.id)
    except PublishError as exc:  # signing set up without a key
        return [ChannelProblem(str(exc))]
    return check_links(calendar, channel, links)
