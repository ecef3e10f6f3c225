"""Test kit for the store and daemon tests: posts, a ledger publisher, PostgreSQL schemas.

`LedgerPublisher` is a real `Publisher`: it appends one receipt per created post to a JSON
lines file (fsynced, O_APPEND), so a test can count what a killed process really published.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Iterator

from scheduler.platforms.base import OutgoingPost, PublishResult, Publisher, StepLedger
from scheduler.daemon.crash import crash_point
from campaign.post import PlannedPost, post_id

UTC = dt.timezone.utc
PG_URL = os.environ.get("CAMPAIGN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START = dt.datetime(2027, 5, 1, 6, 0, tzinfo=UTC)


def make_post(moment: str, channel: str = "be-x", at: dt.datetime = START, *, language: str = "en",
              needs_approval: bool = False, grace_seconds: int = 3600, caption: str | None = None,
              platform: str = "x") -> PlannedPost:
    return PlannedPost(
        id=post_id(moment, at.year, channel, language), moment_id=moment, occurrence=at.year, channel_id=channel,
        platform=platform, account=f"{channel}-account", language=language, scheduled_at=at, local_time=at,
        caption=caption or f"{moment} in {language}", link=None, hashtags=("EmbracingOpenness",), media=None,
        needs_approval=needs_approval, grace_seconds=grace_seconds)


def month_of_posts(count: int = 60, channels: tuple[str, ...] = ("be-x", "be-facebook", "embassy-tokyo"),
                   start: dt.datetime = START) -> list[PlannedPost]:
    """`count` posts spread over 30 days, round-robin over channels."""
    step = dt.timedelta(days=30) / count
    return [make_post(f"m{i:04d}", channels[i % len(channels)], start + step * i) for i in range(count)]


class LedgerPublisher(Publisher):
    platform = "ledger"

    def __init__(self, ledger: Path, *, can_find_existing: bool = False, faults: list[Exception] | None = None) -> None:
        self.ledger = ledger
        self.can_find_existing = can_find_existing  # type: ignore[misc]
        self.faults = list(faults or [])
        self.calls: list[str] = []

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        self.calls.append(post.post_id)
        if self.faults:
            raise self.faults.pop(0)
        (ledger or StepLedger()).create_sent()
        remote = uuid.uuid4().hex[:12]
        line = json.dumps({"post_id": post.post_id, "key": post.idempotency_key, "remote_id": remote,
                           "pid": os.getpid()}) + "\n"
        fd = os.open(self.ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        crash_point("request_sent")  # the platform created it; the answer never arrives
        return PublishResult(remote_id=remote, url=f"https://ledger.example/{remote}")

    def find_existing(self, post: OutgoingPost) -> PublishResult | None:
        if not self.can_find_existing:
            return super().find_existing(post)
        for receipt in read_ledger(self.ledger):
            if receipt["key"] == post.idempotency_key:
                return PublishResult(remote_id=receipt["remote_id"], url=None)
        return None


def read_ledger(ledger: Path) -> Iterator[dict]:
    if ledger.exists():
        for line in ledger.read_text().splitlines():
            if line.strip():
                yield json.loads(line)


def receipts(ledger: Path) -> Counter:
    return Counter(r["post_id"] for r in read_ledger(ledger))


def pg_schema() -> tuple[str, str]:
    """Create a fresh schema on the test server; returns (url, schema). Skips only if unreachable."""
    import psycopg
    import pytest

    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(plain, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as error:
        why = f"PostgreSQL at {plain} is unreachable, so the PostgreSQL store tests did not run: {error}"
        if os.environ.get("CAMPAIGN_REQUIRE_PG"):  # CI has the server: there, a missing one is a failure
            pytest.fail(why)
        pytest.skip(why + " (set CAMPAIGN_TEST_PG_URL to a server you have)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return PG_URL, schema


def drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def render_stand_ins(posts: list, build: Path) -> None:
    """Small stand-ins for rendered media at the planned sizes (solid colour, 3 s clips)."""
    import imageio_ffmpeg
    from PIL import Image

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for media in {p.media for p in posts if p.media}:
        target = build / media.path
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if media.kind == "photo":
            Image.new("RGB", (media.width, media.height), (253, 218, 36)).save(target, quality=60)
        else:
            subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i",
                            f"color=c=yellow:s={media.width // 4 * 2}x{media.height // 4 * 2}:d=3:r=25", "-f", "lavfi", "-i",
                            "anullsrc=r=44100:cl=stereo", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-r", "25",
                            "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(target)], check=True)
