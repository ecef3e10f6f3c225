"""Renewal: before expiry by the daemon's job, once per store, never mid-publish, before a
publish when the campaign clock jumped, once after a 401 that a renewal cures; a revoked refresh
token ends in one `reconnect_needed` and a paused channel; a renewal killed at each step loses
the connection only in the documented case, and says so."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest

from scheduler.connections import renew as renew_module
from scheduler.connections.credentials import resolve
from scheduler.daemon import Dispatcher
from scheduler.daemon.logs import EventLog
from scheduler.platforms.base import AuthError
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import publisher_for
from scheduler.store import states, sync_plan
from testkit.channels import channel
from testkit.channels import ACCOUNTS
from testkit.connections import START, connect, race, token_rig
from testkit.scheduler import make_post


class Events(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(getattr(record, "fields", {}))

    def named(self, name: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == name]


@pytest.fixture
def events():
    logger = logging.getLogger("test.renewal")
    handler = Events()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def rig(tmp_path):
    made = token_rig(tmp_path)
    connect(made.vault, made.emulator, "be-x", "belgium", START)
    yield made
    made.close()


def refreshes(rig) -> list[bool]:
    return [ok for _account, ok in rig.emulator.oauth.refreshes]


def test_the_job_renews_inside_the_margin_only_and_logs_the_new_expiry(rig, events):
    renewer = rig.renewer(log=EventLog(logging.getLogger("test.renewal")))
    first = rig.vault.get("be-x")
    rig.clock.advance(dt.timedelta(minutes=107))  # X: 2 h, margin 12 min
    assert renewer.run_once() == {} and refreshes(rig) == []
    rig.clock.advance(dt.timedelta(minutes=2))
    assert renewer.run_once() == {"be-x": "renewed"}
    second = rig.vault.get("be-x")
    assert second.refresh_token != first.refresh_token and second.expires_at == rig.clock.now() + dt.timedelta(hours=2)
    assert rig.emulator.oauth.state_of(second.access_token) == ("ok", "belgium")
    assert [e["channel"] for e in events.named("token_refreshed")] == ["be-x"]
    assert events.named("token_refreshed")[0]["expires_at"] == second.expires_at.isoformat()
    assert first.access_token not in str(events.events) and second.refresh_token not in str(events.events)


def test_a_revoked_refresh_token_ends_in_one_reconnect_needed_and_a_paused_channel(rig, events):
    renewer = rig.renewer(log=EventLog(logging.getLogger("test.renewal")))
    rig.emulator.oauth.revoke_refresh_tokens("belgium")
    rig.clock.advance(dt.timedelta(hours=3))
    for _ in range(5):
        renewer.run_once()
    assert refreshes(rig) == [False]  # asked once, never again with a dead refresh token
    assert len(events.named("reconnect_needed")) == 1
    paused = rig.store.channel_states()["be-x"]
    assert paused["paused"] and "reconnect needed" in paused["reason"] and "revoked" in paused["reason"]
    with pytest.raises(AuthError, match="reconnect needed"):
        renewer.before_publish("be-x")
    assert refreshes(rig) == [False]


def test_three_daemons_on_one_store_renew_once(store_spec, tmp_path):
    url, schema = store_spec
    made = token_rig(tmp_path, url=url, schema=schema)
    try:
        connect(made.vault, made.emulator, "be-x", "belgium", START)
        renewers = [made.renewer(worker=f"host:{n}:w") for n in range(3)]
        for window in range(3):
            made.clock.advance(dt.timedelta(minutes=110))
            race(*(r.run_once for r in renewers))
            assert refreshes(made) == [True] * (window + 1)
        assert made.vault.get("be-x").renewals == 3
    finally:
        made.close()


def test_the_job_a_publish_and_the_figures_of_one_daemon_renew_once(rig):
    renewer = rig.renewer(worker="host:1:one")
    rig.clock.advance(dt.timedelta(minutes=110))
    race(renewer.run_once, lambda: renewer.before_publish("be-x"), lambda: renewer.ensure_fresh("be-x"))
    assert refreshes(rig) == [True] and rig.vault.get("be-x").reconnect is None


def test_no_renewal_while_the_channel_publishes(rig):
    sync_plan(rig.store, [make_post("busy", at=START)], START)
    rig.clock.advance(dt.timedelta(minutes=110))
    claim = rig.store.claim_next("other:1:x", rig.clock.now(), lease_seconds=900)
    assert claim is not None
    renewer = rig.renewer()
    assert renewer.run_once() == {"be-x": "busy"} and refreshes(rig) == []


class Killed(BaseException):
    """Plays SIGKILL at a crash point inside this process (the fault harness does it for real)."""


@pytest.mark.parametrize("point, lost", [("renew_before_request", False), ("renew_after_answer", True),
                                         ("renew_after_write", False)])
def test_a_renewal_killed_at_each_step_loses_only_the_documented_case(rig, events, monkeypatch, point, lost):
    def crash(name):
        if name == point:
            raise Killed(name)

    monkeypatch.setattr(renew_module, "crash_point", crash)
    dying = rig.renewer(worker="host:1:dying")
    dying.lease_seconds = 0.05
    rig.clock.advance(dt.timedelta(minutes=110))
    with pytest.raises(Killed):
        dying.run_once()
    monkeypatch.setattr(renew_module, "crash_point", lambda _name: None)
    time.sleep(0.1)  # the dead daemon's lease lapses
    restarted = rig.renewer(worker="host:2:restarted", log=EventLog(logging.getLogger("test.renewal")))
    rig.clock.advance(dt.timedelta(minutes=5))
    outcome = restarted.run_once().get("be-x")
    reconnect = events.named("reconnect_needed")
    if lost:
        assert outcome == "reconnect_needed" and len(reconnect) == 1
        assert "never stored its answer" in reconnect[0]["message"] and "single-use" in reconnect[0]["message"]
        assert rig.store.channel_states()["be-x"]["paused"]
    else:
        assert outcome in ("renewed", None) and reconnect == []
        connection = rig.vault.get("be-x")
        assert connection.intent_at is None and rig.emulator.oauth.state_of(connection.access_token)[0] == "ok"
        assert rig.emulator.oauth.live_refresh_tokens("belgium") == 1


def x_dispatcher(rig, renewer, platform: str = "x"):
    channel_id = f"be-{platform}"
    creds = resolve(channel_id, platform, rig.vault, static=lambda required: Credentials(
        channel_id, platform, rig.emulator.credentials_of(rig.emulator.account, rig.emulator.token) | {"TOKEN": ""}))
    publisher = publisher_for(channel(platform), credentials=creds, api_overrides=rig.emulator.overrides(""), clock=rig.clock,
                              timeout=5.0)
    return Dispatcher(rig.store, rig.clock, lambda _c: publisher, worker="test:0:a", tokens=renewer)


def test_a_publish_after_a_long_jump_of_the_clock_renews_first(rig, events):
    renewer = rig.renewer(log=EventLog(logging.getLogger("test.renewal")))
    post = make_post("later", at=START + dt.timedelta(hours=5))
    sync_plan(rig.store, [post], START)
    rig.clock.set(START + dt.timedelta(hours=5))  # the rehearsal's clock jumps past the token's 2 h
    report = x_dispatcher(rig, renewer).run_once()
    assert report.published == [post.id] and refreshes(rig) == [True]
    assert rig.emulator.published[0]["account"] == "belgium"
    assert [e["channel"] for e in events.named("token_refreshed")] == ["be-x"]


def test_a_401_on_a_young_token_pauses_without_renewing(rig):
    renewer = rig.renewer()
    post = make_post("refused", at=START + dt.timedelta(minutes=30))
    sync_plan(rig.store, [post], START)
    rig.clock.set(START + dt.timedelta(minutes=30))
    rig.emulator.inject("expired_token")
    x_dispatcher(rig, renewer).run_once()
    assert refreshes(rig) == [] and rig.store.channel_states()["be-x"]["paused"]
    assert rig.store.get(post.id).state == states.DUE


def test_a_401_that_says_expired_renews_once_and_the_post_goes_out(tmp_path):
    """LinkedIn (a partner app, with refresh tokens) says EXPIRED_ACCESS_TOKEN before the stored expiry
    (its clock ran ahead): the token is renewed once and the post goes out again at once."""
    rig = token_rig(tmp_path, "linkedin", account=ACCOUNTS["linkedin"], refresh_tokens=True)
    try:
        connect(rig.vault, rig.emulator, "be-linkedin", rig.emulator.account, START)
        renewer = rig.renewer()
        post = make_post("early-end", channel="be-linkedin", platform="linkedin", at=START + dt.timedelta(days=1))
        sync_plan(rig.store, [post], START)
        rig.clock.set(START + dt.timedelta(days=1))
        old = rig.vault.get("be-linkedin").access_token
        rig.emulator.oauth.access[old].expires_at = rig.clock.now()  # the platform ended it early
        dispatcher = x_dispatcher(rig, renewer, "linkedin")
        report = dispatcher.run_once()
        assert report.retrying == [post.id] and report.published == [post.id]  # renewed, then out in the same pass
        assert refreshes(rig) == [True] and rig.emulator.published[0]["token_generation"] == 1
        assert not rig.store.channel_states().get("be-linkedin", {}).get("paused")
    finally:
        rig.close()


def test_a_revoked_refresh_token_queues_one_notice_to_the_admins_not_one_per_attempt(rig, events):
    """The daemon's token job (renewal + warnings + the notify outbox, as `daemon` builds it)."""
    from types import SimpleNamespace

    from scheduler.connections.job import TokenJob
    from scheduler.notify.outbox import Outbox

    admins = SimpleNamespace(recipients=[SimpleNamespace(failures=True, email="admin@example.org", webhook=None,
                                                         key="admin", approves=[])], email=None)
    calendar = SimpleNamespace(notifications=admins, channels=[SimpleNamespace(id="be-x")])
    emulator = rig.emulator
    pool = SimpleNamespace(  # the dispatcher's pool as TokenJob asks it: the app's credentials, the emulator's endpoints
        static_credentials=lambda c: Credentials(c, emulator.platform, emulator.credentials_of(emulator.account, emulator.token)),
        api_settings=lambda _c: emulator.overrides(""))
    job = TokenJob(rig.store, rig.clock, rig.vault, pool, lambda: calendar, EventLog(logging.getLogger("test.renewal")))
    emulator.oauth.revoke_refresh_tokens("belgium")
    for _ in range(4):  # the job runs every 30 s; the campaign clock moves on between runs
        rig.clock.advance(dt.timedelta(hours=3))
        job.run_once()
    assert refreshes(rig) == [False] and len(events.named("reconnect_needed")) == 1
    assert rig.store.channel_states()["be-x"]["paused"]
    notices = Outbox(rig.store).rows()
    assert [(n["subject"], n["target"]) for n in notices] == [("be-x: reconnect needed", "admin@example.org")]
    assert "revoked" in notices[0]["body"] and rig.vault.get("be-x").refresh_token not in notices[0]["body"]
