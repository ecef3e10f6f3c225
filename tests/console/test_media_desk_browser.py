"""The media desk in a real browser (Playwright on the system Chromium), as a designer works.

Files are dropped on the page with a DataTransfer, as a drag from the desktop delivers them;
tus-js-client (the page's uploader) talks to the console's tus server; the renders are the
pipeline's (tiny frames, as its own tests use). Without Chromium this fails in CI (never skips).
"""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest

from testkit.desk import DESIGNER, SAMPLES, add_designer, broken_jpeg, media_calendar, served, small_photo
from test_console_browser import browser, chromium_path  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.slow  # drives Chromium and renders


@pytest.fixture
def desk_app(rig, tmp_path):  # type: ignore[no-untyped-def]
    from console.app import ConsoleConfig
    from console.server import create_app
    from testkit.assets import TINY  # the pipeline tests' tiny frames (same names and aspects, a fifth of the size)

    add_designer(rig)
    app = create_app(ConsoleConfig(db=rig.url, calendar=media_calendar(tmp_path / "campaign"), build=rig.build,
                                   inbox=rig.inbox), clock=rig.clock, store=rig.store)
    app.state.console.desk.renders.variants = TINY
    yield app
    app.state.console.desk.renders.close()


def log_in(browser, base: str):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    page.set_default_timeout(20_000)
    page.goto(base + "/login")
    page.fill("input[name=name]", DESIGNER[0])
    page.fill("input[name=password]", DESIGNER[1])
    page.click("button:has-text('Log in')")
    page.wait_for_url(base + "/")
    page.goto(base + "/media")
    return page


def drop(page, *files: tuple[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    """Drop files on the drop zone: a DataTransfer with File objects, through dragenter, dragover and drop."""
    payload = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    page.evaluate("""(files) => {
        const transfer = new DataTransfer();
        for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name));
        }
        const zone = document.getElementById("drop");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""", payload)


def upload_row(page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#uploads li[data-name='{name}']").last


def variants_settled(page, base: str, testimonial: str, timeout: float = 240) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Open the testimonial's page and wait (the page polls) until no variant waits or renders."""
    page.goto(f"{base}/media/t/{testimonial}")
    deadline = time.monotonic() + timeout
    seen_busy = False
    while True:
        states = dict(zip(page.locator("article.variant").evaluate_all("els => els.map(e => e.dataset.output)"),
                          page.locator("article.variant").evaluate_all("els => els.map(e => e.dataset.state)")))
        seen_busy |= any(s in ("queued", "rendering") for s in states.values())
        if states and not any(s in ("queued", "rendering", "stale", "pending") for s in states.values()):
            return states
        assert time.monotonic() < deadline, f"variants still rendering: {states}"
        page.wait_for_timeout(500)


def test_a_designer_drops_watches_fixes_and_approves(browser, desk_app, rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    small = small_photo(tmp_path / "lukas-weber.jpg", (200, 120))
    with served(desk_app) as base:
        page = log_in(browser, base)
        # 1. Lukas Weber's photo (too small for some frames), James Carter's clip and its subtitles, dropped together.
        started = time.monotonic()
        drop(page, ("lukas-weber.jpg", small.read_bytes()), ("james-carter.mp4", (SAMPLES / "james-carter.mp4").read_bytes()),
             ("james-carter.en.srt", (SAMPLES / "james-carter.en.srt").read_bytes()))
        for name, who in (("lukas-weber.jpg", "lukas-weber's photo"), ("james-carter.mp4", "james-carter's clip"),
                          ("james-carter.en.srt", "james-carter's subtitles (en)")):
            row = upload_row(page, name)
            row.locator("progress").wait_for()
            page.wait_for_function("name => document.querySelector(`#uploads li[data-name='${name}']`).className === 'accepted'",
                                   arg=name, timeout=60_000)
            assert who in row.inner_text()
        assert (rig.inbox / "lukas-weber.jpg").read_bytes() == small.read_bytes()

        # 2. The variants render in the background; the page shows them live, one refused with its reason.
        states = variants_settled(page, base, "lukas-weber")
        refused = [o for o, s in states.items() if s == "refused"]
        assert refused and "rendered" in states.values(), states
        reason = page.locator(f"article.variant[data-output='{refused[0]}'] .reason").inner_text()
        assert "too small" in reason and "supply a larger photo" in reason
        assert page.locator("article.variant .warning", has_text="enlarged").count() >= 1
        clip_states = variants_settled(page, base, "james-carter")
        assert set(clip_states.values()) == {"rendered"}, clip_states
        assert page.locator("article.variant video").count() >= 1  # clips play in the page
        duration = page.locator("article.variant video").first.evaluate(
            "v => new Promise(ok => v.readyState >= 1 ? ok(v.duration) : v.addEventListener('loadedmetadata', () => ok(v.duration)))")
        assert duration > 1
        print(f"dropped, rendered and seen in {time.monotonic() - started:.0f} s")

        # 3. The designer replaces the photo with the full-size one: every variant renders, the old file is kept.
        page.goto(base + "/media")
        drop(page, ("lukas-weber.jpg", (SAMPLES / "lukas-weber.jpg").read_bytes()))
        row = upload_row(page, "lukas-weber.jpg")
        page.wait_for_function("() => document.querySelector(\"#uploads li[data-name='lukas-weber.jpg']\").className === 'accepted'",
                               timeout=60_000)
        assert "replaced/lukas-weber." in row.inner_text()
        assert [p.read_bytes() for p in (rig.inbox / "replaced").iterdir()] == [small.read_bytes()]
        states = variants_settled(page, base, "lukas-weber")
        assert set(states.values()) == {"rendered"}, states

        # 4. be-instagram asks for media approval: the designer approves the photo.
        approval = page.locator("#approval .approval[data-kind='photo']")
        assert "not approved" in approval.inner_text()
        approval.locator("button:has-text('Approve the photo')").click()
        page.wait_for_load_state()
        assert "approved lukas-weber's photo" in page.locator(".flash").inner_text()
        assert "approved by dora" in page.locator("#approval .approval[data-kind='photo']").inner_text()

        # 5. A broken file: its reason is on the page within 2 s, and the file is in rejected/.
        page.goto(base + "/media")
        broken = broken_jpeg(tmp_path / "priya-sharma.jpg")
        started = time.monotonic()
        drop(page, ("priya-sharma.jpg", broken.read_bytes()))
        page.wait_for_function("() => { const li = document.querySelector(\"#uploads li[data-name='priya-sharma.jpg']\");"
                               " return li && li.className === 'refused'; }", timeout=2_000)
        took = time.monotonic() - started
        assert "damaged or truncated" in upload_row(page, "priya-sharma.jpg").inner_text()
        assert took < 2.0
        assert (rig.inbox / "rejected" / "priya-sharma.jpg").is_file()
        page.reload()
        assert "damaged or truncated" in page.locator("#rejected").inner_text()
        page.context.close()


def test_an_upload_cut_by_a_lost_connection_resumes(browser, desk_app, rig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The network drops during a 40 MB clip upload: tus-js-client asks where the upload stands and goes on."""
    import os

    clip = tmp_path / "pick" / "james-carter.mp4"
    clip.parent.mkdir()
    clip.write_bytes((SAMPLES / "james-carter.mp4").read_bytes())
    os.truncate(clip, 40 * 1024 * 1024)
    desk_app.state.console.desk.renders.request = lambda forget=(): None  # the upload is judged here, not the render
    with served(desk_app) as base:
        page = log_in(browser, base)
        requests: list[tuple[str, str | None]] = []
        page.on("request", lambda r: requests.append((r.method, r.headers.get("upload-offset")))
                if "/media/uploads/" in r.url else None)
        page.set_input_files("#drop input[type=file]", str(clip))  # the file picker
        page.wait_for_function("() => Number((document.querySelector('#uploads li') || {dataset: {}}).dataset.percent || 0) >= 20")
        page.context.set_offline(True)
        page.wait_for_timeout(1_500)
        page.context.set_offline(False)
        page.wait_for_function("() => document.querySelector('#uploads li').className === 'accepted'", timeout=60_000)
        assert "james-carter's clip" in page.locator("#uploads li").inner_text()
        page.context.close()
    assert (rig.inbox / "james-carter.mp4").stat().st_size == 40 * 1024 * 1024
    assert (rig.inbox / "james-carter.mp4").read_bytes() == clip.read_bytes()
    resumed = [offset for method, offset in requests if method == "PATCH" and offset not in (None, "0")]
    assert ("HEAD", None) in requests, "the client never asked the server where the upload stood"
    assert resumed, requests
    assert re.fullmatch(r"\d+", resumed[-1])
