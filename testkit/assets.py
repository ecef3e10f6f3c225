"""Small media and calendars made on the spot: 320x240 clips of 1-2 s, small images, tiny frames."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any, Callable

import pytest
from PIL import Image, ImageDraw, ImageFilter

from campaign.platforms import Variant
from campaign.calendar import LoadedCalendar, load_calendar

REPO = Path(__file__).resolve().parents[1]
BRAND = REPO / "assets" / "brand"
TODAY = dt.date(2026, 11, 1)

# The real frame names at a fifth of the size: same aspect ratios, fast to encode.
TINY = {
    v.name: v
    for v in (
        Variant("feed_4x5", 216, 270, "tiny 4:5"),
        Variant("story_9x16", 180, 320, "tiny 9:16"),
        Variant("square_1x1", 200, 200, "tiny 1:1"),
        Variant("landscape_16x9", 256, 144, "tiny 16:9"),
        Variant("linkedin_191", 240, 126, "tiny 1.91:1"),
    )
}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_clip(path: Path, seconds: float = 2.0, size: str = "320x240", audio: bool = True, video: str | None = None,
              rotation: int | None = None, faststart: bool = True) -> Path:
    """An H.264 test clip (testsrc + 440 Hz tone), optionally with rotation metadata."""
    source = video or f"testsrc=size={size}:rate=30:duration={seconds}"
    args = [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if faststart:
        args += ["-movflags", "+faststart"]
    target = path if rotation is None else path.with_name("unrotated-" + path.name)
    subprocess.run(args + [str(target)], check=True)
    if rotation is not None:
        subprocess.run([ffmpeg(), "-v", "error", "-y", "-display_rotation", str(rotation), "-i", str(target), "-c", "copy", str(path)], check=True)
        target.unlink()
    return path


def draw_face(image: Image.Image, cx: int, cy: int, size: int) -> None:
    """A cartoon face OpenCV's frontal-face Haar cascade detects (eyes, brows, nose, mouth, hair)."""
    d = ImageDraw.Draw(image)
    s = size
    d.ellipse([cx - s * 0.5, cy - s * 0.65, cx + s * 0.5, cy + s * 0.65], fill=(200, 160, 130))
    d.chord([cx - s * 0.55, cy - s * 0.8, cx + s * 0.55, cy - s * 0.05], 180, 360, fill=(40, 25, 15))
    for ex in (-0.2, 0.2):
        x = cx + ex * s
        d.ellipse([x - s * 0.11, cy - s * 0.17, x + s * 0.11, cy - s * 0.07], fill=(250, 250, 250))
        d.ellipse([x - s * 0.05, cy - s * 0.17, x + s * 0.05, cy - s * 0.07], fill=(30, 20, 20))
        d.rectangle([x - s * 0.13, cy - s * 0.27, x + s * 0.13, cy - s * 0.23], fill=(50, 30, 20))
    d.polygon([(cx, cy - s * 0.05), (cx - s * 0.07, cy + s * 0.15), (cx + s * 0.07, cy + s * 0.15)], fill=(170, 125, 100))
    d.ellipse([cx - s * 0.18, cy + s * 0.28, cx + s * 0.18, cy + s * 0.36], fill=(120, 40, 40))


def face_photo(width: int = 960, height: int = 540, face_x: float = 0.8, face_y: float = 0.45) -> Image.Image:
    image = Image.new("RGB", (width, height), (90, 120, 150))
    draw_face(image, int(width * face_x), int(height * face_y), int(height * 0.45))
    return image.filter(ImageFilter.GaussianBlur(2))


def write_srt(path: Path, text: str = "Hello from Belgium", start: str = "00:00:00,200", end: str = "00:00:01,800") -> Path:
    path.write_text(f"1\n{start} --> {end}\n{text}\n", encoding="utf-8")
    return path


BASELINE = {
    "en": "We don't say Belgium is great, others do",
    "fr": "Ce n'est pas nous qui le disons",
    "ja": "ベルギーが素晴らしいと言うのは他の人たちです",
    "ar": "لسنا نحن من يقول إن بلجيكا رائعة",
}


def calendar_data() -> dict[str, Any]:
    """A small calendar: one photo testimonial (ana), one clip testimonial (ben)."""
    channel = {"account": "acct", "timezone": "Europe/Brussels", "slots": ["09:00"]}
    return {
        "campaign": {"name": "Test", "tagline": "Test", "baseline": dict(BASELINE), "pillars": ["innovation"],
                     "timezone": "Europe/Brussels", "start": "2026-12-01", "end": "2027-11-30"},
        "brand": {"logo": str(BRAND / "logo.png"),
                  "fonts": {"latin": str(BRAND / "fonts/NotoSans-Bold.ttf"), "japanese": str(BRAND / "fonts/NotoSansJP-Bold.otf"),
                            "arabic": str(BRAND / "fonts/NotoSansArabic-Bold.ttf")},
                  "colours": {"primary": "#FDDA24", "text": "#FFFFFF", "band": "#111111"}, "safe_margin": 0.06},
        "channels": [
            {"id": "ig", "platform": "instagram", "languages": ["en", "fr"], "api": {"media_base_url": "https://m.example"}, **channel},
            {"id": "xch", "platform": "x", "languages": ["en", "ja"], **channel},
            {"id": "fb", "platform": "facebook", "languages": ["ar", "fr"], **channel},
            {"id": "bsky", "platform": "bluesky", "languages": ["en"], **channel},
        ],
        "testimonials": [
            {"id": "ana", "name": "Ana Lima", "country": "Brazil", "country_names": {"ja": "ブラジル", "ar": "البرازيل", "fr": "Brésil"},
             "spoken_language": "en", "pillar": "innovation",
             "quote": {k: "Quote" for k in BASELINE}, "photo": "ana.jpg", "consent_until": "2028-12-31"},
            {"id": "ben", "name": "Ben Okafor", "country": "Nigeria", "spoken_language": "en", "pillar": "innovation",
             "quote": {"en": "Quote"}, "clip": "ben.mp4", "subtitles": {"en": "ben.en.srt"}, "consent_until": "2028-12-31"},
        ],
        "moments": [
            {"id": "photo-day", "title": "Photo day", "date": "2027-05-09", "pillar": "innovation",
             "channels": ["ig", "xch", "fb"], "testimonials": ["ana"], "media": "photo"},
            {"id": "clip-day", "title": "Clip day", "date": "2027-06-01", "pillar": "innovation",
             "channels": ["xch", "bsky"], "languages": ["en"], "testimonials": ["ben"], "media": "clip"},
        ],
    }


@pytest.fixture
def write_calendar(tmp_path: Path) -> Callable[[dict[str, Any]], LoadedCalendar]:
    """Write a calendar (JSON is valid YAML) with its templates into tmp_path and load it."""

    def write(data: dict[str, Any]) -> LoadedCalendar:
        templates = tmp_path / "templates" / "captions"
        templates.mkdir(parents=True, exist_ok=True)
        (templates / "testimonial.j2").write_text("{{ quote }} — {{ speaker }}\n", encoding="utf-8")
        path = tmp_path / "calendar.yaml"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return load_calendar(path, today=TODAY)

    return write


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder
