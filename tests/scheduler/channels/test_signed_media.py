"""Signed, expiring media addresses (issue 22): the web process serves a build file only at the
address the daemon signed, only while it is valid; an emulator that fetches by URL (Instagram) gets
the file through it; `check` proves the public address answers, naming the address it tried.

Cost: one console on uvicorn for the module (~1 s), the session's small media; no slow test."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
import requests

from campaign.calendar.models import Calendar
from campaign.clock import FakeClock
from campaign.media_urls import KEY_ENV, MediaSigner, MediaUrlError, Refused, clean_relative
from console.app import ConsoleConfig
from console.server import create_app
from emulators.sandbox import SignedMediaServer
from scheduler.media_links import PlainLinks, SignedLinks, check_links, links_for
from scheduler.platforms.base import AuthError, OutgoingMedia, PermanentError
from testkit.channels import channel, make_media, make_post, rig
from testkit.desk import served

KEY = "k" * 8 + "signing-key-for-the-tests-0123456789"
PHOTO = "aiko-tanaka/photo.ja.jpg"


@pytest.fixture(scope="module")
def web(media_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The console (the tool's web process) serving the session's build folder, with the key in its environment."""
    previous = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = KEY
    db = tmp_path_factory.mktemp("web") / "campaign.db"
    try:
        with served(create_app(ConsoleConfig(db=f"sqlite:///{db}", build=media_dir))) as base:
            yield base
    finally:
        if previous is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = previous


def test_the_web_process_serves_a_signed_address_with_its_type_and_ranges(web: str, media_dir: Path) -> None:
    url = MediaSigner(KEY).url(web, PHOTO)
    assert "/signed/" in url and url.endswith("/photo.ja.jpg") and "aiko-tanaka" not in url  # the folder is not guessable
    whole = requests.get(url, timeout=5)
    assert whole.status_code == 200 and whole.headers["content-type"] == "image/jpeg"
    assert whole.content == (media_dir / PHOTO).read_bytes()
    part = requests.get(url, headers={"Range": "bytes=0-9"}, timeout=5)
    assert part.status_code == 206 and part.content == whole.content[:10]


def test_tampered_expired_and_borrowed_addresses_are_refused(web: str) -> None:
    good = MediaSigner(KEY).url(web, PHOTO)
    token = good.split("/")[-2]
    tampered = good.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert requests.get(tampered, timeout=5).status_code == 403
    forged = MediaSigner("another-key-that-is-long-enough-0123456789").url(web, PHOTO)
    assert requests.get(forged, timeout=5).status_code == 403
    past = FakeClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
    expired = requests.get(MediaSigner(KEY, clock=past).url(web, PHOTO), timeout=5)
    assert expired.status_code == 410 and "expired" in expired.text
    other_name = good.rsplit("/", 1)[0] + "/clip.ja.mp4"  # the token of one file never opens another
    assert requests.get(other_name, timeout=5).status_code == 403
    assert requests.get(f"{web}/signed/{token}", timeout=5).status_code == 404


def test_no_path_outside_the_build_folder(tmp_path: Path) -> None:
    for bad in ("../secrets.toml", "/etc/passwd", "a/../../x.jpg", ""):
        with pytest.raises(MediaUrlError):
            clean_relative(bad)
    build = tmp_path / "build"
    build.mkdir()
    (tmp_path / "outside.jpg").write_bytes(b"private")
    (build / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    signer = MediaSigner(KEY)
    with pytest.raises(Refused) as refused:
        signer.open(signer.token("link.jpg"), "link.jpg", build)
    assert refused.value.status == 403


def _signed_photo(media_dir: Path, url: str) -> OutgoingMedia:
    media = make_media(media_dir, "photo")
    return OutgoingMedia(media.path, media.kind, media.mime_type, media.alt_text, media.width, media.height, public_url=url,
                         relative_path=media.relative_path)


def test_instagram_fetches_the_photo_through_the_signed_address(web: str, media_dir: Path) -> None:
    r = rig("instagram")
    try:
        url = SignedLinks(web, MediaSigner(KEY)).url_for(PHOTO, media_dir / PHOTO)
        result = r.publisher.publish(make_post("instagram", _signed_photo(media_dir, url)))
        [received] = r.emulator.published
        assert received["id"] == result.remote_id and received["media_url"] == url
        assert received["media"][0]["width"] == 320  # the emulator probed the bytes it fetched
        past = FakeClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
        expired = SignedLinks(web, MediaSigner(KEY, clock=past)).url_for(PHOTO, media_dir / PHOTO)
        with pytest.raises(PermanentError) as refused:
            r.publisher.publish(make_post("instagram", _signed_photo(media_dir, expired), post_id="expired.2027.be-instagram.ja"))
        assert "9004" in str(refused.value) and len(r.emulator.published) == 1
    finally:
        r.publisher.close()
        r.emulator.stop()


def _calendar(**media_urls: object) -> Calendar:
    from testkit.console import planned_calendar

    calendar = planned_calendar().calendar
    channels = [c.model_copy(update={"api": c.api.model_copy(update={"media_base_url": None})}) for c in calendar.channels]
    return calendar.model_validate({**calendar.model_dump(), "channels": [c.model_dump() for c in channels],
                                    "media_urls": media_urls or None})


def test_check_proves_the_public_address_answers_and_names_it(web: str) -> None:
    calendar = _calendar(base_url=web)
    instagram = calendar.channel("be-instagram")
    assert check_links(calendar, instagram, SignedLinks(web, MediaSigner(KEY))) == []
    [wrong_key] = check_links(calendar, instagram, SignedLinks(web, MediaSigner("z" * 40)))
    assert "HTTP 403" in wrong_key.message and f"{web}/signed/" in wrong_key.message and "key" in wrong_key.message
    [down] = check_links(calendar, instagram, SignedLinks("http://127.0.0.1:9/campaign", MediaSigner(KEY)), timeout=2)
    assert down.blocking and "not reachable" in down.message and "http://127.0.0.1:9/campaign/signed/" in down.message
    [none] = check_links(_calendar(), instagram, None)
    assert "media_urls" in none.message and "be-instagram" in none.message
    assert check_links(calendar, calendar.channel("be-x"), None) == []  # X uploads its media


def test_links_come_from_the_calendar_and_the_key_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    calendar = _calendar(base_url="https://campaign.example.be", lifetime="2h")
    with pytest.raises(AuthError) as missing:
        links_for(calendar, calendar.channel("be-instagram"))
    assert KEY_ENV in str(missing.value) and "[media-urls]" in str(missing.value)
    links = links_for(calendar, calendar.channel("be-instagram"), env={KEY_ENV: KEY})
    assert isinstance(links, SignedLinks) and links.signer.lifetime == 7200
    assert links_for(calendar, calendar.channel("be-x"), env={KEY_ENV: KEY}) is None
    plain = calendar.channel("be-instagram").model_copy(update={"api": channel("instagram").api.model_copy(
        update={"media_base_url": "https://media.example"})})
    assert isinstance(links_for(calendar, plain), PlainLinks)  # the old plain host still works (validate warns)
    with pytest.raises(ValueError, match="one of them"):
        _calendar(base_url="https://a.example", bucket="s3://campaign-media")


def test_the_sandbox_media_server_checks_signatures_too(media_dir: Path) -> None:
    server = SignedMediaServer(media_dir, KEY)
    try:
        assert requests.get(f"{server.base_url}/{PHOTO}", timeout=5).status_code == 404  # no plain addresses
        ok = requests.get(MediaSigner(KEY).url(server.base_url, PHOTO), timeout=5)
        assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
        past = FakeClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2))
        assert requests.get(MediaSigner(KEY, clock=past).url(server.base_url, PHOTO), timeout=5).status_code == 410
    finally:
        server.stop()
