"""The outbox works with no configuration; credentials come from env or a secrets file and
never show; record keys and facets follow the AT Protocol rules."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from testkit.channels import make_media, make_post
from scheduler.platforms.base import AuthError
from scheduler.platforms.credentials import scrub_text
from scheduler.platforms.registry import credentials_for, publisher_for
from scheduler.platforms.bluesky.tid import decode_tid, is_tid, tid_for
from scheduler.platforms.bluesky.text import bluesky_facets
from campaign.calendar.models import Channel


def test_outbox_needs_no_configuration(tmp_path: Path, media_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    channel = Channel(id="press-outbox", platform="outbox", account="press-office", languages=["en"], timezone="Europe/Brussels",
                      slots=["09:00"])
    publisher = publisher_for(channel)  # no credentials, no directory: the defaults do
    post = make_post("x", make_media(media_dir, "clip"), language="en")
    assert publisher.find_existing(post) is None
    result = publisher.publish(post)
    folder = tmp_path / "outbox" / "press-outbox" / post.post_id
    record = json.loads((folder / "post.json").read_text(encoding="utf-8"))
    assert record["text"] == post.text and record["language"] == "en"
    assert record["media"][0]["alt_text"] == post.media[0].alt_text
    assert (folder / record["media"][0]["file"]).read_bytes() == post.media[0].path.read_bytes()
    assert publisher.find_existing(post) == result
    assert publisher.publish(post) == result  # idempotent
    assert [p.name for p in (tmp_path / "outbox" / "press-outbox").iterdir()] == [post.post_id]  # no staging left


def test_credentials_from_environment_and_secrets_file(tmp_path: Path) -> None:
    env = {"CAMPAIGN_BE_X_TOKEN": "env-token"}
    creds = credentials_for("be-x", "x", env=env, secrets_file=tmp_path / "none.toml")
    assert creds.get("token") == "env-token" and creds.source == "environment"
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[embassy-washington]\nidentifier = "belgiumusa.bsky.social"\npassword = "file-pass"\n', encoding="utf-8")
    creds = credentials_for("embassy-washington", "bluesky", env={}, secrets_file=secrets)
    assert creds.get("PASSWORD") == "file-pass"
    assert "file-pass" not in repr(creds) and "file-pass" not in str(creds)


def test_missing_credentials_name_the_channel_and_where(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        credentials_for("embassy-tokyo", "x", env={}, secrets_file=tmp_path / "secrets.toml")
    message = str(caught.value)
    assert "embassy-tokyo" in message and "CAMPAIGN_EMBASSY_TOKYO_TOKEN" in message and "secrets.toml" in message


def test_scrub_removes_tokens_from_urls_and_bodies() -> None:
    text = 'GET /v21.0/1?access_token=EAAB123&x=1 Authorization: Bearer abc.def {"accessJwt": "jwt123"} literal-secret'
    clean = scrub_text(text, ("literal-secret",))
    for secret in ("EAAB123", "abc.def", "jwt123", "literal-secret"):
        assert secret not in clean


def test_tid_is_deterministic_valid_and_sortable() -> None:
    when = dt.datetime(2027, 5, 17, 9, 0, tzinfo=dt.timezone.utc)
    first = tid_for(when, "key-a")
    assert first == tid_for(when, "key-a") and is_tid(first) and len(first) == 13
    assert tid_for(when, "key-b") != first
    assert tid_for(when + dt.timedelta(seconds=1), "key-a") > first
    micros, clock_id = decode_tid(first)
    assert abs(micros / 1e6 - when.timestamp()) < 0.01 and 0 <= clock_id < 1024


def test_facets_use_utf8_byte_offsets() -> None:
    text = "日本語 #オープン https://belgium.be/ja."
    facets = bluesky_facets(text)  # what the Bluesky publisher sends
    raw = text.encode("utf-8")
    assert [raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode() for f in facets] == ["#オープン", "https://belgium.be/ja"]
    assert facets[0]["features"][0] == {"$type": "app.bsky.richtext.facet#tag", "tag": "オープン"}
