"""Every platform publishes an image post and a video post to its emulator through the
same interface, and the emulator holds the text, language, alt text and media."""

from __future__ import annotations

import pytest

from testkit.channels import FAKE_TOKEN, make_media, make_post

PLATFORMS = ["facebook", "instagram", "x", "linkedin", "mastodon", "bluesky"]
#: Platforms whose API carries a post language / a video alt text.
HAS_LANGUAGE = {"mastodon", "bluesky"}
VIDEO_ALT = {"bluesky"}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", ["photo", "clip"])
def test_publish_and_read_back(rigs, media_dir, platform: str, kind: str) -> None:
    r = rigs(platform)
    media = make_media(media_dir, kind)
    post = make_post(platform, media)

    result = r.publisher.publish(post)

    published = r.emulator.published
    assert len(published) == 1
    entry = published[0]
    assert entry["id"] == result.remote_id or result.remote_id.endswith(entry["id"]) or entry["id"] in result.remote_id
    assert post.text.split(" https://")[0] in entry["text"]
    assert "(research)" in entry["text"]  # LinkedIn: the parentheses survive only when escaped
    assert entry["media"] and entry["media"][0]["bytes"] == media.path.stat().st_size
    assert entry["media"][0]["kind"] == ("image" if kind == "photo" else "video")
    assert (entry["media"][0]["width"], entry["media"][0]["height"]) == (320, 240)
    if kind == "clip":
        assert entry["media"][0]["duration"] == pytest.approx(3.0, abs=0.1)
    if kind == "photo" or platform in VIDEO_ALT:
        assert media.alt_text in entry["alt_texts"]
    if platform in HAS_LANGUAGE:
        assert entry["language"] == "ja" and entry["languages"] == ["ja"]
    assert FAKE_TOKEN not in repr(entry)
    assert result.url


def test_bluesky_record_has_facets_rkey_and_aspect_ratio(rigs, media_dir) -> None:
    from scheduler.platforms.bluesky.tid import is_tid, tid_for

    r = rigs("bluesky")
    post = make_post("bluesky", make_media(media_dir, "photo"))
    r.publisher.publish(post)
    entry = r.emulator.published[0]
    assert entry["rkey"] == tid_for(post.scheduled_at, post.idempotency_key) and is_tid(entry["rkey"])
    raw = entry["text"].encode("utf-8")
    spans = {f["features"][0]["$type"].split("#")[1]: raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in entry["facets"]}
    assert spans == {"tag": "#EmbracingOpenness", "link": "https://example.be/aiko"}
    assert entry["media"][0]["aspect_ratio"] == {"width": 320, "height": 240}


def test_chunked_video_retries_only_the_failed_chunk(rigs, media_dir) -> None:
    for platform, path_part in (("x", "/append"), ("linkedin", "/upload/video/")):
        r = rigs(platform)
        r.emulator.inject("server_error", on="chunk")
        r.publisher.publish(make_post(platform, make_media(media_dir, "clip")))
        size = media_dir.joinpath("aiko-tanaka/clip.ja.mp4").stat().st_size
        chunk = 48 * 1024 if platform == "x" else 64 * 1024
        chunks = -(-size // chunk)
        sent = [p for m, p in r.emulator.requests if path_part in p and m in ("POST", "PUT")]
        expected = chunks + 1
        assert len(sent) == expected, (platform, len(sent), expected)
        assert len(r.emulator.published) == 1


def test_bluesky_posts_the_planned_caption_and_links_its_short_form_to_the_full_link(rigs) -> None:
    """The planner's caption shows the link short (it fits 300 graphemes only so); the
    publisher adds nothing to it and the link facet carries the full, UTM-tagged link."""
    import dataclasses

    from scheduler.platforms.bluesky.text import bluesky_display_link, bluesky_graphemes

    link = ("https://www.belgium.be/en/embracing-openness?utm_source=bluesky&utm_medium=social"
            "&utm_campaign=pride-marriage-equality&utm_content=en")
    short = bluesky_display_link(link)
    caption = ("24 years of marriage equality in Belgium\n\n“Here I could love whoever I want, openly.” — Camille Tremblay, "
               f"Canada\n\nWe don't say Belgium is great, others do.\n{short}\n#Pride #LoveIsLove #EmbracingOpenness")
    caption += "\n" + "🇧🇪 " * 20  # near the limit, and multi-byte: byte offsets matter
    assert bluesky_graphemes(caption) <= 300 < bluesky_graphemes(f"{caption}\n{link}")
    r = rigs("bluesky")
    post = dataclasses.replace(make_post("bluesky", None, text=caption, language="en"), link=link)

    r.publisher.publish(post)

    [entry] = r.emulator.published
    assert entry["text"] == caption
    raw = caption.encode("utf-8")
    spans = [(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), f["features"][0]) for f in entry["facets"]]
    assert [(text, feature["uri"]) for text, feature in spans if "uri" in feature] == [(short, link)]
    assert [text for text, feature in spans if "tag" in feature] == ["#Pride", "#LoveIsLove", "#EmbracingOpenness"]
