"""The one table of emulators: which class plays which platform, and `start_emulator`."""

from __future__ import annotations

from typing import Any

from emulators.base import Emulator
from emulators.bluesky import BlueskyEmulator
from emulators.facebook import FacebookEmulator
from emulators.instagram import InstagramEmulator
from emulators.linkedin import LinkedInEmulator
from emulators.mastodon import MastodonEmulator
from emulators.threads import ThreadsEmulator
from emulators.x import XEmulator
from emulators.youtube import YouTubeEmulator

EMULATORS: dict[str, type[Emulator]] = {cls.platform: cls for cls in (
    FacebookEmulator, InstagramEmulator, XEmulator, LinkedInEmulator, MastodonEmulator, BlueskyEmulator, YouTubeEmulator, ThreadsEmulator,
)}


def start_emulator(platform: Any, **options: Any) -> Emulator:
    """Start the emulator of `platform` on a free loopback port (options: account and token of
    the first account, clock, processing_polls, timeout_seconds, and per platform upload_chunk /
    part_size; YouTube: daily_quota, audited; Bluesky: video_service=False and did_doc_with_session=False play a lone PDS).
    More accounts: `emulator.add_account(name)`."""
    name = getattr(platform, "value", platform)
    if name not in EMULATORS:
        raise ValueError(f"no emulator for platform {name!r} (choose from {', '.join(EMULATORS)})")
    return EMULATORS[name](**options)
