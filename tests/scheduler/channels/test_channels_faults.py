"""Each injected fault becomes the right error class, with the wait read from the
platform's own signal, and a dropped answer is resolved without a second post where the
platform allows it (Mastodon's Idempotency-Key, Bluesky's record key)."""

from __future__ import annotations

import pytest

from testkit.channels import make_media, make_post
from scheduler.platforms.graph import INSTAGRAM_QUOTA_WAIT
from scheduler.platforms.base import AuthError, OutcomeUnknown, PermanentError, RateLimited, TransientError
from scheduler.platforms.linkedin.publisher import DEFAULT_RATE_WAIT as LINKEDIN_WAIT

PLATFORMS = ["facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"]
NO_IDEMPOTENCY = ["facebook", "instagram", "x", "linkedin"]
EXPECTED_WAIT = {"facebook": 120, "instagram": 120, "x": 120, "linkedin": LINKEDIN_WAIT, "mastodon": 120, "bluesky": 120}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_rate_limit_wait_comes_from_the_platform_signal(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    r.emulator.inject("rate_limit", retry_after=120)
    with pytest.raises(RateLimited) as caught:
        r.publisher.publish(make_post(platform, make_media(media_dir, "photo")))
    assert caught.value.retry_after == pytest.approx(EXPECTED_WAIT[platform], abs=1.5)
    assert not r.emulator.published


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_error_is_transient_then_retry_publishes(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    r.emulator.inject("server_error")
    post = make_post(platform, make_media(media_dir, "photo"))
    with pytest.raises(TransientError):
        r.publisher.publish(post)
    r.publisher.publish(post)
    assert len(r.emulator.published) == 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_timeout_before_the_post_is_transient(rigs, media_dir, platform: str) -> None:
    r = rigs(platform, timeout=0.3)
    r.emulator.inject("timeout", seconds=0.8)
    with pytest.raises(TransientError):
        r.publisher.publish(make_post(platform, make_media(media_dir, "clip")))
    assert not r.emulator.published


@pytest.mark.parametrize("platform", NO_IDEMPOTENCY)
def test_timeout_on_the_creating_request_is_outcome_unknown(rigs, media_dir, platform: str) -> None:
    r = rigs(platform, timeout=0.3)
    r.emulator.inject("timeout", seconds=0.8, on="create")
    with pytest.raises(OutcomeUnknown):
        r.publisher.publish(make_post(platform, make_media(media_dir, "photo")))


@pytest.mark.parametrize("platform", ["facebook", "instagram", "x", "linkedin", "mastodon"])
def test_expired_token_is_an_auth_error_naming_the_account(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    r.emulator.inject("expired_token")
    with pytest.raises(AuthError) as caught:
        r.publisher.publish(make_post(platform, make_media(media_dir, "photo")))
    assert r.publisher.account in str(caught.value) and "be-" + platform in str(caught.value)


def test_bluesky_refreshes_an_expired_session(rigs, media_dir) -> None:
    r = rigs("bluesky")
    r.emulator.inject("expired_token")
    r.publisher.publish(make_post("bluesky", make_media(media_dir, "photo")))
    assert len(r.emulator.published) == 1
    assert any(p.endswith("refreshSession") for _, p in r.emulator.requests)


def test_bluesky_failed_refresh_is_an_auth_error(rigs, media_dir) -> None:
    r = rigs("bluesky")
    r.emulator.inject("expired_token", refresh_fails=True)
    with pytest.raises(AuthError) as caught:
        r.publisher.publish(make_post("bluesky", make_media(media_dir, "photo")))
    assert "campaign.bsky.social" in str(caught.value)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_slow_processing_gives_up_as_transient(rigs, media_dir, platform: str) -> None:
    r = rigs(platform, max_processing_wait=5.0)
    r.emulator.inject("slow_processing", polls=1000)
    with pytest.raises(TransientError, match="still processing"):
        r.publisher.publish(make_post(platform, make_media(media_dir, "clip")))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_slow_processing_within_the_limit_publishes(rigs, media_dir, platform: str) -> None:
    r = rigs(platform, max_processing_wait=10.0)
    r.emulator.inject("slow_processing", polls=4)
    start = r.clock.now()
    r.publisher.publish(make_post(platform, make_media(media_dir, "clip")))
    assert len(r.emulator.published) == 1
    assert (r.clock.now() - start).total_seconds() >= 4  # waited on the injected clock, not for real


@pytest.mark.parametrize("platform", PLATFORMS)
def test_processing_failure_is_permanent(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    r.emulator.inject("processing_failed", reason="unsupported audio codec")
    with pytest.raises(PermanentError):
        r.publisher.publish(make_post(platform, make_media(media_dir, "clip")))


def test_instagram_quota_exhausted(rigs, media_dir) -> None:
    r = rigs("instagram")
    r.emulator.inject("quota_exhausted")
    with pytest.raises(RateLimited) as caught:
        r.publisher.publish(make_post("instagram", make_media(media_dir, "photo")))
    assert caught.value.retry_after == INSTAGRAM_QUOTA_WAIT and "50" in str(caught.value)
    assert caught.value.platform_code == "9/2207042"


def test_instagram_fails_like_meta_when_it_cannot_fetch_the_media(rigs, media_dir) -> None:
    from dataclasses import replace

    r = rigs("instagram")
    media = replace(make_media(media_dir, "photo"), relative_path="nobody/missing.jpg")
    with pytest.raises(PermanentError, match="2207052"):
        r.publisher.publish(make_post("instagram", media))


@pytest.mark.parametrize("platform", NO_IDEMPOTENCY)
def test_dropped_answer_is_outcome_unknown_where_nothing_can_tell(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    r.emulator.inject("drop_after_create")
    post = make_post(platform, make_media(media_dir, "photo"))
    with pytest.raises(OutcomeUnknown):
        r.publisher.publish(post)
    assert len(r.emulator.published) == 1  # it did go out
    assert r.publisher.can_find_existing is False
    with pytest.raises(OutcomeUnknown):
        r.publisher.find_existing(post)


@pytest.mark.parametrize("platform,kind", [("facebook", None), ("x", "photo")])
def test_retry_after_a_drop_is_refused_as_duplicate_and_stays_unknown(rigs, media_dir, platform: str, kind) -> None:
    """A repeated X post or Facebook status is refused as a duplicate (and the refusal counted)."""
    r = rigs(platform)
    r.emulator.inject("drop_after_create")
    post = make_post(platform, make_media(media_dir, kind) if kind else None)
    with pytest.raises(OutcomeUnknown):
        r.publisher.publish(post)
    with pytest.raises(OutcomeUnknown, match="duplicate"):
        r.publisher.publish(post)
    assert len(r.emulator.published) == 1 and len(r.emulator.duplicate_refusals) == 1


@pytest.mark.parametrize("kind", ["photo", "clip"])
def test_facebook_posts_a_repeated_photo_or_video_again_as_facebook_does(rigs, media_dir, kind: str) -> None:
    """Only statuses get code 506; a blind retry of a photo or video duplicates it, so the
    daemon must never re-send after "create sent" (the emulator must not hide that)."""
    r = rigs("facebook")
    post = make_post("facebook", make_media(media_dir, kind))
    r.publisher.publish(post)
    r.publisher.publish(post)
    assert len(r.emulator.published) == 2 and r.emulator.duplicate_refusals == []


def test_linkedin_refuses_a_repeated_post_and_the_publisher_recognises_its_own(rigs) -> None:
    """LinkedIn's 422 DUPLICATE_POST names the post that has the text: once read back (this
    account's, this text) it is this post, published with that id, never "failed" (issue 23, 3)."""
    r = rigs("linkedin")
    post = make_post("linkedin", None)
    first = r.publisher.publish(post)
    again = r.publisher.publish(post)
    assert (again.remote_id, again.url) == (first.remote_id, first.url)
    assert len(r.emulator.published) == 1 and len(r.emulator.duplicate_refusals) == 1
    r.clock.advance(25 * 3600)  # LinkedIn's duplicate memory is reported as a day or two
    r.publisher.publish(post)
    assert len(r.emulator.published) == 2


def test_linkedin_after_a_lost_answer_a_retry_finds_the_post_it_made(rigs) -> None:
    r = rigs("linkedin")
    r.emulator.inject("drop_after_create")
    post = make_post("linkedin", None)
    with pytest.raises(OutcomeUnknown):
        r.publisher.publish(post)
    result = r.publisher.publish(post)  # a person chose "retry": LinkedIn refuses the text, naming the post
    assert [p["id"] for p in r.emulator.published] == [result.remote_id]


def test_linkedin_a_duplicate_it_cannot_read_back_is_unknown_not_failed(rigs, monkeypatch) -> None:
    r = rigs("linkedin")
    post = make_post("linkedin", None)
    first = r.publisher.publish(post)
    real = r.publisher.request

    def no_read(method, url, **kwargs):  # type: ignore[no-untyped-def]
        if method == "GET":
            raise AuthError("lacks r_organization_social")
        return real(method, url, **kwargs)

    monkeypatch.setattr(r.publisher, "request", no_read)
    with pytest.raises(OutcomeUnknown, match=first.remote_id):
        r.publisher.publish(post)


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
@pytest.mark.parametrize("kind", ["photo", "clip"])
def test_retry_after_a_drop_does_not_post_twice(rigs, media_dir, platform: str, kind: str) -> None:
    r = rigs(platform)
    r.emulator.inject("drop_after_create")
    post = make_post(platform, make_media(media_dir, kind))
    if platform == "bluesky":  # the answer was lost: it reads its record key back at once
        assert r.publisher.publish(post).remote_id == r.emulator.published[0]["id"]
    else:
        with pytest.raises(TransientError):
            r.publisher.publish(post)
    assert r.publisher.can_find_existing
    found = r.publisher.find_existing(post)
    assert found is not None and found.remote_id == r.emulator.published[0]["id"]
    result = r.publisher.publish(post)
    assert len(r.emulator.published) == 1
    assert result.remote_id == r.emulator.published[0]["id"]


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_find_existing_is_none_before_publishing(rigs, media_dir, platform: str) -> None:
    r = rigs(platform)
    assert r.publisher.find_existing(make_post(platform, make_media(media_dir, "photo"))) is None
