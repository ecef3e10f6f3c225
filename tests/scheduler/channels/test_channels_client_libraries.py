"""The platforms' own client libraries against our emulators (issue 11, the referees).

Mastodon.py and tweepy were written by others against the real servers: when they can
discover the instance, upload, post with an idempotency key, read a status back, or create a
tweet with an OAuth 2 user token through an emulator, the emulator speaks the real contract
and not only our publisher's idea of it.
"""

from __future__ import annotations

import io
from typing import Iterator

import pytest
import tweepy
from testkit.channels import tweepy_on
from mastodon import Mastodon
from PIL import Image

from emulators import Emulator, start_emulator

TOKEN = "library-referee-token-5d1e"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (250, 218, 36)).save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def mastodon_server() -> Iterator[Emulator]:
    emulator = start_emulator("mastodon", token=TOKEN, account="belgium@social.belgium.example")
    yield emulator
    emulator.stop()


@pytest.fixture
def x_server() -> Iterator[Emulator]:
    emulator = start_emulator("x", token=TOKEN, account="Belgium")
    yield emulator
    emulator.stop()


def test_mastodon_py_discovers_the_instance(mastodon_server) -> None:
    client = Mastodon(access_token=TOKEN, api_base_url=mastodon_server.base_url, version_check_mode="created")
    assert client.retrieve_mastodon_version(fail_hard=True) == "4.3.2"
    assert client.mastodon_api_version == 2
    v1, v2 = client.instance_v1(), client.instance_v2()
    assert v1.configuration.statuses.max_characters == 500 and v1.configuration.statuses.characters_reserved_per_url == 23
    assert v2.api_versions["mastodon"] == 2
    assert client.me().username == "belgium"


def test_mastodon_py_uploads_posts_once_per_idempotency_key_and_reads_back(mastodon_server) -> None:
    client = Mastodon(access_token=TOKEN, api_base_url=mastodon_server.base_url)
    media = client.media_post(_jpeg(), mime_type="image/jpeg", description="Aiko Tanaka in a Leuven lab")
    assert media.type == "image" and media.description == "Aiko Tanaka in a Leuven lab"
    text = "Others say it best: https://www.belgium.be/en #EmbracingOpenness"
    first = client.status_post(text, media_ids=[media], language="en", idempotency_key="science-day.be-mastodon.en")
    again = client.status_post(text, media_ids=[media], language="en", idempotency_key="science-day.be-mastodon.en")
    assert again.id == first.id and len(mastodon_server.published) == 1
    read = client.status(first.id)
    assert read.id == first.id and read.language == "en"
    assert "https://www.belgium.be/en" in read.content
    assert [a.description for a in read.media_attachments] == ["Aiko Tanaka in a Leuven lab"]


def test_mastodon_py_sees_a_refusal_as_an_error(mastodon_server) -> None:
    from mastodon import MastodonAPIError

    client = Mastodon(access_token=TOKEN, api_base_url=mastodon_server.base_url)
    with pytest.raises(MastodonAPIError):
        client.status_post("x" * 501, language="en")


def _tweepy(x_server: Emulator, token: str = TOKEN) -> tweepy.Client:
    return tweepy_on(x_server, token)


def test_tweepy_creates_a_tweet_with_an_oauth2_user_token(x_server) -> None:
    client = _tweepy(x_server)
    me = client.get_me(user_auth=False)
    assert me.data.username == "Belgium"
    text = "Belgium, seen by others: imec.be ベルギー 🇧🇪"
    created = client.create_tweet(text=text, user_auth=False)
    assert created.data["text"] == text and created.data["id"]
    assert [p["text"] for p in x_server.published] == [text]
    with pytest.raises(tweepy.Forbidden):  # the same text again is refused as duplicate content
        client.create_tweet(text=text, user_auth=False)


def test_tweepy_gets_x_errors_in_x_shape(x_server) -> None:
    with pytest.raises(tweepy.BadRequest) as caught:
        _tweepy(x_server).create_tweet(text="Belgium\ufeff", user_auth=False)
    assert "not allowed" in str(caught.value)
    with pytest.raises(tweepy.Unauthorized):
        _tweepy(x_server, token="not-a-token").create_tweet(text="hello", user_auth=False)


def test_mastodon_py_waits_for_a_clip_to_be_processed(mastodon_server, media_dir, monkeypatch) -> None:
    """Video is processed after a 202; Mastodon.py polls GET /api/v1/media/:id until it has a URL."""
    import time
    from types import SimpleNamespace

    import mastodon.media

    polls: list[float] = []
    # Mastodon.py sleeps 5 s after each poll (10 s here); its loop runs unchanged with 0.05 s
    monkeypatch.setattr(mastodon.media, "time", SimpleNamespace(sleep=lambda seconds: polls.append(seconds) or time.sleep(0.05)))
    client = Mastodon(access_token=TOKEN, api_base_url=mastodon_server.base_url)
    clip = media_dir / "aiko-tanaka" / "clip.ja.mp4"
    with clip.open("rb") as handle:  # given a path, Mastodon.py opens the file and never closes it
        media = client.media_post(handle, mime_type="video/mp4", description="Aiko Tanaka speaks", synchronous=True)
    assert media.url and media.type == "video" and len(polls) >= 2  # it polled while the clip was processing
    status = client.status_post("Aiko on research in Belgium", media_ids=[media], language="ja")
    assert mastodon_server.published[0]["media"][0]["kind"] == "video" and status.id


def test_tweepy_reads_several_tweets_by_id(x_server) -> None:
    client = _tweepy(x_server)
    first = client.create_tweet(text="Belgium, seen by others: one", user_auth=False).data["id"]
    second = client.create_tweet(text="Belgium, seen by others: two", user_auth=False).data["id"]
    got = client.get_tweets([first, second, "1"], tweet_fields=["public_metrics"], user_auth=False)
    assert [t.id for t in got.data] == [int(first), int(second)]
    assert [t.text for t in got.data] == ["Belgium, seen by others: one", "Belgium, seen by others: two"]
    assert got.data[0].public_metrics is not None
    assert [e["value"] for e in got.errors] == ["1"]  # the missing one, in X's shape


def test_mastodon_py_reads_attachments_and_hashtag_links_as_mastodon_serves_them(mastodon_server) -> None:
    from html.parser import HTMLParser

    client = Mastodon(access_token=TOKEN, api_base_url=mastodon_server.base_url)
    media = client.media_post(_jpeg(), mime_type="image/jpeg", description="The Atomium at dusk")
    text = "Open doors, open minds #EmbracingOpenness #Belgium2027 (not a tag: #2027, it&#39;s fine)"
    read = client.status(client.status_post(text, media_ids=[media], language="en").id)
    [attachment] = read.media_attachments
    assert attachment.type == "image" and attachment.url and attachment.preview_url
    assert attachment.description == "The Atomium at dusk" and attachment.meta.original.width == 640

    found_links: list[tuple[str, str]] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
            found = dict(attrs)
            if tag == "a" and "hashtag" in (found.get("class") or "").split():
                found_links.append((found.get("rel") or "", found.get("href") or ""))

    Links().feed(read.content)
    assert [href.rsplit("/tags/", 1)[-1] for rel, href in found_links if rel == "tag"] == ["EmbracingOpenness", "Belgium2027"]
    assert [t.name for t in read.tags] == ["embracingopenness", "belgium2027"]
