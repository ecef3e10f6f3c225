"""Review that flows: a selection approved or sent back in one confirmed action, cards acted on
in place (htmx) or with plain forms, threads of comments, the "needs you" count, the account
as readers see it. Plain-HTTP checks first, then Chromium (Playwright) at 1400 and 390 px."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from testkit.console import START, csrf_of, login, waiting
from scheduler.store.schema import posts
from test_console_browser import (SHOTS, browser, card, no_sideways_scroll, open_as,  # noqa: F401 (browser: a fixture)
                                  open_without_javascript)


def week_of(rig, post_id: str) -> str:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    day = rig.store.get(post_id).scheduled_at.astimezone(ZoneInfo("Europe/Brussels")).date()
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def in_week(rig, channel: str, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [p for p in waiting(rig.store, channel) if week_of(rig, p) == key]


def test_a_week_is_confirmed_then_approved_in_one_action_without_javascript(client_for, rig) -> None:
    client = client_for()
    login(client, "tomo")
    first = waiting(rig.store, "embassy-tokyo")[0]
    key = week_of(rig, first)
    expected = in_week(rig, "embassy-tokyo", key)
    page = client.get("/").text
    assert f'value="approve week:{key}"' in page
    confirm = client.post("/review/confirm", data={"csrf": csrf_of(page), "pick": f"approve week:{key}", "next": "/"})
    assert confirm.status_code == 200
    listed = re.findall(r'name="post" value="([^"]+)" checked', confirm.text)
    assert sorted(listed) == sorted(expected)  # every post it will approve, and only this person's
    assert f"Approve these {len(expected)} posts" in confirm.text or len(expected) == 1
    assert all(p.state == "planned" for p in rig.store.posts_by_id(expected))  # nothing done before the confirmation
    done = client.post("/review/apply", data={"csrf": csrf_of(confirm.text), "do": "approve", "post": listed,
                                               "next": "/"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert {p.state for p in rig.store.posts_by_id(expected)} == {"approved"}
    assert {(r["actor"], r["action"]) for r in rig.store.audit_rows() if r["target"] in expected} == {("tomo", "approve")}
    assert f"approved {len(expected)} post" in client.get("/").text


def test_ticked_posts_sent_back_with_one_comment_join_each_thread(client_for, rig) -> None:
    client = client_for()
    login(client, "ada")
    chosen = waiting(rig.store, "be-linkedin")[:2] + waiting(rig.store, "embassy-tokyo")[:1]
    page = client.get("/").text
    confirm = client.post("/review/confirm", data={"csrf": csrf_of(page), "pick": "send-back selected",
                                                    "post": chosen, "next": "/?channel=be-linkedin"})
    assert sorted(re.findall(r'name="post" value="([^"]+)" checked', confirm.text)) == sorted(chosen)
    assert 'textarea name="comment" required' in confirm.text
    refused = client.post("/review/apply", data={"csrf": csrf_of(page), "do": "send-back", "post": chosen, "comment": " "})
    assert "Not done" in refused.text and {p.state for p in rig.store.posts_by_id(chosen)} == {"planned"}
    client.post("/review/apply", data={"csrf": csrf_of(page), "do": "send-back", "post": chosen,
                                       "comment": "Wait for the minister's confirmation", "next": "/?channel=be-linkedin"})
    assert {p.state for p in rig.store.posts_by_id(chosen)} == {"sent_back"}
    # the thread: the send-back is its first comment; a reply is added to it and to the audit trail
    post_page = client.get(f"/posts/{chosen[0]}").text
    assert "Wait for the minister" in post_page and "sent back" in post_page
    reply = client.post(f"/posts/{chosen[0]}/comment", data={"csrf": csrf_of(post_page), "text": "Confirmed for Tuesday"},
                        headers={"referer": f"http://127.0.0.1/posts/{chosen[0]}"}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == f"/posts/{chosen[0]}#c-{chosen[0]}"
    thread = client.get(f"/posts/{chosen[0]}").text
    assert thread.index("Wait for the minister") < thread.index("Confirmed for Tuesday")
    assert [r["action"] for r in rig.store.audit_rows(chosen[0])] == ["send-back", "comment"]
    assert rig.store.get(chosen[0]).state == "sent_back"  # a comment changes nothing else
    assert "💬 2 comments" in client.get("/?channel=be-linkedin").text


def test_htmx_answers_with_the_card_and_the_count(client_for, rig) -> None:
    client = client_for()
    login(client, "tomo")
    post_id = waiting(rig.store, "embassy-tokyo")[0]
    page = client.get("/").text
    before = int(re.search(r'id="needs-you"[^>]*>Needs you <b>(\d+)</b>', page).group(1))
    answer = client.post(f"/posts/{post_id}/approve", data={"csrf": csrf_of(page)}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer.text.lstrip().startswith(f'<div class="slot" id="c-{post_id}"')
    assert "approved 1 post" in answer.text and "<html" not in answer.text
    assert re.search(r'id="needs-you"[^>]*hx-swap-oob="true">Needs you <b>(\d+)</b>', answer.text).group(1) == str(before - 1)
    other = waiting(rig.store, "be-linkedin")[0]  # not this approver's: said in the card, nothing done
    refused = client.post(f"/posts/{other}/approve", data={"csrf": csrf_of(page)}, headers={"HX-Request": "true"})
    assert "Not done" in refused.text and rig.store.get(other).state == "planned"


def test_needs_you_counts_what_waits_for_this_person(client_for, rig) -> None:
    tokyo = waiting(rig.store, "embassy-tokyo")
    linkedin = waiting(rig.store, "be-linkedin")[0]
    with rig.store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == tokyo[0]).values(state="failed"))
        conn.execute(update(posts).where(posts.c.id == linkedin).values(state="unknown"))
    counts = {}
    for name in ("vera", "tomo", "ada"):
        client = client_for()
        login(client, name)
        found = re.search(r'id="needs-you"[^>]*>Needs you <b>(\d+)</b>', client.get("/").text)
        counts[name] = int(found.group(1)) if found else None
    every = rig.store.all_posts()
    assert counts["vera"] is None  # a viewer is asked nothing
    assert counts["tomo"] == sum(p.channel_id == "embassy-tokyo" and p.state in ("planned", "held", "failed", "unknown")
                                 for p in every) == len(tokyo)
    assert counts["ada"] == sum(p.state in ("planned", "held", "failed", "unknown") for p in every)
    client = client_for()
    login(client, "tomo")
    shown = re.findall(r'<article class="card[^"]*"[^>]*id="([^"]+)"', client.get("/?needs=me").text)
    assert sorted(shown) == sorted(tokyo)


def test_cards_show_the_account_as_readers_see_it(client_for, rig) -> None:
    client = client_for()
    login(client, "vera")
    for channel, shown, raw in (("be-instagram", "@belgium", "17841400000000001"),
                                ("be-linkedin", "Belgium", "urn:li:organization:2414183")):
        page = client.get(f"/?channel={channel}").text
        names = re.findall(r'<span class="account"[^>]*><bdi>([^<]+)</bdi>', page)
        assert names and set(names) == {shown}, (channel, set(names))
        assert f">@{raw}<" not in page and f">{raw}<" not in page


# -- in Chromium ------------------------------------------------------------------------------------

@pytest.mark.slow  # drives Chromium
def test_in_the_browser_select_confirm_and_approve_without_a_reload(browser, server, rig) -> None:
    page = open_as(browser, server, "ada", width=1400)
    page.goto(server + "/?state=planned")
    page.evaluate("window.notReloaded = true")
    ticked = waiting(rig.store, "be-linkedin")[:2]
    for post_id in ticked:
        card(page, post_id).locator("input[name=post]").check()
    page.click("#bulk button:has-text('Approve…')")
    dialog = page.locator("#review-dialog")
    dialog.locator("h2").filter(has_text="Approve 2 posts?").wait_for()
    assert sorted(dialog.locator("input[name=post]").evaluate_all("els => els.map(e => e.value)")) == sorted(ticked)
    assert "Belgium" in dialog.inner_text() and "urn:li" not in dialog.inner_text()
    dialog.locator("button:has-text('Approve these 2 posts')").click()
    page.locator(".toast").filter(has_text="approved 2 posts").wait_for()
    assert {p.state for p in rig.store.posts_by_id(ticked)} == {"approved"}
    assert dialog.inner_html().strip() == ""
    card(page, ticked[0]).locator(".state").filter(has_text="approved").wait_for()
    # one card, deep in the page: approved in place, the scroll position stays
    last = waiting(rig.store, "embassy-tokyo")[-1]
    card(page, last).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, 120)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 600
    card(page, last).locator("button:has-text('Approve')").click()
    card(page, last).locator(".flash").filter(has_text="approved 1 post").wait_for()
    assert abs(page.evaluate("window.scrollY") - scrolled) < 40
    # a comment joins the thread in place
    other = waiting(rig.store, "embassy-tokyo")[0]
    card(page, other).locator("summary:has-text('Comment')").click()
    card(page, other).locator("textarea[name=text]").fill("Is the Japanese quote approved by Aiko?")
    card(page, other).locator("button:has-text('Comment')").click()
    card(page, other).locator("summary").filter(has_text="1 comment").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert rig.store.audit_rows(other)[-1]["detail"] == "Is the Japanese quote approved by Aiko?"
    page.context.close()


@pytest.mark.slow  # drives Chromium
def test_on_a_phone_an_approver_reviews_first_and_approves_a_week(browser, server, rig, tmp_path) -> None:
    page = open_as(browser, server, "tomo", width=390)
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#needs-you")
    page.wait_for_url("**/?needs=me")
    no_sideways_scroll(page)
    first = page.locator("article.card").first
    box = first.bounding_box()
    assert box is not None and box["y"] + 120 < 844, f"the first post to review starts at {box and box['y']} px"
    assert page.evaluate("window.scrollY") == 0
    first_id = first.get_attribute("id")
    assert rig.store.get(first_id).state == "planned" and rig.store.get(first_id).channel_id == "embassy-tokyo"
    (SHOTS or tmp_path).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str((SHOTS or tmp_path) / "console-review-390.png"))
    key = week_of(rig, first_id)
    expected = in_week(rig, "embassy-tokyo", key)
    page.locator(f"button[value='approve week:{key}']").click()
    dialog = page.locator("#review-dialog")
    dialog.locator("button.primary").wait_for()
    assert len(dialog.locator("input[name=post]").all()) == len(expected)
    confirm_box = dialog.locator("button.primary").bounding_box()
    assert confirm_box and confirm_box["y"] + confirm_box["height"] <= 844 and confirm_box["height"] >= 32
    page.screenshot(path=str((SHOTS or tmp_path) / "console-confirm-390.png"))
    dialog.locator("button.primary").click()
    page.locator(".toast").wait_for()
    assert {p.state for p in rig.store.posts_by_id(expected)} == {"approved"}
    page.context.close()


@pytest.mark.slow  # drives Chromium
def test_without_javascript_a_week_goes_through_the_confirmation_page(browser, server, rig) -> None:
    page = open_without_javascript(browser, server, "tomo", height=844)
    context = page.context
    first = waiting(rig.store, "embassy-tokyo")[0]
    key = week_of(rig, first)
    expected = in_week(rig, "embassy-tokyo", key)
    page.goto(server + "/?needs=me")
    page.locator(f"button[value='approve week:{key}']").click()
    page.wait_for_url("**/review/confirm")
    page.locator("button.primary").click()
    page.wait_for_url("**/?needs=me")
    assert {p.state for p in rig.store.posts_by_id(expected)} == {"approved"}
    assert f"approved {len(expected)} post" in page.inner_text(".flash")
    # one card's Send back brings the page back to that card
    other = waiting(rig.store, "embassy-tokyo")[0]
    card(page, other).locator("summary:has-text('Send back')").click()
    card(page, other).locator("textarea[name=comment]").fill("Photo is too dark")
    card(page, other).locator("button:has-text('Send back')").click()
    page.wait_for_url(f"**#c-{other}")
    assert rig.store.get(other).state == "sent_back"
    context.close()
    assert START  # the rig's clock: nothing here depends on the wall clock


def test_a_post_carrying_several_languages_shows_each_text_to_whoever_reviews_it(client_for, rig) -> None:
    """The sample's YouTube channel posts in en, fr and nl: one video, whose French and Dutch titles
    and descriptions go out with it. The review card and the post's page show them (read-only)."""
    client = client_for()
    login(client, "ada")
    video = "pride-marriage-equality.2027.be-youtube.en"
    assert [lang for lang, _ in rig.store.get(video).localizations] == ["fr", "nl"]
    for page in (client.get("/?channel=be-youtube").text, client.get(f"/posts/{video}").text):
        assert "this one post carries 3 languages" in page
        assert "aimer qui je veux" in page and "Hier kon ik openlijk houden" in page
        assert '>en+fr+nl</span>' in page  # the card's language mark (the preview's card too)
    assert "this one post carries" not in client.get("/?channel=be-x").text  # a post per language elsewhere
