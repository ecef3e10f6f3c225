"""The rehearsal's check compares everything a reader sees against the planned post (issue 11,
finding 1: it compared text only, so 58 of 58 "agreed" while every Bluesky link was dead text)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from campaign.post import MediaRef
from application.rehearsal import Received, links_seen
from application.rehearsal_report import compare
from scheduler.store import StoredPost, states

LINK = "https://www.belgium.be/en/embracing-openness?utm_source=bluesky&utm_medium=social&utm_campaign=pride&utm_content=nl"
SHORT = "belgium.be/en/embracing-openn…"
CAPTION = f"Liefde zonder grenzen — “Hier kon ik openlijk liefhebben.”\n{SHORT}\n#Pride #EmbracingOpenness"
WHEN = dt.datetime(2027, 6, 1, 10, 0, tzinfo=dt.timezone.utc)


def _facet(text: str, part: str, feature: dict) -> dict:
    start = text.encode("utf-8").index(part.encode("utf-8"))
    return {"index": {"byteStart": start, "byteEnd": start + len(part.encode("utf-8"))}, "features": [feature]}


def _post(build: Path) -> StoredPost:
    (build / "camille").mkdir(parents=True, exist_ok=True)
    (build / "camille" / "clip.nl.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 1000)
    media = MediaRef("camille", "clip", "square_1x1", "nl", "camille/clip.nl.mp4", "Camille Tremblay spreekt", 1080, 1080)
    return StoredPost(id="pride.2027.embassy-washington.nl", moment_id="pride", occurrence=2027, channel_id="embassy-washington",
                      platform="bluesky", account="belgiumusa.bsky.social", language="nl", scheduled_at=WHEN, caption=CAPTION,
                      link=LINK, hashtags=("Pride",), media=media, needs_approval=False, grace_seconds=3600, content_hash="h",
                      state=states.PUBLISHED, state_reason=None, idempotency_key="k", remote_id="at://did/app.bsky.feed.post/3l",
                      remote_url=None, attempts=1, transient_failures=0, next_attempt_at=None, last_error=None, claimed_by=None,
                      claimed_until=None, published_at=WHEN)


def _received(post: StoredPost, build: Path, *, facets: list[dict] | None = None, **changes: object) -> Received:
    data = (build / post.media.path).read_bytes()  # type: ignore[union-attr]
    facets = facets if facets is not None else [
        _facet(CAPTION, SHORT, {"$type": "app.bsky.richtext.facet#link", "uri": LINK}),
        _facet(CAPTION, "#Pride", {"$type": "app.bsky.richtext.facet#tag", "tag": "Pride"})]
    item = Received(channel_id=post.channel_id, platform="bluesky", account=post.account, remote_id=post.remote_id or "",
                    text=CAPTION, media=[{"kind": "video", "bytes": len(data), "width": 1080, "height": 1080,
                                          "sha256": hashlib.sha256(data).hexdigest(),
                                          "aspect_ratio": {"width": 1080, "height": 1080}}],
                    created_at=WHEN, links=links_seen(CAPTION, facets), language="nl", alt_texts=["Camille Tremblay spreekt"])
    return dataclasses.replace(item, **changes)  # type: ignore[arg-type]


def test_a_post_as_planned_agrees(tmp_path: Path) -> None:
    post = _post(tmp_path)
    assert compare([post], [_received(post, tmp_path)], tmp_path) == []


def test_a_link_shown_as_plain_text_is_a_disagreement(tmp_path: Path) -> None:
    post = _post(tmp_path)
    problems = compare([post], [_received(post, tmp_path, facets=[])], tmp_path)
    assert any("no link to " + LINK in p for p in problems), problems


@pytest.mark.parametrize("mistake, expected", [
    ("target without UTM tags", "which the plan does not"),
    ("byte range off by one", "leading to"),
])
def test_a_link_facet_that_leads_elsewhere_is_a_disagreement(tmp_path: Path, mistake: str, expected: str) -> None:
    post = _post(tmp_path)
    facet = _facet(CAPTION, SHORT, {"$type": "app.bsky.richtext.facet#link", "uri": LINK})
    if mistake.startswith("target"):
        facet["features"][0]["uri"] = LINK.split("?")[0]
    else:
        facet["index"]["byteStart"] -= 1  # counted in characters somewhere: the span starts a byte early
    problems = compare([post], [_received(post, tmp_path, facets=[facet])], tmp_path)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("change, expected", [
    ({"language": "en"}, "told the post is in 'en'"),
    ({"alt_texts": []}, "alt text"),
    ({"alt_texts": ["Camille"]}, "alt text"),
])
def test_language_and_alt_text_are_checked(tmp_path: Path, change: dict, expected: str) -> None:
    post = _post(tmp_path)
    problems = compare([post], [_received(post, tmp_path, **change)], tmp_path)
    assert any(expected in p for p in problems), problems


def test_media_bytes_and_aspect_ratio_are_checked(tmp_path: Path) -> None:
    post = _post(tmp_path)
    item = _received(post, tmp_path)
    item.media[0]["aspect_ratio"] = {"width": 16, "height": 9}
    item.media[0]["sha256"] = hashlib.sha256(b"another render").hexdigest()
    problems = compare([post], [item], tmp_path)
    assert any("16:9" in p for p in problems) and any("other bytes" in p for p in problems), problems
    del item.media[0]["aspect_ratio"]
    assert any("no aspect ratio" in p for p in compare([post], [item], tmp_path))
