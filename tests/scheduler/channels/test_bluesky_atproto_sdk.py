"""Bluesky's own Python SDK (PyPI `atproto`, a client this project did not write) against the
Bluesky emulator: if the emulator's contract drifted from the real one, the SDK would trip."""

from __future__ import annotations

import io
from typing import Iterator

import pytest
from PIL import Image

from emulators.bluesky import BlueskyEmulator

import atproto  # noqa: E402 - a test dependency (pyproject [test])
from atproto_client.models.string_formats import TID_RE  # noqa: E402


@pytest.fixture
def emulator() -> Iterator[BlueskyEmulator]:
    with BlueskyEmulator(identifier="campaign.bsky.social", password="app-pass-1234") as running:
        yield running


@pytest.fixture
def client(emulator: BlueskyEmulator):  # type: ignore[no-untyped-def]
    made = atproto.Client(base_url=emulator.base_url + "/xrpc")
    made.login("campaign.bsky.social", "app-pass-1234")
    yield made
    made._request.close()  # the SDK's httpx client: no socket left for the garbage collector


def test_login_gives_jwt_tokens_the_sdk_decodes(client, emulator: BlueskyEmulator) -> None:  # type: ignore[no-untyped-def]
    from atproto_server.auth.jwt import get_jwt_payload

    session = client._session
    assert session.did == emulator.did and session.handle == "campaign.bsky.social"
    payload = get_jwt_payload(session.access_jwt)
    assert payload.sub == emulator.did and payload.exp > payload.iat
    assert get_jwt_payload(session.refresh_jwt).scope == "com.atproto.refresh"


def test_send_post_with_text_builder_facets_is_read_back_by_get_post(client, emulator: BlueskyEmulator) -> None:  # type: ignore[no-untyped-def]
    from atproto import client_utils, models

    link = "https://www.belgium.be/en/embracing-openness?utm_source=bluesky"
    text = (client_utils.TextBuilder().text("Wij zeggen niet dat België geweldig is 🇧🇪 ").link("belgium.be/en…", link)
            .text(" ").tag("#EmbracingOpenness", "EmbracingOpenness"))
    sent = client.send_post(text, langs=["nl"])
    rkey = sent.uri.rsplit("/", 1)[-1]
    assert TID_RE.match(rkey)  # the SDK's own TID syntax
    got = client.get_post(rkey)
    assert got.value.text == text.build_text() and got.value.langs == ["nl"]
    features = [f.features[0] for f in got.value.facets]
    assert isinstance(features[0], models.AppBskyRichtextFacet.Link) and features[0].uri == link
    assert isinstance(features[1], models.AppBskyRichtextFacet.Tag) and features[1].tag == "EmbracingOpenness"
    [record] = emulator.published
    raw = record["text"].encode("utf-8")
    link_index = record["facets"][0]["index"]
    assert raw[link_index["byteStart"]:link_index["byteEnd"]].decode() == "belgium.be/en…"  # the SDK's byte offsets hold


def test_send_image_blob_type_is_sniffed_and_listed(client, emulator: BlueskyEmulator) -> None:  # type: ignore[no-untyped-def]
    from atproto import models

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (253, 218, 36)).save(out, "PNG")
    sent = client.send_image("Een geel vlak", out.getvalue(), "Yellow square, the Belgian brand colour",
                             image_aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=64, height=48))
    got = client.get_post(sent.uri.rsplit("/", 1)[-1])
    image = got.value.embed.images[0]
    assert image.alt == "Yellow square, the Belgian brand colour" and image.image.mime_type == "image/png"
    assert image.aspect_ratio.width == 64
    listed = client.com.atproto.repo.list_records(models.ComAtprotoRepoListRecords.Params(
        repo=emulator.did, collection="app.bsky.feed.post"))
    assert [r.uri for r in listed.records] == [sent.uri]


def test_get_posts_with_several_uris_returns_each(client, emulator: BlueskyEmulator) -> None:  # type: ignore[no-untyped-def]
    first = client.send_post("Belgium, seen by others: one", langs=["en"])
    second = client.send_post("Belgium, seen by others: two", langs=["en"])
    got = client.get_posts([first.uri, second.uri])
    assert [p.uri for p in got.posts] == [first.uri, second.uri]
    assert [p.record.text for p in got.posts] == ["Belgium, seen by others: one", "Belgium, seen by others: two"]


def test_upload_blob_answers_as_the_real_pds_unknown_bytes_and_a_6_mb_blob(client) -> None:  # type: ignore[no-untyped-def]
    from atproto_client.exceptions import NetworkError  # what the SDK raises on 409, 413 and 502

    unknown = client.upload_blob(b"campaign notes, not an image" * 10)
    assert unknown.blob.mime_type == "*/*" and unknown.blob.size == 280  # accepted, type unnamed (as @atproto/pds 0.5.35)
    with pytest.raises(NetworkError) as refused:
        client.upload_blob(b"\x00" * (6 * 1024 * 1024))
    assert refused.value.response.status_code == 413 and refused.value.response.content.error == "PayloadTooLarge"


def test_the_sdks_login_fails_on_a_pds_without_an_app_view_as_on_the_real_one() -> None:
    """The SDK's login() reads app.bsky.actor.getProfile, which a lone @atproto/pds answers 400
    "No service configured" (checked 2026-12-05): the emulator as a lone PDS must not let it through."""
    from atproto_client.exceptions import BadRequestError

    with BlueskyEmulator(identifier="campaign.bsky.social", password="app-pass-1234", video_service=False) as lone:
        made = atproto.Client(base_url=lone.base_url + "/xrpc")
        try:
            with pytest.raises(BadRequestError, match="No service configured for app.bsky.actor.getProfile"):
                made.login("campaign.bsky.social", "app-pass-1234")
            assert made.login("campaign.bsky.social", "app-pass-1234", fetch_bsky_profile=False) is None  # as the contract test does
        finally:
            made._request.close()
