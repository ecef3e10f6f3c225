"""Shared by the media desk's tests: a designer account, the console served by uvicorn, logging in over HTTP,
a calendar with media approval, small and broken photos."""

from __future__ import annotations

import base64
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from testkit.console import REPO, START

SAMPLES = REPO / "assets" / "samples" / "raw"
DESIGNER = ("dora", "designer-pass-123")


def add_designer(rig) -> None:  # type: ignore[no-untyped-def]
    rig.accounts.add(DESIGNER[0], "designer", DESIGNER[1], by="test", now=START)


@contextmanager
def served(app):  # type: ignore[no-untyped-def]
    """The app on a free local port (uvicorn in a thread); yields its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (instance.started and instance.servers):
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = instance.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)


def session_headers(base: str, name: str = DESIGNER[0], password: str = DESIGNER[1]) -> dict[str, str]:
    """Log in through the form over real HTTP; the Cookie and X-CSRF-Token headers an upload needs."""
    with httpx.Client(base_url=base) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        done = client.post("/login", data={"csrf": token, "name": name, "password": password, "next": "/"})
        assert done.status_code in (200, 303), done.text
        desk = client.get("/media")
        csrf = re.search(r'name="csrf" value="([^"]+)"', desk.text).group(1)  # type: ignore[union-attr]
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": csrf}


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def broken_jpeg(path: Path) -> Path:
    """The first third of a real photo: opens as a JPEG, fails when decoded."""
    data = (SAMPLES / "lukas-weber.jpg").read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def media_calendar(folder: Path) -> Path:
    """The sample calendar with `media_approval: true` on be-instagram (which posts Lukas Weber's photo),
    beside links to the repository's brand files and caption templates (paths are relative to it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("assets", "templates"):
        link = folder / name
        if not link.exists():
            link.symlink_to(REPO / name)
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    marker = "  - id: be-instagram\n    platform: instagram\n"
    assert marker in text
    path = folder / "calendar.yaml"
    path.write_text(text.replace(marker, marker + "    media_approval: true\n"), encoding="utf-8")
    return path


def small_photo(path: Path, size: tuple[int, int]) -> Path:
    """The sample photo shrunk to `size`: too small for some frames, enlarged for others."""
    from PIL import Image

    with Image.open(SAMPLES / "lukas-weber.jpg") as image:
        image.convert("RGB").resize(size).save(path, quality=90)
    return path
