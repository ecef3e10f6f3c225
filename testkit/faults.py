"""Test kit for the exactly-once tests: the real platform emulators (in this process, on one
FakeClock), real publishers pointed at them, small media made here, and planned posts.

What a post "is" on a platform is read back from the emulator, never from the store."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from PIL import Image

from campaign.calendar.models import Channel
from campaign.clock import FakeClock
from scheduler.platforms.base import Publisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import Emulator, StaticServer, start_emulator
from campaign.post import MediaRef, PlannedPost, post_id

UTC = dt.timezone.utc
START = dt.datetime(2027, 5, 1, 8, 0, tzinfo=UTC)
ACCOUNTS = {"facebook": "1234567890", "instagram": "17841400000000000", "x": "belgium",
            "linkedin": "urn:li:organization:4242", "mastodon": "@belgium@mastodon.example",
            "threads": "17841400000000002"}
PHOTO = "aiko-tanaka/photo.en.jpg"
CLIP = "aiko-tanaka/clip.en.mp4"


def make_media(build: Path) -> Path:
    """A 320x240 JPEG and a 3 s H.264/AAC clip (+faststart) every platform here accepts."""
    folder = build / "aiko-tanaka"
    folder.mkdir(parents=True, exist_ok=True)
    if not (build / PHOTO).exists():
        Image.new("RGB", (320, 240), (250, 218, 36)).save(build / PHOTO, "JPEG", quality=80)
    if not (build / CLIP).exists():
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-shortest", "-movflags", "+faststart", str(build / CLIP)],
            check=True, timeout=60)
    return build


def planned(moment: str, platform: str, at: dt.datetime = START, *, media: str | None = None,
            grace_seconds: int = 3 * 3600, text: str | None = None) -> PlannedPost:
    channel = f"be-{platform}"
    ref = None
    if media == "photo":
        ref = MediaRef("aiko-tanaka", "photo", "feed", "en", PHOTO, "Aiko Tanaka in a Brussels lab", 320, 240)
    elif media == "clip":
        ref = MediaRef("aiko-tanaka", "clip", "reel", "en", CLIP, "Aiko Tanaka speaks about research", 320, 240)
    return PlannedPost(
        id=post_id(moment, at.year, channel, "en"), moment_id=moment, occurrence=at.year, channel_id=channel,
        platform=platform, account=ACCOUNTS[platform], language="en", scheduled_at=at, local_time=at,
        caption=text or f"{moment}: Belgium, in the words of others. #EmbracingOpenness", link=None,
        hashtags=("EmbracingOpenness",), media=ref, needs_approval=False, grace_seconds=grace_seconds)


class Platforms:
    """One emulator per platform on a shared clock, and a publisher factory for the dispatcher."""

    def __init__(self, clock: FakeClock, build: Path, platforms: tuple[str, ...], **publisher_options: Any) -> None:
        self.clock = clock
        self.media = StaticServer(build)
        self.emulators: dict[str, Emulator] = {}
        self._publishers: dict[str, Publisher] = {}
        self._options = {"poll_interval": 1.0, "max_processing_wait": 30.0, "inline_wait": 5.0, "check_again_after": 60.0,
                         "chunk_size": 48 * 1024, **publisher_options}
        for platform in platforms:
            extra = {"upload_chunk": 64 * 1024} if platform == "facebook" else {}
            self.emulators[platform] = start_emulator(platform, clock=clock, account=ACCOUNTS[platform], **extra)

    def __call__(self, channel_id: str) -> Publisher:
        if channel_id not in self._publishers:
            platform = channel_id.removeprefix("be-")
            emulator = self.emulators[platform]
            channel = Channel(id=channel_id, platform=platform, account=ACCOUNTS[platform], languages=["en"],
                              timezone="Europe/Brussels", slots=["09:00"])
            overrides = {"base_url": emulator.api_url, "video_base_url": emulator.base_url,
                         "media_base_url": self.media.base_url}
            values = {"TOKEN": emulator.token}
            if platform == "facebook":  # clips go through Meta's Resumable Upload API: app id and a user token
                values.update(APP_ID=emulator.app_id, USER_TOKEN=emulator.user_token)  # type: ignore[attr-defined]
            self._publishers[channel_id] = publisher_for(
                channel, credentials=Credentials(channel_id, platform, values), api_overrides=overrides,
                timeout=5.0, clock=self.clock, **self._options)
        return self._publishers[channel_id]

    def media_base_url(self, channel_id: str) -> str:
        return self.media.base_url

    def on(self, platform: str) -> list[dict[str, Any]]:
        """What the platform holds: every post its emulator created."""
        return self.emulators[platform].published

    def stop(self) -> None:
        for publisher in self._publishers.values():
            publisher.close()
        for emulator in self.emulators.values():
            emulator.stop()
        self.media.stop()
