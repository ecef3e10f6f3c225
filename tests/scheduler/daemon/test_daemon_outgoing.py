"""What the daemon hands a publisher is the planned post, link included (issue 11, finding 1:
the link was dropped, so Bluesky showed the shortened link as plain text with no target)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.clock import FakeClock
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.daemon.outgoing import to_outgoing
from scheduler.daemon.publishers import PublisherPool
from scheduler.plan import plan_posts
from scheduler.platforms.bluesky.text import bluesky_display_link
from scheduler.store import states, sync_plan

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date(2026, 11, 1)
UTC = dt.timezone.utc


def _post_with_link(store, tmp_path: Path, platform: str):  # type: ignore[no-untyped-def]
    loaded = load_calendar(ROOT / "calendar.yaml", today=TODAY)
    plan = plan_posts(loaded, build_dir=tmp_path / "build", today=TODAY)
    sync_plan(store, plan, dt.datetime(2026, 11, 1, tzinfo=UTC))
    posts = [p for p in store.all_posts() if p.platform == platform and p.link and p.media]
    assert posts, f"the sample calendar has no {platform} post with a link and media"
    _stand_in(posts[0].media, tmp_path / "build")
    return loaded, posts[0]


def _stand_in(media, build: Path) -> None:  # type: ignore[no-untyped-def]
    """A small file at the planned path and size (a 2 s clip), as the render pipeline would leave."""
    import subprocess

    import imageio_ffmpeg
    from PIL import Image

    target = build / media.path
    target.parent.mkdir(parents=True, exist_ok=True)
    if media.kind == "photo":
        Image.new("RGB", (media.width, media.height), (253, 218, 36)).save(target, quality=60)
        return
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    f"color=c=yellow:s={media.width}x{media.height}:d=2:r=25", "-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo",
                    "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-movflags", "+faststart", str(target)], check=True, timeout=120)


def test_the_outgoing_post_carries_the_planned_link(sqlite_store, tmp_path: Path) -> None:
    _, post = _post_with_link(sqlite_store, tmp_path, "bluesky")
    outgoing = to_outgoing(post, build_dir=tmp_path / "build")
    assert outgoing.link == post.link and "utm_source=" in outgoing.link
    assert outgoing.text == post.caption


@pytest.mark.slow  # encodes a clip with ffmpeg
def test_a_bluesky_post_published_by_the_daemon_links_its_short_form_to_the_full_link(sqlite_store, tmp_path: Path) -> None:
    from emulators import Sandbox

    loaded, post = _post_with_link(sqlite_store, tmp_path, "bluesky")
    clock = FakeClock(post.scheduled_at)
    with Sandbox(loaded.calendar, tmp_path / "build") as box:
        pool = PublisherPool(lambda: loaded.calendar, sandbox=box, outbox_dir=tmp_path / "outbox", timeout=10)
        dispatcher = Dispatcher(sqlite_store, clock, pool, calendar=loaded.calendar,
                                config=DispatchConfig(build_dir=tmp_path / "build"))
        dispatcher.run_once()  # everything due by then (posts without rendered media wait for it)
        stored = sqlite_store.get(post.id)
        assert stored is not None and stored.state == states.PUBLISHED, stored and stored.last_error
        record = next(e for e in box.received(post.channel_id) if e["id"] == stored.remote_id)
    links = [(f["index"], f["features"][0]["uri"]) for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
    raw = post.caption.encode("utf-8")
    shown = {raw[i["byteStart"]:i["byteEnd"]].decode("utf-8"): uri for i, uri in links}
    assert shown.get(bluesky_display_link(post.link)) == post.link, shown
    # and the rehearsal's check, which reads the record as a reader would, finds nothing amiss
    from application.rehearsal import Received, links_seen
    from application.rehearsal_report import compare

    item = Received(channel_id=post.channel_id, platform="bluesky", account=record["account"], remote_id=record["id"],
                    text=record["text"], media=record["media"], created_at=None,
                    links=links_seen(record["text"], record["facets"]), language=record["language"],
                    alt_texts=record["alt_texts"])
    assert compare([stored], [item], tmp_path / "build") == []
