"""No secret in any output: a known fake token, publishes with faults on every platform,
then grep logs, exception texts, outbox files and emulator records. And the sandbox
starts what a calendar needs and publishes through `publisher_for`."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from campaign.calendar.loader import load_calendar
from testkit.channels import FAKE_TOKEN, make_media, make_post
from scheduler.media_links import sandbox_links
from scheduler.platforms.base import PublishError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.outbox.publisher import OutboxPublisher
from campaign.platforms import PLATFORMS as PLATFORM_SPECS
from scheduler.platforms.registry import publisher_for
from emulators import Sandbox

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow  # every channel published through the emulators (~2.5 s)
def test_no_secret_in_any_output(rigs, media_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    for platform in ("facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"):
        r = rigs(platform, timeout=0.3)
        texts += [repr(r.publisher), repr(r.publisher.credentials), str(r.publisher.credentials)]
        for fault, params in (("expired_token", {}), ("rate_limit", {}), ("server_error", {}), ("processing_failed", {}),
                              ("drop_after_create", {}), ("timeout", {"seconds": 0.6})):
            r.emulator.inject(fault, **params)
            for kind in ("photo", "clip"):
                post = make_post(platform, make_media(media_dir, kind), post_id=f"p.{platform}.{fault}.{kind}")
                try:
                    texts.append(repr(r.publisher.publish(post)))
                except PublishError as exc:
                    texts += [str(exc), repr(exc)]
        texts.append(json.dumps(r.emulator.published, default=str))
    outbox = OutboxPublisher("press-outbox", outbox_dir=tmp_path)
    outbox.publish(make_post("x", make_media(media_dir, "photo")))
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in tmp_path.rglob("*.json")]
    texts += [record.getMessage() for record in caplog.records]
    assert texts and caplog.records is not None
    leaks = [t for t in texts if FAKE_TOKEN in t]
    assert not leaks, leaks[:3]


def test_sandbox_publishes_every_channel_of_the_sample_calendar(media_dir: Path, tmp_path: Path) -> None:
    calendar = load_calendar(REPO / "calendar.yaml").calendar
    with Sandbox(calendar, media_dir) as sandbox:
        for channel in calendar.channels:
            publisher = publisher_for(channel, credentials=Credentials(channel.id, channel.platform.value, sandbox.credentials(channel.id)), api_overrides=sandbox.overrides(channel.id),
                                      outbox_dir=tmp_path, timeout=5, poll_interval=0.01)
            media = make_media(media_dir, "photo" if PLATFORM_SPECS[channel.platform.value].photos else "clip")
            links = sandbox_links(channel, sandbox.media_base_url, sandbox.media_key)  # Instagram fetches a signed address
            if links is not None:
                media = dataclasses.replace(media, public_url=links.url_for(media.relative_path, media.path))
            post = make_post("x", media, post_id=f"sandbox.{channel.id}", language=channel.languages[0])
            post = type(post)(**{**post.__dict__, "channel_id": channel.id, "account": channel.account})
            result = publisher.publish(post)
            assert result.remote_id
            publisher.close()
        assert len(sandbox.emulator("facebook").published) == 3
        assert len(sandbox.emulator("x").published) == 2
        assert len(sandbox.emulator("youtube").published) == 1  # a clip: YouTube takes no photos
        assert sandbox.credentials("be-x")["TOKEN"].startswith("sandbox-x-")
        assert sandbox.credentials("embassy-washington") == {"IDENTIFIER": calendar.channel("embassy-washington").account,
                                                             "PASSWORD": sandbox.credentials("embassy-washington")["PASSWORD"]}
        assert sandbox.emulator("instagram").published[0]["media_url"].startswith(sandbox.media_base_url + "/signed/")
