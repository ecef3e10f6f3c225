"""The review scenario end to end, as the issue tells it: the approver of embassy-tokyo gets one
email (a real SMTP server on loopback), follows its link, selects the week in Chromium and
approves its posts in one action; the dispatcher then publishes them to the emulators."""

from __future__ import annotations

import re
import socket
from email import message_from_bytes
from email.policy import default as email_policy

import pytest

from test_console_browser import browser, open_as  # noqa: F401 (browser: a fixture)
from testkit.console import planned_calendar, waiting
from testkit.scheduler import render_stand_ins

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def event(self, event: str, message: str = "", **fields) -> None:  # type: ignore[no-untyped-def]
        self.events.append(event)


def test_one_email_then_a_week_approved_in_one_action_then_published(browser, server, rig, tmp_path) -> None:  # noqa: F811
    from aiosmtpd.controller import Controller

    from campaign.calendar.models import EmailServer, Notifications, Recipient
    from campaign.clock import FakeClock
    from scheduler.daemon import DispatchConfig, Dispatcher
    from scheduler.daemon.publishers import PublisherPool
    from emulators import Sandbox
    from scheduler.notify.job import NotifyJob
    from scheduler.store import states

    mails: list = []

    class Handler:
        async def handle_DATA(self, smtp, session, envelope):  # type: ignore[no-untyped-def] # noqa: N802
            message = message_from_bytes(envelope.content, policy=email_policy)
            mails.append((envelope.rcpt_tos, message["Subject"] + "\n" + message.get_content()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    calendar = planned_calendar().calendar.model_copy(update={"notifications": Notifications(
        console=server, email=EmailServer(host="127.0.0.1", port=port, security="none", sender="campaign@example.org"),
        recipients=[Recipient(email="tomo@example.org", approves=["embassy-tokyo"]),
                    Recipient(email="ines@example.org", failures=True)])})
    try:
        NotifyJob(rig.store, rig.clock, lambda: calendar, Log()).run_once()
    finally:
        smtp.stop()
    assert [to for to, _ in mails] == [["tomo@example.org"]]  # one email, to the approver; nothing failed
    tokyo = waiting(rig.store, "embassy-tokyo")
    assert f"{len(tokyo)} posts wait for your approval" in mails[0][1]
    link = re.search(re.escape(server) + r"/\?needs=me", mails[0][1]).group(0)

    page = open_as(browser, server, "tomo", width=1400)
    page.goto(link)
    first = page.locator("article.card").first.get_attribute("id")
    week = page.locator("section.week").first
    week_posts = [i for i in week.locator("article.card").evaluate_all("els => els.map(e => e.id)") if i in tokyo]
    assert first in week_posts
    week.locator("button:has-text('Approve this week')").click()
    dialog = page.locator("#review-dialog")
    dialog.locator("button.primary").wait_for()
    assert sorted(dialog.locator("input[name=post]").evaluate_all("els => els.map(e => e.value)")) == sorted(week_posts)
    dialog.locator("button.primary").click()
    page.locator(".toast").wait_for()
    page.context.close()
    assert {p.state for p in rig.store.posts_by_id(week_posts)} == {states.APPROVED}

    # the daemon's dispatcher, on the campaign clock, publishes them to the emulators
    posts = rig.store.posts_by_id(week_posts)
    render_stand_ins(posts, rig.build)
    clock = FakeClock(rig.clock.now())
    sandbox = Sandbox(calendar, rig.build)
    pool = PublisherPool(lambda: calendar, sandbox=sandbox, outbox_dir=tmp_path / "outbox", timeout=10,
                         options={"poll_interval": 0.02})
    dispatcher = Dispatcher(rig.store, clock, pool, calendar=calendar, config=DispatchConfig(build_dir=rig.build))
    try:
        for post in posts:
            clock.set(max(post.scheduled_at, clock.now()))
            dispatcher.run_once()
        published = rig.store.posts_by_id(week_posts)
        assert {p.state for p in published} == {states.PUBLISHED}, [(p.id, p.state, p.last_error) for p in published]
        assert sorted(e["id"] for e in sandbox.received("embassy-tokyo")) == sorted(p.remote_id for p in published)
    finally:
        dispatcher.close()
        pool.close()
        sandbox.stop()
