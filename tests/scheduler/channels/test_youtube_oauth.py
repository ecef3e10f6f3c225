"""YouTube on the connections machinery (issue 25): a channel connected through Google's flow on the
emulator (our client, its consent page) asks for offline access, its 1-hour token is renewed by the
daemon's job 10 minutes before its end and before a publish after a clock jump; and Google's own
google-auth renews a token at the emulator's token endpoint the way our spec says Google wants it
(client credentials in the form). Cost: about 1 s."""

from __future__ import annotations

import datetime as dt
import shutil
from urllib.parse import parse_qsl, urlsplit

import pytest
from google.auth.transport.requests import Request as GoogleRequest
from google.oauth2.credentials import Credentials as GoogleCredentials

from campaign.post import MediaRef
from scheduler.connections.credentials import resolve
from scheduler.daemon import DispatchConfig, Dispatcher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.oauth import authorize_url, new_verifier
from scheduler.platforms.registry import platform_of, publisher_for
from scheduler.store import states, sync_plan
from testkit.channels import channel
from testkit.connections import CALLBACK, START, connect, token_rig
from testkit.scheduler import make_post
from testkit.youtube import CAPTION, clips  # noqa: F401 - a fixture

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def rig(tmp_path):
    made = token_rig(tmp_path, "youtube")
    connect(made.vault, made.emulator, "be-youtube", "belgium", START)
    yield made
    made.close()


def test_google_is_asked_for_offline_access_with_the_youtube_scopes_only() -> None:
    spec = platform_of("youtube").oauth
    url = authorize_url(spec, {}, client_id="app", redirect_uri=CALLBACK, state="s", verifier=new_verifier())
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert query["access_type"] == "offline" and query["prompt"] == "consent" and query["code_challenge_method"] == "S256"
    assert query["scope"].split() == ["https://www.googleapis.com/auth/youtube.upload",
                                      "https://www.googleapis.com/auth/youtube.force-ssl"]


def test_the_daemon_renews_the_hour_long_token_ten_minutes_before_its_end(rig) -> None:
    renewer = rig.renewer()
    first = rig.vault.get("be-youtube")
    assert first.expires_at == START + HOUR and first.refresh_token
    rig.clock.advance(dt.timedelta(minutes=49))
    assert renewer.run_once() == {}
    rig.clock.advance(dt.timedelta(minutes=2))
    assert renewer.run_once() == {"be-youtube": "renewed"}
    second = rig.vault.get("be-youtube")
    assert second.expires_at == rig.clock.now() + HOUR and second.access_token != first.access_token
    assert second.refresh_token == first.refresh_token  # Google's refresh tokens are not single-use
    assert rig.emulator.oauth.state_of(second.access_token) == ("ok", "belgium")
    rig.clock.advance(dt.timedelta(minutes=10))
    assert rig.emulator.oauth.state_of(first.access_token)[0] == "expired"


def test_a_publish_after_a_clock_jump_renews_then_uploads(rig, clips, tmp_path) -> None:  # noqa: F811
    build = tmp_path / "build"
    (build / "ben").mkdir(parents=True)
    shutil.copy(clips["landscape"], build / "ben" / "landscape_16x9.en.mp4")
    at = START + 5 * HOUR  # the rehearsal's clock jumps past the token's hour
    media = MediaRef("ben", "clip", "landscape_16x9", "en", "ben/landscape_16x9.en.mp4", "Ben Okafor speaks", 256, 144)
    post = make_post("later", "be-youtube", at, platform="youtube", caption=CAPTION)
    post = type(post)(**{**post.__dict__, "media": media})
    sync_plan(rig.store, [post], START)
    rig.clock.set(at)
    creds = resolve("be-youtube", "youtube", rig.vault, static=lambda required: Credentials(
        "be-youtube", "youtube", rig.emulator.credentials_of("belgium", rig.emulator.token) | {"TOKEN": ""}))
    publisher = publisher_for(channel("youtube"), credentials=creds, api_overrides=rig.emulator.overrides(""), clock=rig.clock,
                              timeout=5.0)
    try:
        dispatcher = Dispatcher(rig.store, rig.clock, lambda _c: publisher, worker="test:0:a", tokens=rig.renewer(),
                                config=DispatchConfig(build_dir=build))
        for _ in range(3):  # processing may take a later pass
            dispatcher.run_once()
            if rig.store.get(post.id).state == states.PUBLISHED:
                break
            rig.clock.advance(60)
    finally:
        publisher.close()
    assert rig.store.get(post.id).state == states.PUBLISHED
    assert [ok for _account, ok in rig.emulator.oauth.refreshes] == [True]
    [video] = rig.emulator.published
    assert video["account"] == "belgium"


def test_google_auth_renews_at_the_emulator_as_our_spec_does(rig) -> None:
    """google-auth (Google's own) refreshes with grant_type=refresh_token and the client's id and
    secret in the form: the emulator takes it, and the renewed token reads the channel."""
    connection = rig.vault.get("be-youtube")
    api = rig.emulator.overrides("")
    google = GoogleCredentials(token=connection.access_token, refresh_token=connection.refresh_token,
                               token_uri=api["token_url"], client_id=rig.emulator.oauth.client_id,
                               client_secret=rig.emulator.oauth.client_secret)
    rig.clock.advance(HOUR)
    assert rig.emulator.oauth.state_of(connection.access_token)[0] == "expired"
    with GoogleRequest().session as session:  # google-auth's own transport
        google.refresh(GoogleRequest(session))
        assert google.token != connection.access_token and google.refresh_token == connection.refresh_token
        answer = session.get(api["base_url"] + "/youtube/v3/channels", params={"part": "snippet", "mine": "true"},
                             headers={"Authorization": f"Bearer {google.token}"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["items"][0]["snippet"]["title"] == "belgium"
