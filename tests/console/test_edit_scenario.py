"""Issue 19's scenario end to end in Chromium, on a copy of the sample calendar in a git
repository: a manager asks for approval on embassy-tokyo and adds a moment for a trade mission
to Japan, seeing its cards while typing, and saves (the commit holds only the new lines); an
editor of embassy-tokyo rewrites the Japanese quote and is refused on a national channel; the
approver of embassy-tokyo gets one email (a real SMTP server on loopback), selects the week and
approves its posts in one action; the daemon's dispatcher then publishes them to the emulators."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from testkit.console import edit_rig  # noqa: F401 (the `rig` fixture: a copy of the sample calendar in git)
from testkit.console import digest_mails, git, publish_on_emulators, waiting
from test_console_browser import browser, open_as  # noqa: F401 (browser: a fixture)
from test_review_scenario import approve_the_first_week

pytestmark = [pytest.mark.slow,  # drives Chromium through the console
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")]

QUOTE_JA = "imecでの研究で、ベルギーの開かれた協力を肌で感じました。"



def confirm_save(page) -> str:  # type: ignore[no-untyped-def]
    """Save…, read what the confirmation says it does, confirm; the flash after the save."""
    page.click("button:has-text('Save…')")
    said = page.locator("p.impact").inner_text()
    page.click("button:has-text('Confirm: save')")
    page.locator("p.flash").wait_for()
    return said + " | " + page.locator("p.flash").inner_text()


def test_edit_then_review_then_publish(browser, server, rig, tmp_path) -> None:  # noqa: F811
    folder = rig.calendar_path.parent
    page = open_as(browser, server, "ada", start="/edit")

    # the manager asks for approval on embassy-tokyo (a channel form: admins only)
    page.goto(server + "/edit/channels/embassy-tokyo")
    page.check("input[name=approval]")
    said = confirm_save(page)
    assert "(already approved" not in said and "changes" in said
    assert git(folder, "show", "--numstat", "--format=", "HEAD").startswith("1\t0\t")  # `approval: true`

    # ... and adds the trade mission to Osaka: the cards appear while typing
    page.goto(server + "/edit")
    page.click("a:has-text('New moment')")
    page.fill("input[name=id]", "trade-mission-osaka-2027")
    page.fill("input[name=title]", "Belgian trade mission to Osaka")
    page.fill("input[name='titles.ja']", "大阪へのベルギー貿易ミッション")
    page.fill("input[name=start]", "2027-09-13")
    page.fill("input[name=end]", "2027-09-16")
    page.select_option("select[name=pillar]", "innovation")
    for channel in ("embassy-tokyo", "be-x"):
        page.check(f"input[name=channels][value={channel}]")
    for language in ("ja", "en"):
        page.check(f"input[name=languages][value={language}]")
    page.check("input[name=testimonials][value=aiko-tanaka]")
    page.fill("input[name=hashtags]", "BelgiumJapan EmbracingOpenness")
    page.fill("input[name=link]", "https://www.belgium.be/en/embracing-openness")
    # each tick and keystroke asks for a preview and htmx answers them in turn, so for a moment
    # the preview can show an earlier state of the form (CI once read 6 cards there, a state
    # before the ticks were all in): wait for the settled preview, then read it
    expect(page.locator("#preview article.card")).to_have_count(3, timeout=15_000)
    assert "大阪へのベルギー貿易ミッション" in page.locator("#preview").inner_text()
    assert "Saving adds 3 posts." in page.locator("#preview p.impact").inner_text()
    said = confirm_save(page)
    assert "adds 3 posts" in said and "saved: Add moment trade-mission-osaka-2027" in said
    diff = git(folder, "show", "--format=", "HEAD")
    assert not [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert git(folder, "log", "-1", "--format=%an") == "ada\n"
    osaka = [p.id for p in rig.store.all_posts() if p.moment_id == "trade-mission-osaka-2027"]
    assert len(osaka) == 3
    page.context.close()

    # an editor of embassy-tokyo edits the Japanese quote, and is refused on a national channel
    page = open_as(browser, server, "kenji", start="/edit")
    page.goto(server + "/edit/testimonials/aiko-tanaka")
    assert page.locator("input[name=name]").get_attribute("readonly") is not None
    page.fill("textarea[name='quote.ja']", QUOTE_JA)
    page.locator("#preview article.card").first.wait_for()
    said = confirm_save(page)
    assert "saved: Edit testimonial aiko-tanaka: quote.ja" in said
    assert git(folder, "show", "--numstat", "--format=", "HEAD").startswith("1\t1\t")
    assert all(QUOTE_JA in p.caption for p in rig.store.all_posts()
               if p.channel_id == "embassy-tokyo" and p.language == "ja" and p.media
               and p.media.testimonial_id == "aiko-tanaka")
    response = page.goto(server + "/edit/moments/mission-japan-2027")
    assert response.status == 403
    assert "names channels be-linkedin, be-x" in page.inner_text("main")
    page.context.close()

    # the approver of embassy-tokyo gets one email, selects the week and approves in one action
    from campaign.calendar import load_calendar
    from scheduler.store import states

    mails, calendar = digest_mails(rig.store, rig.clock, load_calendar(rig.calendar_path).calendar, server)
    assert [to for to, _ in mails] == [["tomo@example.org"]]
    tokyo = waiting(rig.store, "embassy-tokyo")
    assert set(osaka) & set(tokyo) and f"{len(tokyo)} posts wait for your approval" in mails[0][1]
    link = re.search(re.escape(server) + r"/\?needs=me", mails[0][1]).group(0)  # type: ignore[union-attr]

    week_posts = approve_the_first_week(browser, server, link, tokyo)
    assert {p.state for p in rig.store.posts_by_id(week_posts)} == {states.APPROVED}

    # the daemon's dispatcher then publishes them to the emulators
    published, received = publish_on_emulators(rig.store, rig.clock, calendar, rig.build, tmp_path / "outbox", week_posts)
    assert {p.state for p in published} == {states.PUBLISHED}, [(p.id, p.state, p.last_error) for p in published]
    assert sorted(e["id"] for e in received) == sorted(p.remote_id for p in published)
