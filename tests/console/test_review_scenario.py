"""The review scenario end to end, as the issue tells it: the approver of embassy-tokyo gets one
email (a real SMTP server on loopback), follows its link, selects the week in Chromium and
approves its posts in one action; the dispatcher then publishes them to the emulators."""

from __future__ import annotations

import re

import pytest

from testkit.console import digest_mails, planned_calendar, publish_on_emulators, waiting
from test_console_browser import browser, open_as  # noqa: F401 (browser: a fixture)

pytestmark = [pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
              pytest.mark.slow]  # drives Chromium through the console, a real SMTP server and the emulators


def approve_the_first_week(browser, server: str, link: str, waiting_ids: list[str]) -> list[str]:  # type: ignore[no-untyped-def] # noqa: F811
    """tomo follows the email's link, selects the first week and approves it in one action,
    after a confirmation that lists exactly its posts; the ids approved."""
    page = open_as(browser, server, "tomo", width=1400)
    page.goto(link)
    first = page.locator("article.card").first.get_attribute("id")
    week = page.locator("section.week").first
    week_posts = [i for i in week.locator("article.card").evaluate_all("els => els.map(e => e.id)") if i in waiting_ids]
    assert first in week_posts
    week.locator("button:has-text('Approve this week')").click()
    dialog = page.locator("#review-dialog")
    dialog.locator("button.primary").wait_for()
    assert sorted(dialog.locator("input[name=post]").evaluate_all("els => els.map(e => e.value)")) == sorted(week_posts)
    dialog.locator("button.primary").click()
    page.locator(".toast").wait_for()
    page.context.close()
    return week_posts


def test_one_email_then_a_week_approved_in_one_action_then_published(browser, server, rig, tmp_path) -> None:  # noqa: F811
    from scheduler.store import states

    mails, calendar = digest_mails(rig.store, rig.clock, planned_calendar().calendar, server)
    assert [to for to, _ in mails] == [["tomo@example.org"]]  # one email, to the approver; nothing failed
    tokyo = waiting(rig.store, "embassy-tokyo")
    assert f"{len(tokyo)} posts wait for your approval" in mails[0][1]
    link = re.search(re.escape(server) + r"/\?needs=me", mails[0][1]).group(0)

    week_posts = approve_the_first_week(browser, server, link, tokyo)
    assert {p.state for p in rig.store.posts_by_id(week_posts)} == {states.APPROVED}

    # the daemon's dispatcher, on the campaign clock, publishes them to the emulators
    published, received = publish_on_emulators(rig.store, rig.clock, calendar, rig.build, tmp_path / "outbox", week_posts)
    assert {p.state for p in published} == {states.PUBLISHED}, [(p.id, p.state, p.last_error) for p in published]
    assert sorted(e["id"] for e in received) == sorted(p.remote_id for p in published)
