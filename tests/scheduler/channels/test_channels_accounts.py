"""Two channels on one platform are two accounts: the emulators know the account by its
token, and duplicates, idempotency keys, record keys and look-ups are per account, as on
the real APIs. The sandbox gives every channel its own account."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from campaign.calendar.loader import load_calendar
from testkit.channels import ACCOUNTS, make_media, make_post
from scheduler.platforms.base import AuthError, OutcomeUnknown, OutgoingPost
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from emulators import Sandbox

REPO = Path(__file__).resolve().parents[3]
PLATFORMS = ["facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"]
OTHER = {"facebook": "BelgiumInCanada", "instagram": "17841400000000002", "x": "BelgiumInJapan",
         "linkedin": "urn:li:organization:5555", "mastodon": "@embassy@mastodon.example", "bluesky": "belgiumusa.bsky.social"}
SAME_TEXT = "Belgian National Day #EmbracingOpenness https://www.belgium.be/en?utm_source=x&utm_content=en"


def on_channel(post: OutgoingPost, channel_id: str, account: str, post_id: str | None = None) -> OutgoingPost:
    return dataclasses.replace(post, channel_id=channel_id, account=account, post_id=post_id or post.post_id)


def test_sandbox_x_channels_are_two_accounts_and_duplicates_are_per_account(media_dir: Path) -> None:
    calendar = load_calendar(REPO / "calendar.yaml").calendar
    with Sandbox(calendar, media_dir) as sandbox:
        tokens = {cid: sandbox.credentials(cid)["TOKEN"] for cid in ("be-x", "embassy-tokyo")}
        assert tokens["be-x"] != tokens["embassy-tokyo"]
        publishers = {cid: publisher_for(calendar.channel(cid), credentials=Credentials(cid, "x", sandbox.credentials(cid)),
                                         api_overrides=sandbox.overrides(cid), timeout=5, poll_interval=0.01)
                      for cid in tokens}
        post = make_post("x", make_media(media_dir, "photo"), text=SAME_TEXT, language="en")
        try:
            results = {cid: publishers[cid].publish(on_channel(post, cid, calendar.channel(cid).account)) for cid in tokens}
            with pytest.raises(OutcomeUnknown, match="duplicate"):  # the same account twice: X's 403
                publishers["be-x"].publish(on_channel(post, "be-x", "Belgium", post_id="again"))
        finally:
            for publisher in publishers.values():
                publisher.close()

        emulator = sandbox.emulator("x")
        assert emulator.accounts == ["Belgium", "BelgiumInJapan"]
        for cid, account in (("be-x", "Belgium"), ("embassy-tokyo", "BelgiumInJapan")):
            [entry] = emulator.published_by(account)
            assert entry["id"] == results[cid].remote_id and entry["account"] == account and entry["text"] == SAME_TEXT
            assert entry["media"][0]["kind"] == "image"
            assert dt.datetime.fromisoformat(entry["received_at"]).tzinfo is not None
            [received] = sandbox.received(cid)
            assert received == {**entry, "platform": "x", "channel_id": cid}
        assert [e["channel_id"] for e in sandbox.received()] == ["be-x", "embassy-tokyo"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_same_post_on_two_accounts_is_two_posts(rigs, media_dir: Path, platform: str) -> None:
    """Same text (X, Facebook duplicate checks), same Idempotency-Key (Mastodon), same record key (Bluesky)."""
    r = rigs(platform)
    other = r.publisher_as(OTHER[platform])
    post = make_post(platform, make_media(media_dir, "photo"), text=SAME_TEXT)
    try:
        first = r.publisher.publish(post)
        second = other.publish(on_channel(post, f"other-{platform}", OTHER[platform]))
    finally:
        other.close()
    assert first.remote_id != second.remote_id
    assert r.emulator.accounts == [ACCOUNTS[platform], OTHER[platform]]
    for account, result in ((ACCOUNTS[platform], first), (OTHER[platform], second)):
        [entry] = r.emulator.published_by(account)
        assert entry["id"] == result.remote_id and entry["account"] == account and entry["text"] == SAME_TEXT


@pytest.mark.parametrize("platform", ["mastodon", "bluesky"])
def test_find_existing_looks_only_at_the_channels_own_account(rigs, media_dir: Path, platform: str) -> None:
    r = rigs(platform)
    other = r.publisher_as(OTHER[platform])
    post = make_post(platform, None, text=SAME_TEXT)
    try:
        published = r.publisher.publish(post)
        assert other.find_existing(on_channel(post, f"other-{platform}", OTHER[platform])) is None
        found = r.publisher.find_existing(post)
    finally:
        other.close()
    assert found is not None and found.remote_id == published.remote_id


@pytest.mark.parametrize("platform", ["facebook", "instagram", "linkedin", "bluesky"])
def test_a_token_acts_only_as_its_own_account(rigs, media_dir: Path, platform: str) -> None:
    """A Page token cannot post on another Page (nor a handle sign in with another's password)."""
    r = rigs(platform)
    r.emulator.add_account(OTHER[platform])
    impostor = r.publisher_as(OTHER[platform], token=r.emulator.token)
    try:
        with pytest.raises(AuthError):
            impostor.publish(on_channel(make_post(platform, make_media(media_dir, "photo")), f"other-{platform}", OTHER[platform]))
    finally:
        impostor.close()
    assert not r.emulator.published


def test_an_unknown_token_is_refused(rigs, media_dir: Path) -> None:
    r = rigs("x")
    stranger = r.publisher_as("nobody", token="a-token-x-never-issued")
    try:
        with pytest.raises(AuthError):
            stranger.publish(make_post("x", None, text=SAME_TEXT))
    finally:
        stranger.close()
    assert not r.emulator.published
