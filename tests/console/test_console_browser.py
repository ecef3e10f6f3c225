"""The console in a real browser: Playwright drives the system Chromium as each role.

Chromium is the one `.ci/run` installs (apt); Playwright's own browser download is not used.
Without Chromium this fails (never skips) in CI or when CAMPAIGN_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from testkit.console import PASSWORDS, waiting

pytestmark = pytest.mark.slow  # drives Chromium through the console

SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS", "")) if os.environ.get("CONSOLE_SCREENSHOTS") else None


def chromium_path() -> str:
    found = os.environ.get("CAMPAIGN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        message = "Chromium is needed for the console's browser tests: apt-get install chromium"
        if os.environ.get("CI") or os.environ.get("CAMPAIGN_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


def open_as(browser, server: str, name: str, width: int = 1400, start: str = "/"):  # type: ignore[no-untyped-def]
    """A fresh browser context logged in as `name` through the login form, on page `start`."""
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(15_000 if start == "/" else 30_000)
    page.goto(server + start)
    assert "/login" in page.url  # nothing without logging in
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button:has-text('Log in')")
    page.wait_for_url(server + start)
    assert f"{name} ·" in page.inner_text("header")
    return page


def card(page, post_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"article[id='{post_id}']")


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px) on a {page.viewport_size['width']}px screen"


def test_an_approver_approves_and_sends_back_on_their_channel_only(browser, server, rig) -> None:
    page = open_as(browser, server, "tomo")
    tokyo = waiting(rig.store, "embassy-tokyo")
    linkedin = waiting(rig.store, "be-linkedin")
    assert len(tokyo) >= 2 and linkedin
    page.goto(server + "/?channel=embassy-tokyo&state=planned")
    card(page, tokyo[0]).locator("button:has-text('Approve')").click()
    page.wait_for_load_state()
    assert "approved 1 post" in page.inner_text(".flash")
    assert rig.store.get(tokyo[0]).state == "approved"
    # send back, with a comment, from the post's page
    page.goto(server + f"/posts/{tokyo[1]}")
    page.click("summary:has-text('Send back')")
    page.fill("textarea[name=comment]", "The quote is from 2019 — ask for a new one")
    page.click("button:has-text('Send back')")
    page.wait_for_load_state()
    held = rig.store.get(tokyo[1])
    assert held.state == "sent_back" and held.state_reason == "The quote is from 2019 — ask for a new one"
    assert "Sent back: The quote is from 2019" in page.inner_text("main")
    assert "send-back" in page.inner_text("main")  # the history shows it, with the name
    assert "tomo" in page.inner_text("main")
    # not LinkedIn: no button, and the server refuses anyway
    page.goto(server + "/?channel=be-linkedin")
    assert card(page, linkedin[0]).locator("button").count() == 0
    status = page.evaluate("""async ([post]) => {
        const csrf = document.querySelector('input[name=csrf]').value;
        const r = await fetch('/approve', {method: 'POST', body: new URLSearchParams({csrf, post})});
        return r.status; }""", [linkedin[0]])
    assert status == 403 and rig.store.get(linkedin[0]).state == "planned"
    # no pause for an approver, and no accounts page
    page.goto(server + "/operations")
    assert page.locator("button:has-text('Pause')").count() == 0
    response = page.goto(server + "/users")
    assert response.status == 403 and "Only admins" in page.inner_text("main")


def test_a_viewer_sees_everything_and_can_do_nothing(browser, server, rig) -> None:
    page = open_as(browser, server, "vera")
    page.goto(server + "/?state=planned")
    assert page.locator("article.card").count() == len(rig.store.all_posts(state="planned"))
    assert page.locator("button:has-text('Approve')").count() == 0
    assert page.locator("summary:has-text('Send back')").count() == 0
    page.goto(server + "/operations")
    assert page.locator("button:has-text('Pause')").count() == 0
    post_id = waiting(rig.store, "be-linkedin")[0]
    status = page.evaluate("""async ([post]) => {
        const csrf = document.querySelector('input[name=csrf]').value;
        const r = await fetch('/approve', {method: 'POST', body: new URLSearchParams({csrf, post})});
        return r.status; }""", [post_id])
    assert status == 403 and rig.store.get(post_id).state == "planned"


def test_an_admin_pauses_and_resumes_and_states_change_live(browser, server, rig) -> None:
    page = open_as(browser, server, "ada")
    page.goto(server + "/operations")
    page.select_option("select[name=channel]", "embassy-tokyo")
    page.fill("input[name=reason]", "typhoon warning in Tokyo")
    page.click("button:has-text('Pause')")
    page.wait_for_load_state()
    assert "PAUSED embassy-tokyo" in page.inner_text("#pauses")
    state = rig.store.channel_states()["embassy-tokyo"]
    assert state["paused"] and state["paused_by"] == "ada" and state["reason"] == "typhoon warning in Tokyo"
    page.click("button:has-text('Resume embassy-tokyo')")
    page.wait_for_load_state()
    assert not rig.store.channel_states()["embassy-tokyo"]["paused"]
    assert [r["action"] for r in rig.store.audit_rows("embassy-tokyo")] == ["pause", "resume"]
    # a state changes in the store (as the daemon would publish): the page shows it without a reload
    post_id = waiting(rig.store, "be-linkedin")[0]
    page.goto(server + "/?channel=be-linkedin")
    page.evaluate("window.notReloaded = true")
    badge = page.locator(f"[id='state-{post_id}']")
    assert badge.inner_text() == "waits for approval"
    rig.clock.advance(60)
    rig.store.approve(by="someone-else", now=rig.clock.now(), post_id=post_id)
    badge.filter(has_text="approved").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded") is True


def test_pages_at_desktop_and_phone_widths(browser, server, rig, tmp_path) -> None:
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    for width in (1400, 390):
        page = open_as(browser, server, "ada", width=width)
        for name, path in (("calendar", "/?channel=embassy-tokyo"), ("post", f"/posts/{post_id}"),
                           ("operations", "/operations"), ("list", "/?view=list")):
            page.goto(server + path)
            if name != "list" or width == 1400:
                no_sideways_scroll(page)  # the list view's table scrolls inside its own box
            shot = folder / f"console-{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=name != "calendar")
            assert shot.stat().st_size > 10_000
        if width == 390:  # the approve button is big enough to tap
            box = card(page.goto(server + "/?channel=embassy-tokyo") and page, post_id).locator(
                "button:has-text('Approve')").bounding_box()
            assert box and box["height"] >= 32
        page.context.close()


def open_without_javascript(browser, server: str, name: str, height: int = 800):  # type: ignore[no-untyped-def]
    """A 390 px phone with JavaScript off, logged in as `name`: the page (close its context)."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": height})
    page = context.new_page()
    page.goto(server + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name])
    page.click("button:has-text('Log in')")
    page.wait_for_url(server + "/")
    return page


def test_it_works_without_javascript(browser, server, rig) -> None:
    page = open_without_javascript(browser, server, "tomo")
    context = page.context
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    page.goto(server + f"/posts/{post_id}")
    page.click("button:has-text('Approve')")
    page.wait_for_load_state()
    assert rig.store.get(post_id).state == "approved"
    assert "approved 1 post" in page.inner_text(".flash")
    context.close()
