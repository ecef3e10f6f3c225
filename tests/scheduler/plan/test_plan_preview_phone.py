"""The preview page on a phone (390 px) and on a desktop (1400 px), judged by Chromium.

Playwright drives Debian's Chromium (/usr/bin/chromium); the browser lays the page out and we
measure what it drew: every post visible, one column on a phone, no post narrower than 300 px,
no two posts overlapping, nothing wider than the screen.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from campaign.calendar.loader import LoadedCalendar
from scheduler.plan import plan_posts
from scheduler.plan.preview import PLATFORM_LOOK, feed_crop, render_preview
from test_plan_preview import make_stand_in_assets

pytestmark = pytest.mark.slow  # a phone-sized screenshot in Chromium

REPO = Path(__file__).resolve().parents[3]
WIDTHS = (390, 1400)
MIN_CARD_WIDTH = 300


def chromium_path() -> str:
    found = os.environ.get("CAMPAIGN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Chromium is needed for the preview's phone test — install it: apt-get install chromium")
    return found


@pytest.fixture(scope="module")
def page_file(sample: LoadedCalendar, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("phone")
    build = folder / "build"
    make_stand_in_assets(sample, build, clips=2)
    # planned "today" in the middle of the campaign: earlier posts carry a warning, so the page has some
    plan = plan_posts(sample, build_dir=build, today=dt.date(2027, 3, 10))
    assert any(p.warnings for p in plan.posts)
    html = render_preview(plan, sample.calendar, templates_dir=REPO / "templates", root=REPO)
    out = folder / "preview.html"
    out.write_text(html, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


def open_page(browser, page_file: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    # The page lays out a day only when it scrolls near (content-visibility: auto, for campaigns of
    # thousands of posts); a day not laid out yet has a stand-in height. Every card is measured here
    # as it is drawn, so every day is laid out first.
    page.add_style_tag(content=".day { content-visibility: visible !important; }")
    page.evaluate("document.fonts.ready")
    return page


def card_boxes(page) -> list[dict]:
    return page.eval_on_selector_all(
        "article.card",
        "cards => cards.map(c => { const r = c.getBoundingClientRect();"
        " return {id: c.id, x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height,"
        " inner: [...c.children].every(k => k.scrollWidth <= k.clientWidth + 1)}; })")


def overlap(a: dict, b: dict) -> float:
    dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(dx, 0) * max(dy, 0)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_post_visible_none_narrow_none_overlapping(browser, page_file: Path, width: int, tmp_path: Path) -> None:
    page = open_page(browser, page_file, width)
    boxes = card_boxes(page)
    assert len(boxes) == 65
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width, "the page scrolls sideways"
    for box in boxes:
        assert box["w"] >= MIN_CARD_WIDTH, (box["id"], box["w"])
        assert box["x"] >= 0 and box["x"] + box["w"] <= width, (box["id"], box["x"], box["w"])
        assert box["h"] > 60 and box["inner"], box["id"]  # drawn, and nothing inside sticks out
    for a, b in itertools.combinations(boxes, 2):
        assert overlap(a, b) < 1, (a["id"], b["id"])
    if width == 390:  # a phone: one column, days as a list
        assert len({round(b["x"]) for b in boxes}) == 1
    else:  # a desktop uses the width: several posts of a busy day side by side
        assert len({round(b["x"]) for b in boxes}) >= 3
    png = tmp_path / f"preview-{width}.png"
    page.screenshot(path=str(png), full_page=True)
    assert png.stat().st_size > 20_000
    page.close()


def test_warnings_counter_links_to_the_warnings(browser, page_file: Path) -> None:
    page = open_page(browser, page_file, 390)
    counter = page.locator("a.stat.warn")
    target = counter.get_attribute("href")
    assert target == "#warnings"
    counter.click()
    assert page.evaluate("location.hash") == "#warnings"
    top = page.evaluate("document.getElementById('warnings').getBoundingClientRect().top")
    assert abs(top) < 5, "the warnings list is scrolled into view"
    links = page.eval_on_selector_all("#warnings a", "links => links.map(a => a.getAttribute('href'))")
    assert links and all(page.locator(f"article.card[id='{href[1:]}']").count() == 1 for href in links)
    page.close()


def test_cards_show_account_names_utc_dates_and_an_amber_approval(browser, page_file: Path) -> None:
    page = open_page(browser, page_file, 390)
    instagram = page.locator("article.card.instagram .account").first.inner_text()
    linkedin = page.locator("article.card.linkedin .account").first.inner_text()
    assert instagram == "@belgium" and linkedin == "Belgium"
    assert "17841400000000001" not in page.locator("article.card.instagram .who").first.inner_text()
    utc = page.locator("article.card .when").first.inner_text().splitlines()[-1]
    assert utc.endswith(" UTC") and len(utc.split()) == 5, utc  # e.g. "Mon 18 Jan 07:00 UTC"
    colour = page.eval_on_selector("article.card.linkedin .pill.approval",
                                   "p => [getComputedStyle(p).color, getComputedStyle(p).backgroundColor]")
    for css in colour:
        red, green, blue = (int(v) for v in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        assert not (green > red and green > blue), f"'needs approval' is drawn green: {css}"
    avatars = page.eval_on_selector_all(
        "article.card", "cards => cards.map(c => [c.classList[1], getComputedStyle(c.querySelector('.bar')).backgroundColor,"
                        " getComputedStyle(c.querySelector('.avatar')).backgroundColor])")
    seen: dict[str, str] = {}
    for platform, bar, avatar in avatars:
        seen.setdefault(platform, avatar if platform == "instagram" else bar)
    assert len(set(seen.values())) == len(seen), seen  # each platform its own colour
    page.close()


def _lab(hex_colour: str) -> tuple[float, float, float]:
    red, green, blue = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    linear = [((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92 for c in (red, green, blue)]
    x = (linear[0] * 0.4124 + linear[1] * 0.3576 + linear[2] * 0.1805) / 0.95047
    y = linear[0] * 0.2126 + linear[1] * 0.7152 + linear[2] * 0.0722
    z = (linear[0] * 0.0193 + linear[1] * 0.1192 + linear[2] * 0.9505) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_platform_colours_are_told_apart() -> None:
    """CIE76 distance of at least 20 between any two platforms (Facebook and Bluesky were 6 apart)."""
    for a, b in itertools.combinations(PLATFORM_LOOK, 2):
        distance = sum((p - q) ** 2 for p, q in zip(_lab(PLATFORM_LOOK[a]["colour"]), _lab(PLATFORM_LOOK[b]["colour"]))) ** 0.5
        assert distance >= 20, (a, b, distance)


def test_feed_crop_and_safe_zones(browser, page_file: Path) -> None:
    assert feed_crop("instagram", "story_9x16") == pytest.approx(0.8)
    assert feed_crop("x", "feed_4x5") == pytest.approx(16 / 9)
    assert feed_crop("linkedin", "linkedin_191") is None
    page = open_page(browser, page_file, 390)
    reel = page.locator("article.card.instagram .media[data-variant='story_9x16']").first
    box = reel.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(4 / 5, abs=0.01)  # the feed's 4:5 crop of a 9:16 Reel
    assert reel.locator(".zone").first.is_hidden()
    page.locator("#full-frames").check()
    box = reel.bounding_box()
    assert box["width"] / box["height"] == pytest.approx(9 / 16, abs=0.01)  # the whole frame
    zones = reel.locator(".zone.reels")
    assert zones.count() == 4 and zones.first.is_visible()
    top = reel.locator(".zone.reels").nth(0).bounding_box()
    bottom = reel.locator(".zone.reels").nth(1).bounding_box()
    assert top["height"] / box["height"] == pytest.approx(0.14, abs=0.01)
    assert bottom["height"] / box["height"] == pytest.approx(0.35, abs=0.01)
    assert bottom["y"] + bottom["height"] == pytest.approx(box["y"] + box["height"], abs=1)
    page.close()


HASH_BEFORE_WORD = """(tag) => {
  const text = tag.firstChild;  // "#BelgianNationalDay"
  const at = (i) => { const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                      return r.getBoundingClientRect(); };
  return at(0).right <= at(1).left + 0.5;  // the '#' drawn just left of the 'B'
}"""


def test_chromium_draws_the_arabic_hashtags_with_their_hash_in_front(browser, page_file: Path) -> None:
    """A second referee for the right-to-left isolation: Chromium's own bidi layout of the caption."""
    page = open_page(browser, page_file, 390)
    tag = page.locator("article[id='national-day.2027.embassy-rabat.ar'] .caption .tag", has_text="#BelgianNationalDay")
    assert tag.evaluate(HASH_BEFORE_WORD)
    # the same line without the isolates, in the same right-to-left box: the '#' lands after the word
    page.set_content('<div dir="rtl" lang="ar" style="font: 16px sans-serif">لسنا نحن<br>'
                     '<span class="tag">#BelgianNationalDay</span> <span>#EmbracingOpenness</span></div>')
    assert not page.locator(".tag").evaluate(HASH_BEFORE_WORD)
    page.close()
