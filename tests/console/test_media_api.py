"""`/api/v1/media`: uploads through the API (httpx multipart, tuspy over tus) with a personal token, and the list.

The referees are clients written elsewhere: httpx builds the multipart body, tuspy speaks tus;
the OpenAPI document is judged by openapi-spec-validator.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from testkit.desk import SAMPLES, add_designer, broken_jpeg, media_calendar, served


@pytest.fixture
def api(rig, tmp_path):  # type: ignore[no-untyped-def]
    """The console on a calendar with media approval, a designer's and a viewer's token, renders switched off
    (what the renderer does is judged by the pipeline's tests)."""
    from console.api.tokens import Tokens
    from console.app import ConsoleConfig
    from console.server import create_app

    add_designer(rig)
    app = create_app(ConsoleConfig(db=rig.url, calendar=media_calendar(tmp_path / "campaign"), build=rig.build,
                                   inbox=rig.inbox), clock=rig.clock, store=rig.store)
    asked: list[list[str]] = []
    app.state.console.desk.renders.request = lambda forget=(): asked.append(list(forget))
    tokens = Tokens(rig.store.engine)
    return app, {"dora": tokens.issue("dora", by="test", now=rig.clock.now()),
                 "vera": tokens.issue("vera", by="test", now=rig.clock.now())}, asked


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_multipart_upload_answers_201_with_what_the_file_became(api, rig) -> None:  # type: ignore[no-untyped-def]
    app, tokens, asked = api
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1") as client:
        with (SAMPLES / "lukas-weber.jpg").open("rb") as photo:
            answer = client.post("/api/v1/media", headers=bearer(tokens["dora"]), files={"file": ("lukas-weber.jpg", photo, "image/jpeg")})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["accepted"] and body["testimonial"] == "lukas-weber" and body["role"] == "photo"
        assert body["path"] == "lukas-weber.jpg" and body["replaced"] is None
        assert (rig.inbox / "lukas-weber.jpg").read_bytes() == (SAMPLES / "lukas-weber.jpg").read_bytes()
        assert asked == [[]]
        listed = client.get("/api/v1/media", headers=bearer(tokens["vera"]), params={"testimonial": "lukas-weber"}).json()
        lukas = listed["testimonials"][0]
        assert lukas["files"][0] == {"role": "photo", "name": "lukas-weber.jpg", "language": None, "present": True,
                                     "bytes": (SAMPLES / "lukas-weber.jpg").stat().st_size, "versions": []}
        assert {v["state"] for v in lukas["variants"]} == {"pending"}  # nothing rendered yet: renders are off here
        assert lukas["approval_needed"] == {"photo": ["be-instagram"]}
        instagram = next(v for v in lukas["variants"] if "instagram" in v["platforms"])
        assert instagram["variant"] == "feed_4x5" and instagram["feed_aspect"] is None
        # Viewers read, they do not upload.
        with (SAMPLES / "lukas-weber.jpg").open("rb") as photo:
            refused = client.post("/api/v1/media", headers=bearer(tokens["vera"]), files={"file": ("lukas-weber.jpg", photo)})
        assert refused.status_code == 403
        assert client.get("/api/v1/media").status_code == 401


def test_a_refused_file_answers_422_with_its_reasons_and_is_kept(api, rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app, tokens, _ = api
    bad = broken_jpeg(tmp_path / "priya-sharma.jpg")
    with served(app) as base, httpx.Client(base_url=base, headers=bearer(tokens["dora"])) as client:
        with bad.open("rb") as photo:
            answer = client.post("/api/v1/media", files={"file": ("priya-sharma.jpg", photo, "image/jpeg")})
        assert answer.status_code == 422
        problem = answer.json()
        assert problem["status"] == 422 and "rejected/priya-sharma.jpg" in problem["detail"]
        assert "damaged or truncated" in problem["errors"][0]["message"]
        assert (rig.inbox / "rejected" / "priya-sharma.jpg").read_bytes() == bad.read_bytes()
        with (SAMPLES / "lukas-weber.jpg").open("rb") as photo:
            unknown = client.post("/api/v1/media", files={"file": ("holiday.jpg", photo, "image/jpeg")})
        assert unknown.status_code == 422 and "matches no testimonial" in unknown.json()["errors"][0]["message"]
        with (SAMPLES / "lukas-weber.jpg").open("rb") as photo:
            wrong = client.post("/api/v1/media", files={"file": ("notes.docx", photo)})
        assert wrong.status_code == 415
        listed = client.get("/api/v1/media").json()["rejected"]
        assert {r["file"] for r in listed} == {"priya-sharma.jpg", "holiday.jpg"}
        assert "damaged or truncated" in next(r for r in listed if r["file"] == "priya-sharma.jpg")["reason"]


@pytest.mark.slow  # writes and re-plans the calendar (~3 s)
def test_a_new_name_is_assigned_in_the_calendar_through_the_writer(api, rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app, tokens, _ = api
    calendar = app.state.console.config.calendar
    before = calendar.read_text(encoding="utf-8")
    # An assignment is a calendar save: checked as `validate` checks, planned and synced (seconds, under load more).
    with served(app) as base, httpx.Client(base_url=base, headers=bearer(tokens["dora"]), timeout=180) as client:
        with (SAMPLES / "james-carter.en.srt").open("rb") as subtitles:
            answer = client.post("/api/v1/media", files={"file": ("james-carter.fr.srt", subtitles)},
                                 data={"testimonial": "james-carter", "role": "subtitles", "language": "fr"})
        assert answer.status_code == 201, answer.text
        assert answer.json()["role"] == "subtitles" and answer.json()["language"] == "fr"
    after = calendar.read_text(encoding="utf-8")
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed and all("james-carter.fr.srt" in line for line in changed), changed  # one line, nothing else moved
    assert len(after.splitlines()) - len(before.splitlines()) <= 1
    from campaign.calendar import load_calendar

    assert load_calendar(calendar).calendar.testimonial("james-carter").subtitles["fr"] == "james-carter.fr.srt"
    assert (rig.inbox / "james-carter.fr.srt").is_file()
    assert any(r["action"] == "calendar-edit" and r["actor"] == "dora" for r in rig.store.audit_rows())


def test_tuspy_uploads_through_the_api_with_a_token(api, rig) -> None:  # type: ignore[no-untyped-def]
    from tusclient import client as tus_client

    app, tokens, _ = api
    with served(app) as base:
        with (SAMPLES / "james-carter.mp4").open("rb") as clip:
            uploader = tus_client.TusClient(base + "/api/v1/media/uploads", headers=bearer(tokens["dora"])).uploader(
                file_stream=clip, chunk_size=64 * 1024, metadata={"filename": "james-carter.mp4"})
            uploader.upload()
        outcome = httpx.get(uploader.url, headers=bearer(tokens["dora"])).json()["outcome"]
        viewer = httpx.post(base + "/api/v1/media/uploads", headers={**bearer(tokens["vera"]), "Tus-Resumable": "1.0.0",
                                                                     "Upload-Length": "10"})
    assert outcome["accepted"] and outcome["role"] == "clip"
    assert (rig.inbox / "james-carter.mp4").read_bytes() == (SAMPLES / "james-carter.mp4").read_bytes()
    assert viewer.status_code == 403


def test_the_openapi_document_describes_media_and_is_valid(api) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate
    from starlette.testclient import TestClient

    app, _, _ = api
    with TestClient(app, base_url="http://127.0.0.1") as client:
        document = client.get("/api/v1/openapi.json").json()
    validate(document)
    assert {"get", "post"} <= set(document["paths"]["/media"])
    assert "/media/uploads" not in document["paths"]  # tus is described in the README, not as JSON operations
