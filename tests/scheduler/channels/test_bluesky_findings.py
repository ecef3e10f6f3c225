"""Issue 11, findings 2 and 3, against the emulator (which replays what the real PDS answered;
the same behaviours run against the real @atproto/pds in test_bluesky_pds_contract.py).

The publisher runs on a campaign clock in 2027 (as in a rehearsal): auth times must not follow it."""

from __future__ import annotations

from typing import Iterator

import pytest

from testkit.channels import FAKE_TOKEN, START, channel, make_media, make_post
from campaign.clock import FakeClock
from scheduler.platforms.base import Publisher, TransientError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import start_emulator
from emulators.bluesky import BlueskyEmulator


@pytest.fixture
def bluesky() -> Iterator:  # type: ignore[type-arg]
    started: list[tuple[BlueskyEmulator, Publisher]] = []

    def make(**emulator_options: object) -> tuple[BlueskyEmulator, Publisher]:
        clock = FakeClock(START)
        emulator = start_emulator("bluesky", token=FAKE_TOKEN, account="campaign.bsky.social", clock=clock, **emulator_options)
        publisher = publisher_for(channel("bluesky"), credentials=Credentials("be-bluesky", "bluesky", {
            "IDENTIFIER": "campaign.bsky.social", "PASSWORD": FAKE_TOKEN}), api_overrides={
            "base_url": emulator.api_url, "video_base_url": emulator.base_url}, timeout=5.0, clock=clock,
            poll_interval=1.0, max_processing_wait=10.0)
        started.append((emulator, publisher))  # type: ignore[arg-type]
        return emulator, publisher  # type: ignore[return-value]

    yield make
    for emulator, publisher in started:
        publisher.close()
        emulator.stop()


def test_a_retry_whose_record_key_is_taken_returns_the_post_not_a_failure(bluesky, media_dir) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: the real PDS answers a taken key with HTTP 500; retrying that to the limit
    would mark a live post failed. The publisher reads the key back instead."""
    emulator, publisher = bluesky()
    post = make_post("bluesky", make_media(media_dir, "photo"))
    first = publisher.publish(post)
    again = publisher.publish(post)  # e.g. the daemon retrying after an answer it never got
    assert again.remote_id == first.remote_id
    assert len(emulator.published) == 1
    assert ("POST", "/xrpc/com.atproto.repo.createRecord") in emulator.requests[-3:]
    assert emulator.requests[-1] == ("GET", "/xrpc/com.atproto.repo.getRecord")


def test_a_clip_goes_through_the_video_service_on_a_campaign_clock(bluesky, media_dir) -> None:  # type: ignore[no-untyped-def]
    """Finding 3: exp from the real clock (the campaign clock is months ahead: BadExpiration),
    aud = the account's PDS from the DID document (the emulator refuses the entry host)."""
    emulator, publisher = bluesky()
    publisher.publish(make_post("bluesky", make_media(media_dir, "clip")))
    assert ("POST", "/xrpc/app.bsky.video.uploadVideo") in emulator.requests
    [record] = emulator.published
    assert record["media"][0]["kind"] == "video"


def test_a_clip_the_video_service_already_processed_reuses_its_blob(bluesky, media_dir) -> None:  # type: ignore[no-untyped-def]
    emulator, publisher = bluesky()
    clip = make_media(media_dir, "clip")
    publisher.publish(make_post("bluesky", clip, post_id="one.2027.be-bluesky.ja.clip"))
    publisher.publish(make_post("bluesky", clip, post_id="two.2027.be-bluesky.ja.clip"))  # same file: already_exists
    first, second = emulator.published
    assert first["media"][0]["sha256"] == second["media"][0]["sha256"]


def test_a_pds_without_a_video_service_takes_the_clip_as_a_blob(bluesky, media_dir) -> None:  # type: ignore[no-untyped-def]
    emulator, publisher = bluesky(video_service=False)
    clip = make_media(media_dir, "clip")
    publisher.publish(make_post("bluesky", clip))
    [record] = emulator.published
    assert record["media"][0]["kind"] == "video" and record["alt_texts"] == [clip.alt_text]
    assert record["media"][0]["aspect_ratio"] == {"width": clip.width, "height": clip.height}
    assert ("POST", "/xrpc/com.atproto.repo.uploadBlob") in emulator.requests


def test_the_rate_limit_reset_is_read_on_the_real_clock_not_the_campaign_clock(bluesky, media_dir) -> None:  # type: ignore[no-untyped-def]
    from scheduler.platforms.base import RateLimited

    emulator, publisher = bluesky()
    emulator.inject("rate_limit", retry_after=90)
    with pytest.raises(RateLimited) as caught:
        publisher.publish(make_post("bluesky", make_media(media_dir, "photo")))
    assert caught.value.retry_after == pytest.approx(90, abs=1.5)


@pytest.mark.parametrize("did_doc_with_session", [True, False])
def test_the_service_token_names_the_accounts_own_pds_not_the_entry_host(bluesky, media_dir, did_doc_with_session: bool) -> None:  # type: ignore[no-untyped-def]
    """aud comes from the DID document (in the session, or from describeRepo when the PDS leaves
    it out); the emulator's entry is 127.0.0.1 while the document names localhost, so a token
    made out to the entry host is refused (BadJwtAudience)."""
    from campaign.clock import SystemClock

    emulator, publisher = bluesky(did_doc_with_session=did_doc_with_session)
    publisher.clock = publisher.real_clock = SystemClock()  # only the audience can be wrong here
    publisher.publish(make_post("bluesky", make_media(media_dir, "clip")))
    assert emulator.published[0]["media"][0]["kind"] == "video"
    assert (("GET", "/xrpc/com.atproto.repo.describeRepo") in emulator.requests) is not did_doc_with_session


def _self_hosted(emulator: BlueskyEmulator, **api: str) -> Publisher:
    return publisher_for(channel("bluesky"), credentials=Credentials("be-bluesky", "bluesky", {
        "IDENTIFIER": "campaign.bsky.social", "PASSWORD": FAKE_TOKEN}), api_overrides={"base_url": emulator.api_url, **api},
        timeout=5.0, clock=FakeClock(START), poll_interval=1.0, max_processing_wait=10.0)


def test_a_clip_on_a_self_hosted_pds_goes_to_the_accounts_own_service(media_dir) -> None:  # type: ignore[no-untyped-def]
    """A channel whose `api.base_url` is its own PDS, with no `video_base_url`: the clip goes to
    that PDS (which has no video service: the plain-blob path), never to video.bsky.app."""
    emulator = start_emulator("bluesky", token=FAKE_TOKEN, account="campaign.bsky.social", clock=FakeClock(START),
                              video_service=False)
    publisher = _self_hosted(emulator)
    try:
        publisher.publish(make_post("bluesky", make_media(media_dir, "clip")))
        assert ("POST", "/xrpc/app.bsky.video.uploadVideo") in emulator.requests  # asked its own PDS first
        [record] = emulator.published
        assert record["media"][0]["kind"] == "video"
        assert ("POST", "/xrpc/com.atproto.repo.uploadBlob") in emulator.requests
    finally:
        publisher.close()
        emulator.stop()


def test_an_unreachable_video_host_is_named_in_the_error(media_dir) -> None:  # type: ignore[no-untyped-def]
    emulator = start_emulator("bluesky", token=FAKE_TOKEN, account="campaign.bsky.social", clock=FakeClock(START))
    publisher = _self_hosted(emulator, video_base_url="http://127.0.0.1:9")  # nothing listens on the discard port
    try:
        with pytest.raises(TransientError, match=r"127\.0\.0\.1:9"):
            publisher.publish(make_post("bluesky", make_media(media_dir, "clip")))
    finally:
        publisher.close()
        emulator.stop()
