"""Issue 12: every way an answer can go missing, against the real emulators and publishers.

Each test counts what the platform (the emulator) holds, never only what the store says.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import pytest

from campaign.clock import FakeClock
from testkit.faults import START, Platforms, make_media, planned
from testkit.scheduler import LedgerPublisher, make_post, receipts
from scheduler.platforms.base import OutgoingPost, PermanentError, Publisher, PublishResult, StepLedger, TransientError
from scheduler.daemon import DispatchConfig, Dispatcher, RetryPolicy
from scheduler.store import states, sync_plan


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("build"))


@pytest.fixture
def world(build):
    made = []

    def start(*platforms: str, clock: FakeClock | None = None, **options):
        clock = clock or FakeClock(START)
        platforms_ = Platforms(clock, build, platforms, **options)
        made.append(platforms_)
        return platforms_

    yield start
    for p in made:
        p.stop()


def dispatcher_for(store, platforms: Platforms, build, **config) -> Dispatcher:
    return Dispatcher(store, platforms.clock, platforms, worker="test:0:a", rng=lambda: 1.0,
                      config=DispatchConfig(build_dir=build, **config))


def drain(dispatcher: Dispatcher, store, clock: FakeClock, *, until: dt.datetime) -> None:
    """Run passes at every due time until nothing is due (or `until`)."""
    while (due := store.next_due_at()) is not None and due <= until:
        clock.set(max(due, clock.now()))
        dispatcher.run_once()


# -- finding 1: a lost answer, retried after the idempotency window --------------------------------

def test_lost_mastodon_answer_retried_after_the_hour_is_looked_up_not_sent_again(store, world, build):
    platforms = world("mastodon")
    post = planned("lost-answer", "mastodon")
    sync_plan(store, [post], START)
    mastodon = platforms.emulators["mastodon"]
    mastodon.inject("drop_after_create", on="create")
    dispatcher = dispatcher_for(store, platforms, build)
    dispatcher.run_once()
    assert store.get(post.id).state == states.RETRY_WAIT
    assert len(platforms.on("mastodon")) == 1  # created, answer lost
    assert "create_sent" in store.steps(post.id)
    mastodon.inject("rate_limit", on="create", retry_after=2 * 3600)  # the retry is answered 429 for two hours
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=3))
    row = store.get(post.id)
    assert platforms.clock.now() - START > dt.timedelta(hours=1)  # beyond Mastodon's memory of the key
    assert len(platforms.on("mastodon")) == 1, "Mastodon holds the status twice"
    assert row.state == states.PUBLISHED and row.remote_id == platforms.on("mastodon")[0]["id"]


def test_mastodon_emulator_forgets_an_idempotency_key_after_an_hour(world):
    """The emulator behaves like Mastodon (keys kept one hour), so the test above can fail."""
    import requests

    platforms = world("mastodon")
    mastodon = platforms.emulators["mastodon"]
    send = lambda: requests.post(mastodon.base_url + "/api/v1/statuses", data={"status": "same"},  # noqa: E731
                                 headers={"Authorization": f"Bearer {mastodon.token}", "Idempotency-Key": "k1"}, timeout=5)
    first, again = send().json()["id"], send().json()["id"]
    platforms.clock.advance(3601)
    later = send().json()["id"]
    assert first == again and later != first and len(mastodon.published) == 2


def test_x_create_lost_is_held_and_a_5xx_on_create_is_not_blindly_resent(store, world, build):
    platforms = world("x")
    lost, flaky = planned("x-lost", "x"), planned("x-5xx", "x", START + dt.timedelta(minutes=1))
    sync_plan(store, [lost, flaky], START)
    x = platforms.emulators["x"]
    x.inject("drop_after_create", on="create")
    dispatcher = dispatcher_for(store, platforms, build)
    dispatcher.run_once()
    assert store.get(lost.id).state == states.UNKNOWN
    x.inject("server_error", on="create")
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=3))
    # a 500 to the create request may hide a created post: X cannot be searched, so hold it
    assert store.get(flaky.id).state == states.UNKNOWN
    assert len(platforms.on("x")) == 1 and x.duplicate_refusals == []


# -- finding 2: slow platform work is a state, channels publish independently ----------------------

@pytest.mark.slow  # polls a processing reel across passes (~2-3 s)
def test_a_reel_processing_for_20_minutes_does_not_delay_other_channels(store, world, build):
    platforms = world("instagram", "x", "mastodon")
    reel = planned("reel", "instagram", media="clip")
    tweet, toot = planned("tweet", "x"), planned("toot", "mastodon", START + dt.timedelta(minutes=5))
    sync_plan(store, [reel, tweet, toot], START)
    platforms.emulators["instagram"].inject("slow_processing", seconds=20 * 60)  # 20 minutes of campaign time
    dispatcher = dispatcher_for(store, platforms, build)
    dispatcher.run_once()
    assert store.get(reel.id).state == states.PROCESSING
    published = store.get(tweet.id)
    assert published.state == states.PUBLISHED and published.published_at - START <= dt.timedelta(seconds=10)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=1))
    assert store.get(toot.id).published_at - toot.scheduled_at <= dt.timedelta(seconds=10)
    row = store.get(reel.id)
    assert row.state == states.PUBLISHED, (row.state, row.last_error)
    assert len(platforms.on("instagram")) == 1
    assert sum(1 for m, path in platforms.emulators["instagram"].requests if m == "POST" and path.endswith("/media")) == 1


@pytest.mark.slow  # waits out a hanging request's time-out (~3.5 s)
def test_a_hanging_request_on_one_channel_never_delays_another(store, world, build):
    platforms = world("x", "mastodon")
    stuck, free = planned("stuck", "x"), planned("free", "mastodon")
    sync_plan(store, [stuck, free], START)
    platforms.emulators["x"].inject("timeout", on="create", seconds=3)  # the answer never comes
    dispatcher = dispatcher_for(store, platforms, build)
    began = time.monotonic()
    dispatcher.run_once(wait=False)
    while store.get(free.id).state != states.PUBLISHED:
        assert time.monotonic() - began < 2.5, "the Mastodon post waited for X's hanging request"
        time.sleep(0.02)
    assert store.get(stuck.id).state == states.PUBLISHING  # still in flight on its own worker
    dispatcher.join()
    assert store.get(stuck.id).state == states.UNKNOWN  # X: a lost answer cannot be checked


# -- finding 3: a retry resumes from the last completed step ---------------------------------------

def test_facebook_video_status_500_resumes_without_uploading_again(store, world, build):
    platforms = world("facebook")
    video = planned("fb-video", "facebook", media="clip")
    sync_plan(store, [video], START)
    facebook = platforms.emulators["facebook"]
    facebook.inject("server_error", on="status")
    dispatcher = dispatcher_for(store, platforms, build)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=2))
    row = store.get(video.id)
    assert row.state == states.PUBLISHED, (row.state, row.last_error)
    assert len(platforms.on("facebook")) == 1 and facebook.duplicate_refusals == []
    assert store.attempt_rows(video.id)[0]["outcome"] == "transient"
    assert len(facebook._sessions) == 1  # one upload session: the retry only checked the status again
    assert store.steps(video.id)["create_answered"] == row.remote_id


def test_a_processing_failure_after_the_video_exists_is_held_not_failed(store, world, build):
    platforms = world("facebook")
    video = planned("fb-broken", "facebook", media="clip")
    sync_plan(store, [video], START)
    platforms.emulators["facebook"].inject("processing_failed")
    dispatcher = dispatcher_for(store, platforms, build)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=2))
    row = store.get(video.id)
    assert len(platforms.on("facebook")) == 1  # the video is on the Page
    assert row.state == states.UNKNOWN and "may be on the account" in row.last_error


# -- finding 4: leases are renewed; a daemon that lost its claim changes nothing -------------------

class SlowPublisher(Publisher):
    """Publishes after `release` is set (a long upload), recording each receipt."""

    platform = "slow"

    def __init__(self, *, send_first: bool = False) -> None:
        self.send_first = send_first
        self.release = threading.Event()
        self.started = threading.Event()
        self.created: list[str] = []

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        ledger = ledger or StepLedger()
        if self.send_first:
            ledger.create_sent()
        self.started.set()
        assert self.release.wait(10)
        ledger.create_sent()
        self.created.append(post.post_id)
        return PublishResult(f"r{len(self.created)}", None)


def test_a_publish_longer_than_the_lease_keeps_its_claim(store, tmp_path):
    post = make_post("long-upload", at=START)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    slow = SlowPublisher()
    first = Dispatcher(store, clock, lambda _c: slow, worker="host-a:1:a", config=DispatchConfig(lease_seconds=900))
    other = Dispatcher(store, clock, lambda _c: LedgerPublisher(tmp_path / "l.jsonl", can_find_existing=True),
                       worker="host-b:2:b", config=DispatchConfig(lease_seconds=900))
    first.run_once(wait=False)
    assert slow.started.wait(5)
    for _ in range(3):  # 45 minutes of upload, renewed every 5
        clock.advance(300)
        assert first.renew_leases() == 1
        other.run_once()
    slow.release.set()
    first.join()
    row = store.get(post.id)
    assert row.state == states.PUBLISHED and row.remote_id == "r1"
    assert [a["outcome"] for a in store.attempt_rows(post.id)] == ["published"]


@pytest.mark.parametrize("send_first", [False, True], ids=["lost-before-sending", "lost-after-sending"])
def test_a_daemon_that_lost_its_claim_says_so_and_changes_nothing(store, tmp_path, caplog, send_first):
    post = make_post("taken-over", at=START)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    slow = SlowPublisher(send_first=send_first)
    first = Dispatcher(store, clock, lambda _c: slow, worker="host-a:1:a", config=DispatchConfig(lease_seconds=60))
    other = Dispatcher(store, clock, lambda _c: LedgerPublisher(tmp_path / "l.jsonl"), worker="host-b:2:b",
                       config=DispatchConfig(lease_seconds=60))
    first.run_once(wait=False)
    assert slow.started.wait(5)
    clock.advance(61)  # no renewal (the store was unreachable): the lease expires
    other.run_once()
    decided = store.get(post.id)
    with caplog.at_level(logging.INFO, logger="campaign.daemon"):
        caplog.clear()  # only what the first daemon says from here on (the other one did publish)
        slow.release.set()
        first.join()
    after = store.get(post.id)
    events = [getattr(r, "fields", {}).get("event") for r in caplog.records]
    assert "claim_lost" in events and "published" not in events
    assert (after.state, after.last_error) == (decided.state, decided.last_error)  # the lost daemon changed nothing
    if send_first:  # the other daemon could not tell, so it held the post; the id the first one got is kept
        assert after.state == states.UNKNOWN and store.steps(post.id).get("created") == "r1"
    else:  # it had not sent: it stopped at "create sent", the other daemon published it once
        assert slow.created == [] and receipts(tmp_path / "l.jsonl") == {post.id: 1}
        assert after.state == states.PUBLISHED


# -- finding 5: a post that keeps crashing the daemon is held --------------------------------------
# (the subprocess test lives in test_daemon_kill.py)

# -- finding 6: transient failures retry while the grace window allows -----------------------------

def test_transient_failures_retry_until_the_grace_window_not_six_times(store, tmp_path):
    post = make_post("flaky-day", at=START, grace_seconds=12 * 3600)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    publisher = LedgerPublisher(tmp_path / "ledger.jsonl", faults=[TransientError("HTTP 503")] * 9)
    dispatcher = Dispatcher(store, clock, lambda _c: publisher, rng=lambda: 1.0,
                            config=DispatchConfig(retry=RetryPolicy(base_seconds=60, cap_seconds=3600)))
    while (due := store.next_due_at()) is not None:
        clock.set(due)
        dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == states.PUBLISHED and len(publisher.calls) == 10
    assert receipts(tmp_path / "ledger.jsonl") == {post.id: 1}


def test_transient_failures_stop_at_the_end_of_the_grace_window(store, tmp_path):
    post = make_post("flaky-hour", at=START, grace_seconds=3600)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    publisher = LedgerPublisher(tmp_path / "ledger.jsonl", faults=[TransientError("HTTP 503")] * 50)
    dispatcher = Dispatcher(store, clock, lambda _c: publisher, rng=lambda: 1.0,
                            config=DispatchConfig(retry=RetryPolicy(base_seconds=60, cap_seconds=3600)))
    while (due := store.next_due_at()) is not None:
        clock.set(due)
        dispatcher.run_once()
    row = store.get(post.id)
    assert row.state == states.FAILED and "grace window ended" in row.last_error
    assert clock.now() == store.get(post.id).grace_ends  # the last try was at the very end of the window


def test_a_429_to_the_create_request_is_a_plain_wait_not_a_doubt(store, world, build):
    """A refusal (429) proves nothing was created: the ledger withdraws "create sent", so X
    publishes after the wait instead of holding the post for a person."""
    platforms = world("x")
    post = planned("x-429", "x")
    sync_plan(store, [post], START)
    platforms.emulators["x"].inject("rate_limit", on="create", retry_after=600)
    dispatcher = dispatcher_for(store, platforms, build)
    dispatcher.run_once()
    assert store.get(post.id).state == states.RETRY_WAIT and "create_sent" not in store.steps(post.id)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=1))
    assert store.get(post.id).state == states.PUBLISHED and len(platforms.on("x")) == 1


def test_processing_beyond_the_grace_window_is_missed_and_never_published(store, world, build):
    platforms = world("instagram")
    reel = planned("slow-reel", "instagram", media="clip", grace_seconds=1800)
    sync_plan(store, [reel], START)
    platforms.emulators["instagram"].inject("slow_processing", seconds=2 * 3600)
    dispatcher = dispatcher_for(store, platforms, build)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=4))
    row = store.get(reel.id)
    assert row.state == states.MISSED and "grace window ended" in row.state_reason
    assert platforms.on("instagram") == []


class RefusedAfterRelease(SlowPublisher):
    """Refused by the platform after a long upload (a permanent error, decided too late)."""

    def publish(self, post: OutgoingPost, ledger: StepLedger | None = None) -> PublishResult:
        self.started.set()
        assert self.release.wait(10)
        raise PermanentError("the video is too long")


def test_a_claim_lost_while_recording_an_outcome_is_counted_in_the_pass_report(store, tmp_path):
    post = make_post("lost-then-refused", at=START)
    sync_plan(store, [post], START)
    clock = FakeClock(START)
    slow = RefusedAfterRelease()
    first = Dispatcher(store, clock, lambda _c: slow, worker="host-a:1:a", config=DispatchConfig(lease_seconds=60))
    other = Dispatcher(store, clock, lambda _c: LedgerPublisher(tmp_path / "l.jsonl"), worker="host-b:2:b",
                       config=DispatchConfig(lease_seconds=60))
    report = first.run_once(wait=False)
    assert slow.started.wait(5)
    clock.advance(61)  # the lease expires; the other daemon publishes the post
    other.run_once()
    slow.release.set()
    first.join()
    assert store.get(post.id).state == states.PUBLISHED
    assert report.lost == [post.id] and report.failed == []


def test_the_lease_renewer_does_not_call_a_claim_just_recorded_as_published_lost(store, tmp_path, caplog, monkeypatch):
    """The rehearsal's log said `claim_lost` for posts that were published: the renewer took its
    list of claims in flight, the publish was recorded, then the renewal found the claim gone.
    A claim is lost only when another daemon holds it; a real takeover is still said."""
    posts = [make_post("just-published", at=START), make_post("taken-over", "be-facebook", at=START)]
    sync_plan(store, posts, START)
    clock = FakeClock(START)
    dispatcher = Dispatcher(store, clock, lambda _c: LedgerPublisher(tmp_path / "l.jsonl"), worker="host-a:1:a",
                            config=DispatchConfig(lease_seconds=60))
    recorded = store.record_published

    def recorded_then_renewed(claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        done = recorded(claim, *args, **kwargs)
        dispatcher.renew_leases()  # the renewer's turn comes between the commit and the worker letting go
        return done

    monkeypatch.setattr(store, "record_published", recorded_then_renewed)
    with caplog.at_level(logging.INFO, logger="campaign.daemon"):
        dispatcher.run_once()
    assert store.get(posts[0].id).state == states.PUBLISHED
    events = [getattr(r, "fields", {}).get("event") for r in caplog.records]
    assert "claim_lost" not in events

    # a claim another daemon took over is still said lost
    monkeypatch.undo()
    sync_plan(store, [make_post("taken-over-later", at=START + dt.timedelta(hours=1))], START)
    clock.set(START + dt.timedelta(hours=1))
    claim = store.claim_next("host-a:1:a", clock.now(), lease_seconds=60)
    assert claim is not None
    dispatcher._claims[claim.post.id] = claim  # a publish in flight
    clock.advance(61)
    assert store.take_over(store.get(claim.post.id), "host-b:2:b", clock.now(), lease_seconds=60) is not None
    with caplog.at_level(logging.INFO, logger="campaign.daemon"):
        caplog.clear()
        assert dispatcher.renew_leases() == 0
    assert [getattr(r, "fields", {}).get("event") for r in caplog.records].count("claim_lost") == 1


# -- Threads: a lost threads_publish answer, and the 250-a-day quota ------------------------------------

def test_lost_threads_publish_answer_is_found_among_recent_threads_not_sent_again(store, world, build):
    platforms = world("threads")
    post = planned("lost-threads", "threads", media="photo")
    sync_plan(store, [post], START)
    threads = platforms.emulators["threads"]
    threads.inject("drop_after_create", on="create")
    dispatcher = dispatcher_for(store, platforms, build)
    drain(dispatcher, store, platforms.clock, until=START + dt.timedelta(hours=2))
    row = store.get(post.id)
    assert len(platforms.on("threads")) == 1, "Threads holds the post twice"
    assert row.state == states.PUBLISHED and row.remote_id == platforms.on("threads")[0]["id"]
    assert "container" in store.steps(post.id)  # the container id was kept the moment it existed


def test_a_full_threads_quota_makes_the_channel_wait(store, world, build, monkeypatch):
    platforms = world("threads")
    threads = platforms.emulators["threads"]
    monkeypatch.setattr(type(threads), "_used", lambda self, user: 250)
    post = planned("quota", "threads")
    sync_plan(store, [post], START)
    dispatcher_for(store, platforms, build).run_once()
    assert store.get(post.id).state == states.RETRY_WAIT and not platforms.on("threads")
    assert store.channel_states()["be-threads"]["rate_limited_until"] == START + dt.timedelta(hours=1)
