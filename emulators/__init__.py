"""Local emulators of the six platforms' publishing APIs on 127.0.0.1, for tests, the
sandbox mode and the demo. `start_emulator(platform)` starts one; `Sandbox(calendar,
media_root)` starts all a calendar needs."""

from __future__ import annotations

from typing import Any

from scheduler.emulators.base import FAULTS, Emulator
from scheduler.emulators.sandbox import Sandbox, StaticServer

__all__ = ["FAULTS", "Emulator", "Sandbox", "StaticServer", "start_emulator", "EMULATORS"]

EMULATORS = ("facebook", "instagram", "x", "linkedin", "mastodon", "bluesky")


def start_emulator(platform: str, **options: Any) -> Emulator:
    """Start the emulator of `platform` on a free loopback port (options: account and token of
    the first account, clock, processing_polls, timeout_seconds, and per platform upload_chunk /
    part_size; Bluesky: video_service=False and did_doc_with_session=False play a lone PDS).
    More accounts: `emulator.add_account(name)`."""
    platform = getattr(platform, "value", platform)
    if platform == "facebook":
        from scheduler.emulators.facebook import FacebookEmulator as cls
    elif platform == "instagram":
        from scheduler.emulators.instagram import InstagramEmulator as cls
    elif platform == "x":
        from scheduler.emulators.x import XEmulator as cls
    elif platform == "linkedin":
        from scheduler.emulators.linkedin import LinkedInEmulator as cls
    elif platform == "mastodon":
        from scheduler.emulators.mastodon import MastodonEmulator as cls
    elif platform == "bluesky":
        from scheduler.emulators.bluesky import BlueskyEmulator as cls
    else:
        raise ValueError(f"no emulator for platform {platform!r} (choose from {', '.join(EMULATORS)})")
    return cls(**options)
