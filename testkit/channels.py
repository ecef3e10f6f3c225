"""Fixtures for the channel tests: tiny media made here, a fake clock, and a helper that
starts an emulator and a publisher pointed at it (the same path the sandbox uses)."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import imageio_ffmpeg
import pytest
from PIL import Image

from campaign.calendar.models import Channel
from campaign.clock import FakeClock
from scheduler.platforms.base import OutgoingMedia, OutgoingPost, Publisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import Emulator, StaticServer, start_emulator
from campaign.post import idempotency_key

FAKE_TOKEN = "FAKE-SECRET-TOKEN-7f3a9c"  # grep target: must never appear in any output
ACCOUNTS = {"facebook": "1234567890", "instagram": "17841400000000000", "x": "belgium", "linkedin": "urn:li:organization:4242",
            "mastodon": "@belgium@mastodon.example", "bluesky": "campaign.bsky.social", "youtube": "@belgium",
            "threads": "17841400000000002"}
START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("build")
    (root / "aiko-tanaka").mkdir()
    Image.new("RGB", (320, 240), (250, 218, 36)).save(root / "aiko-tanaka" / "photo.ja.jpg", "JPEG", quality=80)
    clip = root / "aiko-tanaka" / "clip.ja.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=3",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-shortest", "-movflags", "+faststart", str(clip)],
        check=True, timeout=60,
    )
    return root


@pytest.fixture(scope="session")
def media_server(media_dir: Path) -> Iterator[StaticServer]:
    server = StaticServer(media_dir)
    yield server
    server.stop()


def make_media(media_dir: Path, kind: str) -> OutgoingMedia:
    if kind == "photo":
        rel = "aiko-tanaka/photo.ja.jpg"
        return OutgoingMedia(media_dir / rel, "photo", "image/jpeg", "Aiko Tanaka smiling in a Brussels lab", 320, 240,
                             relative_path=rel)
    rel = "aiko-tanaka/clip.ja.mp4"
    return OutgoingMedia(media_dir / rel, "clip", "video/mp4", "Aiko Tanaka speaks about research in Belgium", 320, 240,
                         relative_path=rel)


def make_post(platform: str, media: OutgoingMedia | None, *, text: str | None = None, post_id: str | None = None,
              language: str = "ja") -> OutgoingPost:
    post_id = post_id or f"science-day.2027.be-{platform}.{language}.{media.kind if media else 'text'}"
    return OutgoingPost(
        post_id=post_id, idempotency_key=idempotency_key(post_id), channel_id=f"be-{platform}", account=ACCOUNTS[platform],
        language=language, text=text or f"ベルギーで研究する (research) #EmbracingOpenness https://example.be/aiko {post_id}",
        media=(media,) if media else (), scheduled_at=START,
    )


def channel(platform: str) -> Channel:
    return Channel(id=f"be-{platform}", platform=platform, account=ACCOUNTS.get(platform, "outbox"), languages=["ja"],
                   timezone="Europe/Brussels", slots=["09:00"])


@dataclass
class Rig:
    emulator: Emulator
    publisher: Publisher
    clock: FakeClock
    overrides: dict[str, str]

    def publisher_as(self, account: str, *, token: str | None = None) -> Publisher:
        """A publisher for another channel: `account` on the same emulator, acting with `token`
        (default: a new account's own token), as a second channel on one platform is."""
        platform = self.emulator.platform
        token = token or self.emulator.add_account(account)
        values = {"IDENTIFIER": account, "PASSWORD": token} if platform == "bluesky" else {"TOKEN": token}
        other = Channel(id=f"other-{platform}", platform=platform, account=account, languages=["ja"], timezone="Europe/Brussels",
                        slots=["09:00"])
        return publisher_for(other, credentials=Credentials(other.id, platform, values), api_overrides=self.overrides, timeout=5.0,
                             clock=self.clock, chunk_size=48 * 1024, poll_interval=1.0, max_processing_wait=10.0)


def rig(platform: str, media_server: StaticServer | None = None, *, timeout: float = 5.0,
        emulator_options: dict[str, Any] | None = None, **options: Any) -> Rig:
    clock = FakeClock(START)
    emulator_options = {"clock": clock, **(emulator_options or {})}
    if platform == "facebook":
        emulator_options["upload_chunk"] = 64 * 1024
    if platform == "linkedin":
        emulator_options["part_size"] = 64 * 1024
    emulator = start_emulator(platform, token=FAKE_TOKEN, account=ACCOUNTS[platform], **emulator_options)
    overrides = {"base_url": emulator.api_url, "video_base_url": emulator.base_url}
    if media_server is not None:
        overrides["media_base_url"] = media_server.base_url
    if platform == "bluesky":
        credentials = Credentials("be-bluesky", "bluesky", {"IDENTIFIER": emulator.identifier, "PASSWORD": FAKE_TOKEN})  # type: ignore[attr-defined]
    elif platform == "facebook":
        credentials = Credentials("be-facebook", "facebook", {"TOKEN": FAKE_TOKEN, "APP_ID": emulator.app_id,  # type: ignore[attr-defined]
                                                              "USER_TOKEN": emulator.user_token})  # type: ignore[attr-defined]
    else:
        credentials = Credentials(f"be-{platform}", platform, {"TOKEN": FAKE_TOKEN})
    publisher = publisher_for(channel(platform), credentials=credentials, api_overrides=overrides, timeout=timeout, clock=clock,
                              chunk_size=options.pop("chunk_size", 48 * 1024), poll_interval=1.0,
                              max_processing_wait=options.pop("max_processing_wait", 10.0), **options)
    return Rig(emulator, publisher, clock, overrides)


@pytest.fixture
def rigs(media_server: StaticServer) -> Iterator[Any]:
    started: list[Rig] = []

    def make(platform: str, **options: Any) -> Rig:
        r = rig(platform, media_server, **options)
        started.append(r)
        return r

    yield make
    for r in started:
        r.publisher.close()
        r.emulator.stop()


class _ToEmulator:
    """tweepy hard-codes https://api.twitter.com: send its requests to the emulator instead,
    unchanged otherwise (tweepy still builds every request and reads every answer)."""

    def __init__(self, base_url: str) -> None:
        from requests.adapters import HTTPAdapter

        self._adapter = HTTPAdapter()
        self.base_url = base_url

    def send(self, request: Any, **kwargs: Any) -> Any:
        request.url = request.url.replace("https://api.twitter.com", self.base_url, 1)
        return self._adapter.send(request, **kwargs)

    def close(self) -> None:
        self._adapter.close()


def tweepy_on(x_emulator: Emulator, token: str) -> Any:
    """A tweepy Client with an OAuth 2.0 user-context token, talking to `x_emulator`."""
    import tweepy

    client = tweepy.Client(bearer_token=token)
    client.session.mount("https://api.twitter.com", _ToEmulator(x_emulator.base_url))  # type: ignore[arg-type]
    return client
