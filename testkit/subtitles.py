"""A calendar that posts James Carter's sample clip in English and Dutch, and an inbox for it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from campaign.calendar import LoadedCalendar, load_calendar

REPO = Path(__file__).resolve().parents[1]
BRAND = REPO / "assets" / "brand"
SAMPLES = REPO / "assets" / "samples" / "raw"


def calendar_data(languages: tuple[str, ...] = ("en", "nl")) -> dict:
    baseline = {"en": "We don't say Belgium is great, others do", "nl": "Wij zeggen niet dat België geweldig is, anderen wel",
                "ja": "ベルギーが素晴らしいと言うのは他の人たちです"}
    return {
        "campaign": {"name": "Test", "tagline": "Test", "baseline": {k: baseline[k] for k in languages},
                     "pillars": ["innovation"], "timezone": "Europe/Brussels", "start": "2026-12-01", "end": "2027-11-30"},
        "brand": {"logo": str(BRAND / "logo.png"),
                  "fonts": {"latin": str(BRAND / "fonts/NotoSans-Bold.ttf"), "japanese": str(BRAND / "fonts/NotoSansJP-Bold.otf"),
                            "arabic": str(BRAND / "fonts/NotoSansArabic-Bold.ttf")}},
        "channels": [
            {"id": "be-x", "platform": "x", "account": "belgium", "languages": list(languages),
             "timezone": "Europe/Brussels", "slots": ["09:00", "12:00", "18:00"]},
            {"id": "nl-x", "platform": "x", "account": "belgie", "languages": [languages[-1]],
             "timezone": "Europe/Amsterdam", "slots": ["10:00"]},
        ],
        "testimonials": [
            {"id": "james-carter", "name": "James Carter", "country": "United States", "spoken_language": "en",
             "pillar": "innovation", "quote": {lang: "Belgium turned our vaccine research into doses for the world in months."
                                               for lang in languages},
             "clip": "james-carter.mp4", "subtitles": {lang: f"james-carter.{lang}.srt" for lang in languages},
             "consent_until": "2027-12-31"},
        ],
        "moments": [
            {"id": "vaccines", "title": "Vaccines for the world", "titles": {"nl": "Vaccins voor de wereld"}, "date": "2027-06-01", "pillar": "innovation",
             "channels": ["be-x", "nl-x"], "testimonials": ["james-carter"], "media": "clip"},
        ],
    }


def write_calendar(folder: Path, languages: tuple[str, ...] = ("en", "nl")) -> LoadedCalendar:
    templates = folder / "templates" / "captions"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "testimonial.j2").write_text("{{ quote }} — {{ speaker }}\n", encoding="utf-8")
    path = folder / "calendar.yaml"
    path.write_text(json.dumps(calendar_data(languages), ensure_ascii=False, indent=1), encoding="utf-8")
    return load_calendar(path)


def drop_clip(inbox: Path) -> Path:
    """James Carter's clip, without its .en.srt (the issue's scenario)."""
    inbox.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(SAMPLES / "james-carter.mp4", inbox / "james-carter.mp4"))


ENGLISH_DRAFT = """1
00:00:00,810 --> 00:00:02,869
Belgium turned our vaccine research

2
00:00:03,000 --> 00:00:04,430
into doses for the world

3
00:00:04,680 --> 00:00:05,514
in months.
"""
