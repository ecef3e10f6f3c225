"""A small campaign for the render-queue tests: clips and a photo, a fresh database each, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import psycopg
from PIL import Image, ImageDraw

from campaign.platforms import Variant
from campaign.calendar import load_calendar

REPO = Path(__file__).resolve().parents[1]
BRAND = REPO / "assets" / "brand"

# Small frames with the real names: quick to encode, same code paths.
SMALL = {v.name: v for v in (
    Variant("feed_4x5", 216, 270, "small 4:5"),
    Variant("story_9x16", 360, 640, "small 9:16"),
    Variant("square_1x1", 200, 200, "small 1:1"),
    Variant("landscape_16x9", 320, 180, "small 16:9"),
    Variant("linkedin_191", 240, 126, "small 1.91:1"),
)}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_clip(path: Path, seconds: float, size: str = "640x360") -> Path:
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def make_photo(path: Path) -> Path:
    image = Image.linear_gradient("L").resize((900, 700)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, 900, 37):
        draw.line([(i, 0), (900 - i, 700)], fill=(i % 255, 90, 200), width=5)
    image.save(path, quality=92)
    return path


def campaign(folder: Path, clips: dict[str, float], photo: bool = True) -> Any:
    """A calendar in `folder` with one clip testimonial per entry of `clips` (id -> seconds), posted on
    Instagram (9:16) and X (16:9) in English and French, and a photo testimonial; its inbox filled."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True)
    channel = {"account": "acct", "timezone": "Europe/Brussels", "slots": ["09:00"]}
    testimonials = [{"id": tid, "name": f"Speaker {n}", "country": "Brazil", "spoken_language": "en", "pillar": "innovation",
                     "quote": {"en": "Quote", "fr": "Citation"}, "clip": f"{tid}.mp4", "consent_until": "2028-12-31",
                     "subtitles": {"en": f"{tid}.en.srt", "fr": f"{tid}.fr.srt"}}
                    for n, tid in enumerate(clips)]
    if photo:
        testimonials.append({"id": "ana", "name": "Ana Lima", "country": "Brazil", "spoken_language": "en", "pillar": "innovation",
                             "quote": {"en": "Quote", "fr": "Citation"}, "photo": "ana.jpg", "consent_until": "2028-12-31"})
        make_photo(inbox / "ana.jpg")
    for tid, seconds in clips.items():
        make_clip(inbox / f"{tid}.mp4", seconds)
        for language, text in (("en", "Hello from Belgium"), ("fr", "Bonjour de Belgique")):
            (inbox / f"{tid}.{language}.srt").write_text(f"1\n00:00:00,200 --> 00:00:01,500\n{text}\n", encoding="utf-8")
    data = {
        "campaign": {"name": "Test", "tagline": "Test", "baseline": {"en": "We don't say Belgium is great, others do",
                                                                     "fr": "Ce n'est pas nous qui le disons"},
                     "pillars": ["innovation"], "timezone": "Europe/Brussels", "start": "2026-12-01", "end": "2027-11-30"},
        "brand": {"logo": str(BRAND / "logo.png"),
                  "fonts": {"latin": str(BRAND / "fonts/NotoSans-Bold.ttf"), "japanese": str(BRAND / "fonts/NotoSansJP-Bold.otf"),
                            "arabic": str(BRAND / "fonts/NotoSansArabic-Bold.ttf")},
                  "colours": {"primary": "#FDDA24", "text": "#FFFFFF", "band": "#111111"}, "safe_margin": 0.06},
        "channels": [{"id": "ig", "platform": "instagram", "languages": ["en", "fr"], "api": {"media_base_url": "https://m.example"}, **channel},
                     {"id": "xch", "platform": "x", "languages": ["en", "fr"], **channel}],
        "testimonials": testimonials,
        "moments": [{"id": "day", "title": "Day", "date": "2027-06-01", "pillar": "innovation", "channels": ["ig", "xch"],
                     "testimonials": [t["id"] for t in testimonials], "media": "auto"}],
    }
    templates = folder / "templates" / "captions"
    templates.mkdir(parents=True)
    (templates / "testimonial.j2").write_text("{{ quote }} — {{ speaker }}\n", encoding="utf-8")
    (folder / "calendar.yaml").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    old = time.time() - 60  # settled: not a copy in progress
    for path in inbox.iterdir():
        os.utime(path, (old, old))
    return load_calendar(folder / "calendar.yaml", today=__import__("datetime").date(2026, 11, 1))


def fresh_database(server_url: str, name: str) -> str:
    """A new empty database on the server (each test its own queue and store)."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


class Workers:
    """`python run.py worker` processes, their logs in files."""

    def __init__(self, url: str, folder: Path, *, stalled_after: float = 3, heartbeat: float = 0.5, retry_wait: int = 1) -> None:
        self.url, self.folder = url, folder
        self.args = ["--stalled-after", str(stalled_after), "--heartbeat", str(heartbeat), "--retry-wait", str(retry_wait)]
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []

    def start(self, count: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            log = self.folder / f"worker-{len(self.processes)}.log"
            with open(log, "wb") as handle:
                process = subprocess.Popen([sys.executable, str(REPO / "run.py"), "worker", "--queue", self.url, *self.args],
                                           stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
            self.processes.append(process)
            self.logs.append(log)
            started.append(process)
        return started

    def text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
