#!/usr/bin/env python3
"""The preview at campaign scale: the sample calendar with many more embassy channels.

    python -m bench.bench_preview [--build build] [--posts 5000]

Renders the sample's media once (or reads an existing `--build`), then writes two calendars:
the sample with 80 more embassy channels (618 posts: the issue's figure, 22 MB before each
image was inlined once) and one grown to at least `--posts` posts. For each it prints the
page's size, how many images are inlined and how many cards show one, the time to plan and
render the page, and the time headless Chromium at 390 px takes to load it.
The big one is measured cold (no thumbnails or font subsets cached in the build folder yet)
and warm (as every later preview of the same build is).
Goals (issue 24): under 15 MB, under 10 s, opens in under 3 s for 5,000 posts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from ruamel.yaml import YAML

from campaign.calendar import load_calendar
from scheduler.plan import plan_posts
from scheduler.plan.preview import FONT_CACHE, THUMB_CACHE, render_preview

PLATFORMS = [("x", ["en"]), ("facebook", ["en", "fr"]), ("linkedin", ["en"]), ("mastodon", ["en", "de"]), ("bluesky", ["en"])]
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Africa/Nairobi", "America/Sao_Paulo", "Asia/Singapore"]


def grown_calendar(folder: Path, extra: int) -> Path:
    """The sample calendar with `extra` embassy channels, each added to every moment that names its channels."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("templates", "assets/brand"):
        if not (folder / name).exists():
            shutil.copytree(REPO / name, folder / name)
    yaml = YAML()
    data = yaml.load((REPO / "calendar.yaml").read_text(encoding="utf-8"))
    added = []
    for n in range(extra):
        platform, languages = PLATFORMS[n % len(PLATFORMS)]
        channel = {"id": f"embassy-{n:04d}", "platform": platform, "account": f"BelgiumEmbassy{n}", "languages": list(languages),
                   "timezone": ZONES[n % len(ZONES)], "slots": ["09:00", "13:00", "18:00"], "min_spacing": "2h", "daily_cap": 3,
                   "approval": False, "grace": "2h", "country": "Elsewhere"}
        data["channels"].append(channel)
        added.append(channel["id"])
    for moment in data["moments"]:
        if isinstance(moment.get("channels"), list):
            moment["channels"].extend(added)
    path = folder / "calendar.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return path


def chromium_load_seconds(page: Path, width: int = 390) -> float:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CAMPAIGN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page(viewport={"width": width, "height": 844})
            tab.goto("about:blank")
            start = time.perf_counter()
            tab.goto(page.as_uri(), wait_until="load", timeout=120_000)
            seconds = time.perf_counter() - start
            tab.close()
        finally:
            browser.close()
    return seconds


def measure(label: str, calendar: Path, build: Path, out: Path, *, cold: bool = False) -> None:
    """One preview, timed. `cold`: without the thumbnails and font subsets earlier previews of this
    build left in its cache (what the first preview after a render costs)."""
    if cold:
        for cache in (THUMB_CACHE, FONT_CACHE):
            shutil.rmtree(build / cache, ignore_errors=True)
    started = time.perf_counter()
    loaded = load_calendar(calendar)
    plan = plan_posts(loaded, build_dir=build)
    planned = time.perf_counter()
    html = render_preview(plan, loaded.calendar, templates_dir=calendar.parent / "templates", root=calendar.parent)
    out.write_text(html, encoding="utf-8")
    seconds = time.perf_counter() - started
    page = time.perf_counter() - planned
    size = out.stat().st_size / 1e6
    images = html.count("data:image/jpeg;base64,")
    shown = html.count('class="thumb ')
    opened = chromium_load_seconds(out)
    label += " (cold: no cached thumbnails or fonts)" if cold else " (thumbnails and fonts cached by the preview before)"
    print(f"{label}: {len(plan.posts):5d} posts | {size:5.1f} MB (goal < 15) | {images} images inlined once for {shown} cards "
          f"| load + plan + page {seconds:5.1f} s (goal < 10; the page alone {page:4.1f} s) | Chromium at 390 px loads it in {opened:4.1f} s (goal < 3)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, help="an existing build folder of the sample (default: render the sample now)")
    parser.add_argument("--posts", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as work:
        folder = Path(work)
        build = args.build
        if build is None:
            build = folder / "build"
            print("rendering the sample's media once (about 20 s on a quiet machine) ...", flush=True)
            shutil.copytree(REPO / "assets/samples/raw", folder / "inbox")  # render moves files it cannot use: a copy
            subprocess.run([sys.executable, str(REPO / "run.py"), "render", "--inbox", str(folder / "inbox"),
                            "--out", str(build), "--calendar", str(REPO / "calendar.yaml")], check=True, cwd=folder,
                           stderr=subprocess.DEVNULL)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        measure("sample + 80 embassy channels", grown_calendar(folder / "c80", 80), build, folder / "p80.html", cold=True)
        extra = 80
        while True:  # grow until the plan has the posts asked for (about 7 posts per channel)
            extra = int(extra * 1.0 + (args.posts - 618) / 7) if extra == 80 else extra + 20
            calendar = grown_calendar(folder / f"c{extra}", extra)
            if len(plan_posts(load_calendar(calendar), build_dir=build).posts) >= args.posts:
                break
        measure(f"sample + {extra} embassy channels", calendar, build, folder / "big.html", cold=True)
        measure(f"sample + {extra} embassy channels", calendar, build, folder / "big.html")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
