"""Uploads to the media desk over tus, judged by tuspy (the tus project's Python client) and raw HTTP.

The server is ours (console/tus.py); the clients are not: tuspy creates and resumes uploads
as the protocol says, and a raw socket drops a PATCH halfway, as a lost connection does.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from testkit.desk import SAMPLES, add_designer, broken_jpeg, metadata, served, session_headers

TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def designer(rig):  # type: ignore[no-untyped-def]
    add_designer(rig)
    return rig


@pytest.fixture
def no_renders(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Uploads only: what the renderer would do is judged by the pipeline's own tests."""
    asked = []
    monkeypatch.setattr(app.state.console.desk.renders, "request", lambda forget=(): asked.append(list(forget)))
    return asked


def test_tuspy_uploads_a_photo_into_the_inbox(designer, app, no_renders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with served(app) as base:
        headers = session_headers(base)
        uploader = tus_upload(base, headers, SAMPLES / "lukas-weber.jpg", "lukas-weber.jpg", chunk_size=100_000)
        answer = httpx.get(uploader.url, headers=headers).json()
    assert answer["complete"] and answer["outcome"]["accepted"], answer
    assert answer["outcome"]["testimonial"] == "lukas-weber" and answer["outcome"]["role"] == "photo"
    assert (designer.inbox / "lukas-weber.jpg").read_bytes() == (SAMPLES / "lukas-weber.jpg").read_bytes()
    assert no_renders == [[]]  # a render was asked for
    assert not [p for p in (designer.inbox / ".uploads").rglob("data")]  # nothing left half-way


def test_a_broken_photo_is_refused_at_once_and_kept_in_rejected(designer, app, no_renders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = broken_jpeg(tmp_path / "lukas-weber.jpg")
    with served(app) as base:
        headers = session_headers(base)
        started = time.monotonic()
        uploader = tus_upload(base, headers, bad, "lukas-weber.jpg")
        outcome = httpx.get(uploader.url, headers=headers).json()["outcome"]
        took = time.monotonic() - started
    assert not outcome["accepted"]
    assert "damaged or truncated" in " ".join(outcome["reasons"])
    assert outcome["path"] == "rejected/lukas-weber.jpg"
    assert (designer.inbox / "rejected" / "lukas-weber.jpg").is_file()
    assert "damaged or truncated" in (designer.inbox / "rejected" / "lukas-weber.jpg.why.txt").read_text()
    assert not (designer.inbox / "lukas-weber.jpg").exists()
    assert took < 2.0, f"the reason took {took:.1f} s"
    assert no_renders == []


def test_a_new_version_sets_the_old_one_aside(designer, app, no_renders) -> None:  # type: ignore[no-untyped-def]
    (designer.inbox / "lukas-weber.jpg").write_bytes((SAMPLES / "priya-sharma.jpg").read_bytes())  # the earlier file
    with served(app) as base:
        headers = session_headers(base)
        uploader = tus_upload(base, headers, SAMPLES / "lukas-weber.jpg", "lukas-weber.jpg")
        outcome = httpx.get(uploader.url, headers=headers).json()["outcome"]
    assert outcome["accepted"] and outcome["replaced"].startswith("replaced/lukas-weber.")
    assert (designer.inbox / outcome["replaced"]).read_bytes() == (SAMPLES / "priya-sharma.jpg").read_bytes()
    assert (designer.inbox / "lukas-weber.jpg").read_bytes() == (SAMPLES / "lukas-weber.jpg").read_bytes()
    audit = [r for r in designer.store.audit_rows() if r["action"] == "media-upload"]
    assert audit and "replaced/lukas-weber." in audit[-1]["detail"]


def test_the_protocol_answers_as_tus_says(designer, app, no_renders) -> None:  # type: ignore[no-untyped-def]
    with served(app) as base:
        headers = session_headers(base)
        with httpx.Client(base_url=base, headers=headers) as client:
            options = client.options("/media/uploads")
            assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"
            assert set(options.headers["Tus-Extension"].split(",")) >= {"creation", "termination", "expiration"}
            assert client.post("/media/uploads", headers={"Upload-Length": "5"}).status_code == 412  # no Tus-Resumable
            too_big = client.post("/media/uploads", headers={**TUS, "Upload-Length": str(int(options.headers["Tus-Max-Size"]) + 1),
                                                               "Upload-Metadata": metadata(filename="x.mp4")})
            assert too_big.status_code == 413
            photo_too_big = client.post("/media/uploads", headers={**TUS, "Upload-Length": str(300 * 1024 * 1024),
                                                                     "Upload-Metadata": metadata(filename="a.jpg")})
            assert photo_too_big.status_code == 413 and "at most" in photo_too_big.text
            wrong_type = client.post("/media/uploads", headers={**TUS, "Upload-Length": "10",
                                                                  "Upload-Metadata": metadata(filename="notes.docx")})
            assert wrong_type.status_code == 415
            created = client.post("/media/uploads", headers={**TUS, "Upload-Length": "10",
                                                               "Upload-Metadata": metadata(filename="talk.en.srt")})
            assert created.status_code == 201 and "Upload-Expires" in created.headers
            url = created.headers["Location"]
            head = client.head(url, headers=TUS)
            assert head.headers["Upload-Offset"] == "0" and head.headers["Upload-Length"] == "10"
            assert head.headers["Cache-Control"] == "no-store"
            patch = {**TUS, "Content-Type": "application/offset+octet-stream"}
            assert client.patch(url, content=b"12345", headers={**patch, "Upload-Offset": "3"}).status_code == 409
            assert client.patch(url, content=b"12345", headers={**TUS, "Upload-Offset": "0",
                                                                  "Content-Type": "text/plain"}).status_code == 415
            half = client.patch(url, content=b"12345", headers={**patch, "Upload-Offset": "0"})
            assert half.status_code == 204 and half.headers["Upload-Offset"] == "5"
            over = client.patch(url, content=b"123456789", headers={**patch, "Upload-Offset": "5"})
            assert over.status_code == 413
            overridden = client.post(url, headers={**TUS, "X-HTTP-Method-Override": "DELETE"})
            assert overridden.status_code == 204
            assert client.head(url, headers=TUS).status_code == 404
        # Another account never sees (or writes to) this designer's uploads; a viewer may not upload.
        created = httpx.post(base + "/media/uploads", headers={**headers, **TUS, "Upload-Length": "3",
                                                               "Upload-Metadata": metadata(filename="a.srt")})
        designer.accounts.add("dan", "designer", "designer-pass-456", by="test", now=designer.clock.now())
        other = session_headers(base, "dan", "designer-pass-456")
        assert httpx.head(created.headers["Location"], headers={**other, **TUS}).status_code == 404
        viewer = session_headers(base, "vera", "viewer-pass-123")
        assert httpx.post(base + "/media/uploads", headers={**viewer, **TUS, "Upload-Length": "3",
                                                            "Upload-Metadata": metadata(filename="a.srt")}).status_code == 403
        no_csrf = {k: v for k, v in headers.items() if k != "X-CSRF-Token"}
        assert httpx.post(base + "/media/uploads", headers={**no_csrf, **TUS, "Upload-Length": "3",
                                                            "Upload-Metadata": metadata(filename="a.srt")}).status_code == 403
        assert httpx.post(base + "/media/uploads", headers={**TUS, "Upload-Length": "3"}).status_code == 401


def tus_upload(base: str, headers: dict[str, str], path: Path, name: str, **options):  # type: ignore[no-untyped-def]
    """Upload with tuspy (an open file handed in: given a path, tuspy never closes it)."""
    from tusclient import client as tus_client

    with path.open("rb") as stream:
        uploader = tus_client.TusClient(base + "/media/uploads", headers=headers).uploader(
            file_stream=stream, metadata={"filename": name}, **options)
        uploader.upload()
    return uploader


def interrupted_then_resumed(base: str, headers: dict[str, str], source: Path, name: str) -> dict:  # type: ignore[type-arg]
    """Create an upload, send half of the file in one PATCH and cut the connection, then let tuspy
    resume it from the offset the server kept; the outcome."""
    from tusclient import client as tus_client

    size = source.stat().st_size
    created = httpx.post(base + "/media/uploads", headers={**headers, **TUS, "Upload-Length": str(size),
                                                           "Upload-Metadata": metadata(filename=name)})
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    half = size // 2
    parts = urlsplit(url)
    request = (f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
               f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {size}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    with socket.create_connection((parts.hostname, parts.port)) as raw, source.open("rb") as data:
        raw.sendall(request)
        sent = 0
        while sent < half:
            block = data.read(min(4 * 1024 * 1024, half - sent))
            raw.sendall(block)
            sent += len(block)
    # The server keeps every byte that arrived (tus: "store as much of the received data as possible").
    deadline = time.monotonic() + 60
    while True:
        offset = int(httpx.head(url, headers={**headers, **TUS}).headers["Upload-Offset"])
        if offset == half or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert offset == half, f"the server kept {offset} of the {half} bytes sent before the cut"
    with source.open("rb") as stream:
        uploader = tus_client.TusClient(base + "/media/uploads", headers=headers).uploader(
            file_stream=stream, url=url, chunk_size=64 * 1024 * 1024, metadata={"filename": name})
        assert uploader.offset == half  # tuspy asked the server where to go on
        uploader.upload()
    return httpx.get(url, headers=headers, timeout=120).json()


def padded_clip(path: Path, size: int) -> Path:
    """A real sample clip followed by zeros up to `size` (sparse on disk): ffmpeg reads it as the clip."""
    path.write_bytes((SAMPLES / "james-carter.mp4").read_bytes())
    os.truncate(path, size)
    return path


def test_an_interrupted_clip_upload_resumes_where_it_stopped(designer, app, no_renders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = padded_clip(tmp_path / "james-carter.mp4", 24 * 1024 * 1024)
    with served(app) as base:
        answer = interrupted_then_resumed(base, session_headers(base), source, "james-carter.mp4")
    assert answer["complete"] and answer["outcome"]["accepted"], answer
    assert answer["outcome"]["role"] == "clip"
    assert (designer.inbox / "james-carter.mp4").stat().st_size == source.stat().st_size
    assert (designer.inbox / "james-carter.mp4").read_bytes() == source.read_bytes()


@pytest.mark.slow  # a gigabyte through loopback and the disk (about 20 s)
def test_a_1_gb_clip_upload_cut_halfway_resumes_and_completes(designer, app, no_renders, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = padded_clip(tmp_path / "james-carter.mp4", 1024 * 1024 * 1024)
    with served(app) as base:
        answer = interrupted_then_resumed(base, session_headers(base), source, "james-carter.mp4")
    assert answer["complete"] and answer["outcome"]["accepted"], answer
    assert (designer.inbox / "james-carter.mp4").stat().st_size == 1024 * 1024 * 1024


def test_an_abandoned_upload_expires_and_is_swept(designer, app, no_renders) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    from testkit.console import csrf_of, login
    from testkit.desk import DESIGNER

    with TestClient(app, base_url="http://127.0.0.1") as client:
        login(client, *DESIGNER)
        headers = {**TUS, "X-CSRF-Token": csrf_of(client.get("/media").text)}
        created = client.post("/media/uploads", headers={**headers, "Upload-Length": "10",
                                                         "Upload-Metadata": metadata(filename="a.srt")})
        url = created.headers["Location"]
        folder = designer.inbox / ".uploads" / url.rsplit("/", 1)[1]
        assert folder.is_dir()
        designer.clock.advance(25 * 3600)  # a day and an hour later: past its Upload-Expires
        assert client.head(url, headers=headers).status_code == 410
        assert not folder.exists()
        client.post("/media/uploads", headers={**headers, "Upload-Length": "10", "Upload-Metadata": metadata(filename="b.srt")})
        other = client.post("/media/uploads", headers={**headers, "Upload-Length": "10", "Upload-Metadata": metadata(filename="c.srt")})
        stale = designer.inbox / ".uploads" / other.headers["Location"].rsplit("/", 1)[1]
        designer.clock.advance(25 * 3600)
        client.post("/media/uploads", headers={**headers, "Upload-Length": "10", "Upload-Metadata": metadata(filename="d.srt")})
        assert not stale.exists()  # swept when the next upload started
        assert len(list((designer.inbox / ".uploads").iterdir())) == 1
