"""The results page, read by a real browser (Chromium through Playwright) at desktop and phone width."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from testkit.results import World

from scheduler.results.html import write_results_page
from scheduler.results.report import build_results

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("headless Chromium is needed for the results page test — install it: apt-get install chromium")
    return found


@pytest.fixture
def page_file(world: World, tmp_path: Path) -> Path:
    for n, moment in enumerate(["pride-2027", "pride-2027", "europe-day"]):
        world.publish("x", n, moment=moment)
        world.publish("mastodon", n, moment=moment)
    collector = world.collector(publishing_due=lambda now: False)
    for hours in (1, 23, 24 * 6):
        world.clock.advance(dt.timedelta(hours=hours))
        collector.run_once()
    from campaign.calendar import load_calendar

    calendar = load_calendar(Path(__file__).resolve().parents[3] / "calendar.yaml").calendar
    results = build_results(world.store, calendar)
    return write_results_page(results, calendar, tmp_path / "results.html", build_dir=world.media_dir, now=world.clock.now())


@pytest.mark.slow  # Chromium
def test_results_page_in_chromium_on_desktop_and_phone(page_file: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = page_file.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.split("<body>")[0]  # self-contained, works offline
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for width in (1400, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_file.as_uri())
                charts = page.locator("section.chart svg")
                assert charts.count() == 3  # reach over time, by pillar, by country
                for index in range(3):
                    box = charts.nth(index).bounding_box()
                    assert box and box["width"] > 300 and box["height"] > 150 and box["x"] + box["width"] <= width
                assert page.locator("article.post").count() == 6
                overflow = page.evaluate("document.documentElement.scrollWidth")
                assert overflow <= width, f"the page scrolls sideways at {width} px ({overflow} px wide)"
                assert page.locator("td.ng").count() > 0  # Mastodon's impressions say "not given"
                page.screenshot(path=str(tmp_path / f"results-{width}.png"), full_page=True)
                page.close()
        finally:
            browser.close()
    assert os.path.getsize(tmp_path / "results-390.png") > 20_000
