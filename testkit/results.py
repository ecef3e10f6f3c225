"""Helpers for the results tests: published posts put straight into a store, as the daemon leaves them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pathlib import Path
from typing import Iterator

import pytest
from testkit.channels import ACCOUNTS, FAKE_TOKEN, START, channel, make_media, make_post
from sqlalchemy import insert

from campaign.clock import FakeClock
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import start_emulator
from scheduler.results.collect import Collector
from scheduler.store import Store
from scheduler.store.rows import to_db
from scheduler.store.schema import posts


def add_published(store: Store, post_id: str, *, channel_id: str, platform: str, remote_id: str, published_at: dt.datetime,
                  language: str = "en", moment_id: str = "pride-2027", kind: str | None = "photo",
                  testimonial_id: str = "aiko-tanaka", state: str = "published", **extra: Any) -> None:
    media = None if kind is None else json.dumps({"testimonial_id": testimonial_id, "kind": kind, "variant": "feed_4x5",
                                                 "language": language, "path": f"{testimonial_id}/x.{language}.jpg",
                                                 "alt_text": "alt", "width": 1080, "height": 1350})
    values = {"id": post_id, "moment_id": moment_id, "occurrence": 2027, "channel_id": channel_id, "platform": platform,
              "account": "acct", "language": language, "scheduled_at": to_db(published_at),
              "local_time": published_at.isoformat(), "caption": f"caption of {post_id}", "link": None, "hashtags": "[]",
              "media": media, "needs_approval": False, "grace_seconds": 3600, "warnings": "[]", "content_hash": "0" * 32,
              "state": state, "idempotency_key": post_id[:64], "remote_id": remote_id, "remote_url": f"https://example/{remote_id}",
              "attempts": 1, "transient_failures": 0, "published_at": to_db(published_at), "updated_at": to_db(published_at),
              **extra}
    with store.engine.begin() as conn:
        conn.execute(insert(posts).values(**values))


class World:
    """An X and a Mastodon emulator on one campaign clock, their publishers, and a store."""

    def __init__(self, tmp: Path, media_dir: Path) -> None:
        self.clock = FakeClock(START)
        self.store = Store(f"sqlite:///{tmp / 'results.db'}")
        self.emulators = {p: start_emulator(p, token=FAKE_TOKEN, account=ACCOUNTS[p], clock=self.clock) for p in ("x", "mastodon")}
        self.publishers = {f"be-{p}": publisher_for(channel(p), credentials=Credentials(f"be-{p}", p, {"TOKEN": FAKE_TOKEN}),
                                                    api_overrides={"base_url": e.api_url}, timeout=5.0, clock=self.clock)
                           for p, e in self.emulators.items()}
        self.media_dir = media_dir

    def publish(self, platform: str, n: int, *, moment: str = "pride-2027", language: str = "en") -> str:
        post = make_post(platform, make_media(self.media_dir, "photo"), post_id=f"{moment}.2027.be-{platform}.{language}.{n}",
                         text=f"post {n} #EmbracingOpenness")
        result = self.publishers[f"be-{platform}"].publish(post)
        add_published(self.store, post.post_id, channel_id=f"be-{platform}", platform=platform, remote_id=result.remote_id,
                      published_at=self.clock.now(), moment_id=moment, language=language)
        return post.post_id

    def collector(self, **options) -> Collector:  # type: ignore[no-untyped-def]
        return Collector(self.store, self.clock, lambda channel_id: self.publishers[channel_id], **options)

    def close(self) -> None:
        for publisher in self.publishers.values():
            publisher.close()
        for emulator in self.emulators.values():
            emulator.stop()
        self.store.close()


@pytest.fixture
def world(tmp_path: Path, media_dir: Path) -> Iterator[World]:
    made = World(tmp_path, media_dir)
    yield made
    made.close()
