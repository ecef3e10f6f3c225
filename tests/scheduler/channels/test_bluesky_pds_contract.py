"""The project's Bluesky publisher against the REAL @atproto/pds (a referee this project did not
write), started once per session on 127.0.0.1 by ../shared/peers/bluesky-pds/start_pds.sh.

Each post is read back with getRecord / listRecords / sync.getBlob and compared with what was
meant: text, langs, facet byte ranges (computed here, independently of the planner) and
targets, alt text, aspectRatio, the blob's bytes and sniffed type, the video embed. Skips only
where the PDS cannot run and neither CI=true nor CAMPAIGN_REQUIRE_PDS=1 is set (pds_server.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any, Iterator

import pytest
import requests

from testkit import pds_cases
from testkit import pds_server
from testkit.channels import channel, make_media, make_post
from campaign.clock import FakeClock
from scheduler.platforms.base import OutgoingPost
from scheduler.platforms.bluesky.publisher import BlueskyPublisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from scheduler.platforms.bluesky.tid import is_tid

LINK = "https://www.belgium.be/en/embracing-openness?utm_source=bluesky&utm_medium=social&utm_campaign=science-day&utm_content=fr"
SHORT = "belgium.be/en/embracing-openn…"
TEXT = (f"« Ici, la recherche s’ouvre au monde » — Aiko Tanaka, 日本 🇯🇵\n\nOn ne dit pas que la Belgique est géniale, "
        f"d’autres le disent.\n{SHORT}\n#SciencePourTous #EmbracingOpenness")
#: a campaign clock months ahead of real time, as in a rehearsal: auth must not follow it
CAMPAIGN_NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
#: the first test may wait for a cold install (Node 22, the PDS, a better-sqlite3 build: minutes)
pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # starts the real PDS (Node)


@pytest.fixture(scope="session")
def real_pds() -> Iterator[dict[str, str]]:
    yield from pds_server.start()


@pytest.fixture
def publisher(real_pds: dict[str, str]) -> Iterator[BlueskyPublisher]:
    """The publisher as the daemon builds it, pointed at the PDS; its video service is the PDS
    itself, which has none (as a self-hosted PDS)."""
    made = publisher_for(channel("bluesky").model_copy(update={"account": real_pds["PDS_HANDLE"]}),
                         credentials=Credentials("be-bluesky", "bluesky", {"IDENTIFIER": real_pds["PDS_HANDLE"],
                                                                          "PASSWORD": real_pds["PDS_PASSWORD"]}),
                         api_overrides={"base_url": real_pds["PDS_BASE_URL"], "video_base_url": real_pds["PDS_BASE_URL"]},
                         timeout=30.0, clock=FakeClock(CAMPAIGN_NOW), poll_interval=0.2, max_processing_wait=10.0)
    assert isinstance(made, BlueskyPublisher)
    yield made
    made.close()


def _xrpc(pds: dict[str, str], nsid: str, **params: str) -> requests.Response:
    return requests.get(f"{pds['PDS_BASE_URL']}/xrpc/{nsid}", params=params, timeout=20)


def _read_back(pds: dict[str, str], uri: str) -> dict[str, Any]:
    did, collection, rkey = uri.removeprefix("at://").split("/")
    response = _xrpc(pds, "com.atproto.repo.getRecord", repo=did, collection=collection, rkey=rkey)
    assert response.status_code == 200, response.text
    return response.json()["value"]


def _blob_bytes(pds: dict[str, str], blob: dict[str, Any]) -> bytes:
    response = _xrpc(pds, "com.atproto.sync.getBlob", did=pds["PDS_DID"], cid=blob["ref"]["$link"])
    assert response.status_code == 200, response.text
    return response.content


def _span(text: str, part: str) -> dict[str, int]:
    start = text.encode("utf-8").index(part.encode("utf-8"))
    return {"byteStart": start, "byteEnd": start + len(part.encode("utf-8"))}


def _post(kind: str | None, media_dir, post_id: str) -> OutgoingPost:  # type: ignore[no-untyped-def]
    media = make_media(media_dir, kind) if kind else None
    return dataclasses.replace(make_post("bluesky", media, text=TEXT, post_id=post_id, language="fr"), link=LINK)


def test_a_photo_post_with_non_ascii_text_a_link_and_hashtags_reads_back_as_meant(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    post = _post("photo", media_dir, "science-day.2027.be-bluesky.fr.photo")
    result = publisher.publish(post)
    assert result.remote_id.startswith(f"at://{real_pds['PDS_DID']}/app.bsky.feed.post/") and is_tid(result.extra["rkey"])
    record = _read_back(real_pds, result.remote_id)
    assert record["text"] == TEXT and record["langs"] == ["fr"]
    facets = {(f["index"]["byteStart"], f["index"]["byteEnd"]): f["features"][0] for f in record["facets"]}
    assert facets[tuple(_span(TEXT, SHORT).values())] == {"$type": "app.bsky.richtext.facet#link", "uri": LINK}
    for tag in ("SciencePourTous", "EmbracingOpenness"):
        assert facets[tuple(_span(TEXT, "#" + tag).values())] == {"$type": "app.bsky.richtext.facet#tag", "tag": tag}
    assert len(facets) == 3
    [image] = record["embed"]["images"]
    media = post.media[0]
    assert record["embed"]["$type"] == "app.bsky.embed.images"
    assert image["alt"] == media.alt_text and image["aspectRatio"] == {"width": media.width, "height": media.height}
    assert image["image"]["mimeType"] == "image/jpeg"
    assert _blob_bytes(real_pds, image["image"]) == media.path.read_bytes()


def test_a_clip_post_on_a_pds_without_video_service_reads_back_as_a_video_embed(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    post = _post("clip", media_dir, "science-day.2027.be-bluesky.fr.clip")
    result = publisher.publish(post)  # service token on the real clock (the campaign clock is months ahead)
    record = _read_back(real_pds, result.remote_id)
    embed, media = record["embed"], post.media[0]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == media.alt_text
    assert embed["aspectRatio"] == {"width": media.width, "height": media.height}
    assert embed["video"]["mimeType"] == "video/mp4"
    assert _blob_bytes(real_pds, embed["video"]) == media.path.read_bytes()


def test_find_existing_finds_a_published_post_and_nothing_for_another(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    post = _post(None, media_dir, "europe-day.2027.be-bluesky.fr.text")
    assert publisher.find_existing(post) is None
    result = publisher.publish(post)
    found = publisher.find_existing(post)
    assert found is not None and found.remote_id == result.remote_id and found.extra["cid"] == result.extra["cid"]
    never = _post(None, media_dir, "national-day.2027.be-bluesky.fr.text")
    assert publisher.find_existing(never) is None


def test_a_repeated_record_key_gives_back_the_first_post(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    post = _post("photo", media_dir, "pride.2027.be-bluesky.fr.photo")
    first = publisher.publish(post)
    rkey = first.extra["rkey"]
    # the real server's answer to the taken key: HTTP 500, which alone would look transient
    again = requests.post(f"{real_pds['PDS_BASE_URL']}/xrpc/com.atproto.repo.createRecord", timeout=20,
                          headers={"Authorization": "Bearer " + publisher._session["accessJwt"]},
                          json={"repo": real_pds["PDS_DID"], "collection": "app.bsky.feed.post", "rkey": rkey,
                                "record": _read_back(real_pds, first.remote_id)})
    assert again.status_code == 500 and again.json()["error"] == "InternalServerError"
    second = publisher.publish(post)  # a retry of a post that went out
    assert second.remote_id == first.remote_id
    listed = _xrpc(real_pds, "com.atproto.repo.listRecords", repo=real_pds["PDS_DID"], collection="app.bsky.feed.post",
                   limit="100").json()["records"]
    assert [r["uri"] for r in listed].count(first.remote_id) == 1


def test_the_recorded_answers_still_hold_on_the_real_pds(real_pds) -> None:  # type: ignore[no-untyped-def]
    """pds_answers.json is what the emulator is held to: it must stay what the real server says."""
    handle = "recorder.test"
    created = requests.post(f"{real_pds['PDS_BASE_URL']}/xrpc/com.atproto.server.createAccount", timeout=20,
                            json={"handle": handle, "email": "recorder@example.com", "password": "recorder-pass-1"})
    assert created.status_code == 200, created.text
    observed = pds_cases.run_cases(real_pds["PDS_BASE_URL"], handle, "recorder-pass-1")
    assert pds_cases.differences(pds_cases.recorded(), observed) == []


def test_the_atproto_sdk_reads_our_posts_as_valid_records(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    """Bluesky's Python SDK (its lexicon models) parses what the publisher wrote."""
    from atproto import Client, models

    result = publisher.publish(_post("photo", media_dir, "design-week.2027.be-bluesky.fr.photo"))
    client = Client(base_url=real_pds["PDS_BASE_URL"] + "/xrpc")
    try:
        client.login(real_pds["PDS_HANDLE"], real_pds["PDS_PASSWORD"], fetch_bsky_profile=False)  # no app view here
        got = client.get_post(result.extra["rkey"], real_pds["PDS_DID"])
    finally:
        client._request.close()  # the SDK's httpx client: no socket left for the garbage collector
    assert isinstance(got.value, models.AppBskyFeedPost.Record) and got.value.text == TEXT
    assert [f.features[0].uri for f in got.value.facets if isinstance(f.features[0], models.AppBskyRichtextFacet.Link)] == [LINK]


def test_figures_from_a_pds_without_an_appview_are_said_not_given(real_pds, publisher, media_dir) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the real PDS has no AppView to count likes and reposts; the results collector must
    report that, not zeros (the emulator's "denied" answer copies this one)."""
    from scheduler.platforms.figures import FiguresNotGiven
    from scheduler.platforms.registry import collector_for

    result = publisher.publish(_post(None, media_dir, "national-day.2027.be-bluesky.en.figures"))
    with pytest.raises(FiguresNotGiven) as caught:
        collector_for("bluesky")(publisher, result.remote_id, None)
    assert "no AppView" in str(caught.value) and "no figures" in str(caught.value)


def test_check_warns_about_a_main_password_and_not_about_an_app_password(real_pds) -> None:  # type: ignore[no-untyped-def]
    """The real PDS says which password a session was opened with (its JWT scope): the account's
    main password (`check` accepted it without a word, issue 23, 3) or an app password."""
    def checked(password: str) -> list[str]:
        made = publisher_for(channel("bluesky").model_copy(update={"account": real_pds["PDS_HANDLE"]}),
                             credentials=Credentials("be-bluesky", "bluesky", {"IDENTIFIER": real_pds["PDS_HANDLE"],
                                                                              "PASSWORD": password}),
                             api_overrides={"base_url": real_pds["PDS_BASE_URL"]}, timeout=30.0, clock=FakeClock(CAMPAIGN_NOW))
        try:
            return [p.message for p in made.check() if not p.blocking]
        finally:
            made.close()

    main = checked(real_pds["PDS_PASSWORD"])
    assert any("main password" in m and "app password" in m for m in main), main
    session = requests.post(f"{real_pds['PDS_BASE_URL']}/xrpc/com.atproto.server.createSession", timeout=20,
                            json={"identifier": real_pds["PDS_HANDLE"], "password": real_pds["PDS_PASSWORD"]}).json()
    app = requests.post(f"{real_pds['PDS_BASE_URL']}/xrpc/com.atproto.server.createAppPassword", timeout=20,
                        headers={"Authorization": f"Bearer {session['accessJwt']}"},
                        json={"name": f"campaign-check-{CAMPAIGN_NOW:%H%M%S}-{os.getpid()}"})
    assert app.status_code == 200, app.text
    assert not any("main password" in m for m in checked(app.json()["password"]))

