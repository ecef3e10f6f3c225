"""Facebook clips follow Meta's current Video API (issue 11, finding 7): the Resumable Upload
API under the app with a user token, then the file handle published on the Page with the
Page token. The deprecated graph-video `upload_phase` flow is gone from both sides."""

from __future__ import annotations

import pytest
import requests

from testkit.channels import FAKE_TOKEN, make_media, make_post
from scheduler.platforms.base import AuthError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.facebook.publisher import FacebookPublisher


def test_clip_goes_through_the_resumable_upload_api_then_the_page(rigs, media_dir) -> None:
    r = rigs("facebook")
    result = r.publisher.publish(make_post("facebook", make_media(media_dir, "clip")))
    size = media_dir.joinpath("aiko-tanaka/clip.ja.mp4").stat().st_size
    app = r.emulator.app_id
    calls = [(m, p) for m, p in r.emulator.requests]
    assert calls[0] == ("POST", f"/v25.0/{app}/uploads")
    assert calls[1][0] == "POST" and calls[1][1].startswith("/v25.0/upload:")
    assert calls[2] == ("POST", "/v25.0/1234567890/videos")
    assert not any("upload_phase" in p or "graph-video" in p for _, p in calls)
    [entry] = r.emulator.published
    assert entry["id"] == result.remote_id and entry["kind"] == "video" and entry["media"][0]["bytes"] == size


def test_an_interrupted_upload_resumes_from_the_offset_meta_reports(rigs, media_dir) -> None:
    r = rigs("facebook")
    r.emulator.inject("cut_upload", on="chunk")  # half the bytes arrive, then the connection drops
    r.publisher.publish(make_post("facebook", make_media(media_dir, "clip")))
    size = media_dir.joinpath("aiko-tanaka/clip.ja.mp4").stat().st_size
    uploads = [p for m, p in r.emulator.requests if m == "POST" and "/upload:" in p]
    offsets = [p for m, p in r.emulator.requests if m == "GET" and "/upload:" in p]
    assert len(uploads) == 2 and len(offsets) == 1  # asked where it stopped, then sent only the rest
    [entry] = r.emulator.published
    assert entry["media"][0]["bytes"] == size and entry["media"][0]["kind"] == "video"


def test_a_clip_without_app_id_or_user_token_names_what_to_set(rigs, media_dir) -> None:
    r = rigs("facebook")
    publisher = FacebookPublisher("be-facebook", "1234567890", Credentials("be-facebook", "facebook", {"TOKEN": FAKE_TOKEN}),
                                  api=r.overrides, clock=r.clock, timeout=5.0)
    with pytest.raises(AuthError) as caught:
        publisher.publish(make_post("facebook", make_media(media_dir, "clip")))
    assert "CAMPAIGN_BE_FACEBOOK_APP_ID" in str(caught.value)
    assert r.emulator.published == []


def test_emulator_holds_the_contract(rigs) -> None:
    r = rigs("facebook")
    graph = f"{r.emulator.base_url}/v25.0"
    page_token = {"Authorization": f"Bearer {FAKE_TOKEN}"}
    # A Page token cannot start an upload session: Meta wants a user token there.
    answer = requests.post(f"{graph}/{r.emulator.app_id}/uploads", headers=page_token, timeout=5,
                           params={"file_name": "a.mp4", "file_length": "10", "file_type": "video/mp4"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 200
    # The deprecated upload_phase flow is refused with what to use instead.
    old = requests.post(f"{graph}/1234567890/videos", headers=page_token, data={"upload_phase": "start", "file_size": "10"}, timeout=5)
    assert old.status_code == 400 and "Resumable Upload API" in old.json()["error"]["message"]
    # A session: wrong offsets are refused, the handle comes when every byte is in.
    user = {"Authorization": f"OAuth {r.emulator.user_token}"}
    session = requests.post(f"{graph}/{r.emulator.app_id}/uploads", timeout=5, params={
        "file_name": "a.mp4", "file_length": "10", "file_type": "video/mp4", "access_token": r.emulator.user_token}).json()["id"]
    assert session.startswith("upload:")
    assert requests.post(f"{graph}/{session}", headers={**user, "file_offset": "3"}, data=b"0123456789", timeout=5).status_code == 400
    assert requests.post(f"{graph}/{session}", headers={**user, "file_offset": "0"}, data=b"01234", timeout=5).json()["file_offset"] == 5
    assert requests.get(f"{graph}/{session}", headers=user, timeout=5).json() == {"id": session, "file_offset": 5}
    handle = requests.post(f"{graph}/{session}", headers={**user, "file_offset": "5"}, data=b"56789", timeout=5).json()["h"]
    assert handle
