"""Each platform's collector against its emulator: the figures in the platform's own shape, growing
with the post's age, and the platform's real answers for a missing permission and a rate limit."""

from __future__ import annotations

import datetime as dt

import pytest
from testkit.channels import make_media, make_post

from scheduler.platforms.base import RateLimited
from emulators import metrics
from scheduler.platforms.figures import FiguresNotGiven
from campaign.platforms import PLATFORMS as SPECS
from scheduler.platforms.registry import PLATFORMS as ROWS
from scheduler.platforms.registry import collector_for

PLATFORMS = [name for name, row in ROWS.items() if row.collect is not None]

HOUR = dt.timedelta(hours=1)
#: what each platform gives (True) and leaves out (False) for a photo post
GIVES = {
    "bluesky": {"impressions": False, "reach": False, "likes": True, "reposts": True, "replies": True, "link_clicks": False},
    "mastodon": {"impressions": False, "reach": False, "likes": True, "reposts": True, "replies": True, "link_clicks": False},
    "x": {"impressions": True, "reach": False, "likes": True, "reposts": True, "replies": True, "link_clicks": True},
    "facebook": {"impressions": True, "reach": True, "likes": True, "reposts": True, "replies": True, "link_clicks": True},
    "instagram": {"impressions": True, "reach": True, "likes": True, "reposts": True, "replies": True, "link_clicks": False},
    "linkedin": {"impressions": True, "reach": True, "likes": True, "reposts": True, "replies": True, "link_clicks": True},
    "threads": {"impressions": True, "reach": False, "likes": True, "reposts": True, "replies": True, "link_clicks": False},
    # (a clip: YouTube takes no photos)
    "youtube": {"impressions": True, "reach": False, "likes": True, "reposts": False, "replies": True, "link_clicks": False},
}


def _published(rigs, platform: str, kind: str = "photo"):  # type: ignore[no-untyped-def]
    kind = kind if SPECS[platform].photos else "clip"
    rig = rigs(platform)
    post = make_post(platform, make_media(rig.media_dir, kind))
    result = rig.publisher.publish(post)
    return rig, result


@pytest.fixture
def rigs(rigs, media_dir):  # type: ignore[no-untyped-def]  # noqa: F811
    def make(platform: str, **options):  # type: ignore[no-untyped-def]
        made = rigs(platform, **options)
        made.media_dir = media_dir
        return made

    return make


@pytest.mark.parametrize("platform", PLATFORMS)
def test_figures_in_each_platforms_shape_grow_with_age(rigs, platform: str) -> None:
    rig, result = _published(rigs, platform)
    collect = collector_for(platform)
    rig.clock.advance(HOUR)
    early = collect(rig.publisher, result.remote_id, "photo")
    rig.clock.advance(dt.timedelta(days=7))
    late = collect(rig.publisher, result.remote_id, "photo")
    assert early.not_given is None and late.not_given is None
    for name, given in GIVES[platform].items():
        assert (getattr(late, name) is not None) is given, f"{platform} {name}"
        if given:
            assert getattr(late, name) >= getattr(early, name), f"{platform} {name} shrank"
    assert late.likes > early.likes  # most of the reach comes in the first day, but it still grows
    # the emulator's seeded figure for this post at 7 days + 1 hour is what the collector read
    age = (dt.timedelta(days=7) + HOUR).total_seconds()
    assert late.likes >= metrics.figure(rig.emulator, result.remote_id, "likes", age)  # Facebook adds "love" to likes
    assert late.raw  # the platform's own names are kept beside the normalised set


def test_video_views_come_from_the_video_endpoints(rigs) -> None:
    for platform in ("facebook", "x", "instagram"):
        rig, result = _published(rigs, platform, "clip")
        rig.clock.advance(dt.timedelta(hours=24))
        figures = collector_for(platform)(rig.publisher, result.remote_id, "clip")
        assert figures.video_views and figures.video_views > 0, platform


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_missing_permission_is_said_not_zeroed(rigs, platform: str) -> None:
    rig, result = _published(rigs, platform)
    metrics.deny(rig.emulator, rig.emulator.accounts[0])
    rig.clock.advance(HOUR)
    with pytest.raises(FiguresNotGiven) as caught:
        collector_for(platform)(rig.publisher, result.remote_id, "photo")
    assert "no figures" in str(caught.value) and "FAKE-SECRET" not in str(caught.value)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_rate_limit_says_how_long_to_wait(rigs, platform: str) -> None:
    rig, result = _published(rigs, platform)
    rig.emulator.inject("rate_limit", on="metrics", retry_after=900)
    with pytest.raises(RateLimited) as caught:
        collector_for(platform)(rig.publisher, result.remote_id, "photo")
    assert caught.value.retry_after > 0
    # the limit was on figures only: the next read works
    assert collector_for(platform)(rig.publisher, result.remote_id, "photo").likes is not None


def test_x_link_clicks_only_for_the_authors_recent_posts(rigs) -> None:
    rig, result = _published(rigs, "x")
    rig.clock.advance(dt.timedelta(days=31))
    figures = collector_for("x")(rig.publisher, result.remote_id, "photo")
    assert figures.link_clicks is None and figures.impressions  # X gives non-public metrics for 30 days only
    assert any("non_public_metrics" in e for e in figures.raw.get("errors", []))
