"""`publisher_for(channel)`: the one place that maps a calendar channel to its publisher.

API settings resolve as: `api_overrides` (the sandbox, tests) > the channel's `api:` in
calendar.yaml > each platform's real default host and version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from campaign.calendar.models import Channel
from campaign.clock import Clock
from scheduler.channels.base import Publisher
from scheduler.channels.credentials import Credentials

_API_KEYS = ("base_url", "version", "media_base_url", "video_base_url")


def _publisher_class(platform: str) -> type:
    if platform == "facebook":
        from scheduler.channels.facebook import FacebookPublisher as cls
    elif platform == "instagram":
        from scheduler.channels.instagram import InstagramPublisher as cls
    elif platform == "x":
        from scheduler.channels.x import XPublisher as cls
    elif platform == "linkedin":
        from scheduler.channels.linkedin import LinkedInPublisher as cls
    elif platform == "mastodon":
        from scheduler.channels.mastodon import MastodonPublisher as cls
    elif platform == "bluesky":
        from scheduler.channels.bluesky import BlueskyPublisher as cls
    else:
        raise ValueError(f"no publisher for platform {platform!r}")
    return cls


def resolve_api(channel: Channel, api_overrides: dict[str, str] | None) -> dict[str, str | None]:
    settings = {key: getattr(channel.api, key) for key in _API_KEYS}
    settings.update({k: v for k, v in (api_overrides or {}).items() if v})
    return {k: v for k, v in settings.items() if v}


def publisher_for(
    channel: Channel,
    *,
    credentials: Credentials | None = None,
    outbox_dir: Path = Path("outbox"),
    api_overrides: dict[str, str] | None = None,
    timeout: float = 30.0,
    clock: Clock | None = None,
    **options: Any,
) -> Publisher:
    """The publisher of `channel`. Credentials default to `Credentials.for_channel` (env or
    secrets file; AuthError when missing). `options` go to the publisher (chunk_size,
    poll_interval, max_processing_wait, chunk_retries)."""
    platform = getattr(channel.platform, "value", channel.platform)
    if platform == "outbox":
        from scheduler.channels.outbox import OutboxPublisher

        return OutboxPublisher(channel.id, channel.account, outbox_dir=outbox_dir, clock=clock)
    credentials = credentials or Credentials.for_channel(channel.id, platform)
    cls = _publisher_class(platform)
    return cls(channel.id, channel.account, credentials, api=resolve_api(channel, api_overrides), timeout=timeout,
               clock=clock, **options)
