"""Threads (issue 22): the container flow against the emulator, media fetched through signed
addresses, processing as a state, expiry, the 250-a-day quota, reconciling a lost publish answer,
text counted as Meta counts it; the emulator and the publisher judged by the answers Meta's own
pages print (fixtures/threads_meta_docs.json), not only by each other.

Cost: about 2 s (the session's small media, one signed media server)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
import requests

from campaign.clock import FakeClock
from emulators.sandbox import SignedMediaServer
from emulators.threads import threads_length as emulator_length
from scheduler.media_links import SignedLinks
from campaign.media_urls import MediaSigner
from scheduler.platforms.base import Pending, PermanentError, RateLimited, StepLedger, TransientError, OutcomeUnknown
from scheduler.platforms.registry import check_caption
from scheduler.platforms.threads import figures
from scheduler.platforms.threads.text import threads_length
from testkit.channels import make_media, make_post, rig

KEY = "threads-tests-signing-key-0123456789abcdef"
DOCS = json.loads((Path(__file__).parent / "fixtures" / "threads_meta_docs.json").read_text(encoding="utf-8"))


@pytest.fixture
def threads(media_dir: Path):  # type: ignore[no-untyped-def]
    server = SignedMediaServer(media_dir, KEY)
    r = rig("threads")
    links = SignedLinks(server.base_url, MediaSigner(KEY))

    def signed(kind: str, signer: MediaSigner | None = None):  # type: ignore[no-untyped-def]
        media = make_media(media_dir, kind)
        url = (SignedLinks(server.base_url, signer) if signer else links).url_for(media.relative_path, media.path)
        return dataclasses.replace(media, public_url=url)

    r.signed = signed  # type: ignore[attr-defined]
    r.media_base = server.base_url  # type: ignore[attr-defined]
    yield r
    r.publisher.close()
    r.emulator.stop()
    server.stop()


def test_photo_clip_and_text_go_out_through_the_container_flow(threads) -> None:  # type: ignore[no-untyped-def]
    r = threads
    for kind in ("photo", "clip"):
        ledger = StepLedger()
        result = r.publisher.publish(make_post("threads", r.signed(kind), post_id=f"p.{kind}"), ledger)
        assert ledger.get("container") == result.extra["container_id"] and ledger.get("container:ready") == "1"
        assert result.url and result.url.startswith("https://www.threads.net/@")
    r.publisher.publish(make_post("threads", None, text="Belgium, seen by others. https://www.belgium.be", post_id="p.text"))
    photo, clip, text = r.emulator.published
    assert photo["media_url"].startswith(r.media_base + "/signed/") and photo["media"][0]["width"] == 320
    assert clip["kind"] == "VIDEO" and clip["media"][0]["kind"] == "video"
    assert text["kind"] == "TEXT_POST" and text["media"] == []


def test_an_expired_signed_address_is_refused_by_the_fetch(threads) -> None:  # type: ignore[no-untyped-def]
    past = MediaSigner(KEY, clock=FakeClock(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)))
    with pytest.raises(PermanentError) as refused:
        threads.publisher.publish(make_post("threads", threads.signed("photo", past)))
    assert "9004" in str(refused.value) and not threads.emulator.published
    ledger = StepLedger()
    with pytest.raises(PermanentError) as video:  # a video Threads cannot download: the container fails
        threads.publisher.publish(make_post("threads", threads.signed("clip", past), post_id="p.clip"), ledger)
    assert "FAILED_DOWNLOADING_VIDEO" in str(video.value) and ledger.get("container")


def test_processing_is_a_state_and_an_expired_container_is_made_again(threads) -> None:  # type: ignore[no-untyped-def]
    r = threads
    r.emulator.inject("slow_processing", seconds=600)
    ledger = StepLedger(durable=True)
    r.publisher.inline_wait = 0
    with pytest.raises(Pending):
        r.publisher.publish(make_post("threads", r.signed("clip")), ledger)
    first = ledger.get("container")
    r.clock.advance(dt.timedelta(hours=25))  # nobody came back for a day: the container expired
    with pytest.raises(Pending):  # a new container, processing in its turn
        r.publisher.publish(make_post("threads", r.signed("clip")), ledger)
    assert ledger.get("container") != first
    result = r.publisher.publish(make_post("threads", r.signed("clip")), ledger)
    assert ledger.get("container") != first and result.extra["container_id"] == ledger.get("container")
    assert len(r.emulator.published) == 1


def test_the_daily_quota_pauses_the_channel(threads, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(type(threads.emulator), "_used", lambda self, user: 250)
    with pytest.raises(RateLimited) as limited:
        threads.publisher.publish(make_post("threads", None, text="hello"))
    assert "250" in str(limited.value) and limited.value.retry_after > 0 and not threads.emulator._containers
    used, allowed = threads.publisher.publishing_quota()
    assert (used, allowed) == (250, 250)


def test_a_lost_publish_answer_is_found_not_sent_twice(threads) -> None:  # type: ignore[no-untyped-def]
    r = threads
    r.emulator.inject("drop_after_create", on="create")
    post = make_post("threads", r.signed("photo"))
    ledger = StepLedger()
    with pytest.raises((OutcomeUnknown, TransientError)):
        r.publisher.publish(post, ledger)
    found = r.publisher.find_existing(post)
    assert found is not None and found.remote_id == r.emulator.published[0]["id"] and len(r.emulator.published) == 1
    assert r.publisher.find_existing(make_post("threads", None, text="never posted")) is None


def test_figures_grow_with_age(threads) -> None:  # type: ignore[no-untyped-def]
    result = threads.publisher.publish(make_post("threads", None, text="figures"))
    early = figures.collect(threads.publisher, result.remote_id, None)
    threads.clock.advance(dt.timedelta(days=3))
    late = figures.collect(threads.publisher, result.remote_id, None)
    assert set(late.raw) == {"views", "likes", "replies", "reposts", "quotes"}
    assert late.impressions > early.impressions >= 0 and late.likes >= early.likes


def test_an_expired_token_is_401_and_refresh_needs_a_day(threads) -> None:  # type: ignore[no-untyped-def]
    r = threads
    r.emulator.inject("expired_token")
    answer = requests.get(f"{r.emulator.api_url}/v1.0/me", params={"access_token": r.emulator.token}, timeout=5)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 190
    fresh = requests.get(f"{r.emulator.base_url}/refresh_access_token",
                         params={"grant_type": "th_refresh_token", "access_token": r.emulator.token}, timeout=5).json()
    assert set(fresh) == set(DOCS["refresh_access_token"]["body"]) and fresh["token_type"] == "bearer"


def test_emulator_answers_have_the_shape_meta_documents(threads) -> None:  # type: ignore[no-untyped-def]
    r = threads
    token = {"access_token": r.emulator.token}
    made = requests.post(f"{r.emulator.api_url}/v1.0/{r.emulator.account}/threads",
                         params={**token, "media_type": "TEXT", "text": "shape"}, timeout=5).json()  # parameters in the query, as pythreads sends them
    status = requests.get(f"{r.emulator.api_url}/v1.0/{made['id']}", params={**token, "fields": "status,error_message"},
                          timeout=5).json()
    assert set(status) == set(DOCS["container_status_finished"]["body"]) and status["status"] in ("IN_PROGRESS", "FINISHED")
    limit = requests.get(f"{r.emulator.api_url}/v1.0/{r.emulator.account}/threads_publishing_limit",
                         params={**token, "fields": "quota_usage,config"}, timeout=5).json()
    documented = DOCS["publishing_limit"]["body"]["data"][0]
    assert set(limit["data"][0]) == set(documented) and limit["data"][0]["config"] == documented["config"]


def test_the_publisher_reads_metas_documented_error_answer(threads, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    publisher = threads.publisher
    monkeypatch.setattr(publisher, "request", lambda *args, **kwargs: None)  # Meta's printed answer instead of the emulator's
    monkeypatch.setattr(publisher, "json", lambda _response: DOCS["container_status_error"]["body"])
    with pytest.raises(PermanentError) as failed:
        publisher._container_ready("17889615691921648")
    assert "FAILED_DOWNLOADING_VIDEO" in str(failed.value)
    monkeypatch.setattr(publisher, "json", lambda _response: DOCS["container_status_finished"]["body"])
    assert publisher._container_ready("17889615691921648") is True


@pytest.mark.parametrize("text, length", [("a" * 10, 10), ("👍", 4), ("👍🏽", 8), ("🇧🇪", 8), ("é ü", 3), ("日本", 2), ("❤️", 6)])
def test_text_counts_emoji_as_their_utf8_bytes(text: str, length: int) -> None:
    assert threads_length(text) == length == emulator_length(text)


def test_caption_rules_name_the_limit() -> None:
    assert any("500" in p for p in check_caption("threads", "👍" * 126))  # 504: over, though 126 characters
    assert check_caption("threads", "👍" * 125) == []
    links = " ".join(f"https://example{i}.be" for i in range(6))
    assert any("5 links" in p or "more than 5" in p for p in check_caption("threads", links))


def test_a_connected_channel_gets_a_long_lived_token_and_renews_it(threads) -> None:  # type: ignore[no-untyped-def]
    """The generic OAuth client (scheduler/platforms/oauth.py) with Threads' spec: the code gives a
    short-lived token that the connection exchanges at once (th_exchange_token), later renewals refresh it
    (th_refresh_token) once it is a day old; an expired token is TokenExpired (renew, then retry)."""
    from urllib.parse import parse_qsl, urlsplit

    from scheduler.platforms.oauth import RefreshRequest, authorize_url, exchange_code, renew
    from scheduler.platforms.threads.oauth import OAUTH
    from scheduler.platforms.base import TokenExpired
    from testkit.connections import CALLBACK, approve

    r, oauth = threads, threads.emulator.oauth
    api = r.emulator.overrides("")
    url = authorize_url(OAUTH, api, client_id=oauth.client_id, redirect_uri=CALLBACK, state="s1", verifier=None)
    assert "scope=threads_basic%2Cthreads_content_publish%2Cthreads_manage_insights" in url and "code_challenge" not in url
    code = dict(parse_qsl(urlsplit(approve(url, r.emulator.account)).query))["code"]
    # the code gives a 1-hour token; exchange_code trades it at once (th_exchange_token) for the one kept
    long = exchange_code(OAUTH, api, client_id=oauth.client_id, client_secret=oauth.client_secret, code=code,
                         redirect_uri=CALLBACK, verifier=None, now=r.clock.now())
    assert long.expires_at == r.clock.now() + dt.timedelta(days=60) and long.refresh_token is None

    def renewed(token: str):  # type: ignore[no-untyped-def]
        return renew(RefreshRequest(OAUTH, api["token_url"], oauth.client_id, oauth.client_secret, token, None, r.clock.now(),
                                    requests.Session(), 5.0))

    publisher = type(r.publisher)(r.publisher.channel_id, r.publisher.account,
                                  r.publisher.credentials.with_values(TOKEN=long.access_token), api=r.overrides, clock=r.clock)
    assert publisher.publish(make_post("threads", None, text="with a connected token")).remote_id
    r.clock.advance(dt.timedelta(days=2))
    later = renewed(long.access_token)
    assert later.access_token != long.access_token and later.expires_at == r.clock.now() + dt.timedelta(days=60)
    r.clock.advance(dt.timedelta(days=61))
    with pytest.raises(TokenExpired):
        publisher.publish(make_post("threads", None, text="after sixty days"))
    publisher.close()
