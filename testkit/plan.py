"""Small calendars built in code for the planning tests (no YAML file needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from campaign.calendar.loader import LoadedCalendar
from campaign.calendar.models import Calendar

SIMPLE_TEMPLATE = "{{ title }}{% if quote %} “{{ quote }}” — {{ speaker }}{% endif %}\n{{ baseline }}\n"


def write_templates(folder: Path, files: dict[str, str] | None = None) -> Path:
    captions = folder / "templates" / "captions"
    captions.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"testimonial.j2": SIMPLE_TEMPLATE}).items():
        (captions / name).write_text(text, encoding="utf-8")
    return folder


def calendar(channels: list[dict[str, Any]], moments: list[dict[str, Any]], *, blackouts: list[dict[str, Any]] | None = None,
             testimonials: list[dict[str, Any]] | None = None, start: dt.date = dt.date(2027, 1, 1),
             end: dt.date = dt.date(2027, 12, 31), timezone: str = "Europe/Brussels") -> Calendar:
    return Calendar.model_validate({
        "campaign": {"name": "Test", "tagline": "Embracing Openness", "baseline": {"en": "Others say it", "nl": "Anderen zeggen het", "fr": "Les autres le disent", "ja": "他の人が言う"},
                     "pillars": ["innovation", "partnerships", "diversity"], "timezone": timezone, "start": start, "end": end},
        "brand": {"logo": "logo.png", "fonts": {"latin": "font.ttf"}},
        "channels": channels,
        "testimonials": testimonials or [],
        "moments": moments,
        "blackouts": blackouts or [],
    })


def loaded(cal: Calendar, folder: Path) -> LoadedCalendar:
    return LoadedCalendar(cal, folder / "calendar.yaml", [], {})


def channel(id: str = "ch", platform: str = "mastodon", timezone: str = "Europe/Brussels", slots=("09:00",), **extra) -> dict[str, Any]:
    return {"id": id, "platform": platform, "account": id, "languages": extra.pop("languages", ["en"]),
            "timezone": timezone, "slots": list(slots), **extra}


def moment(id: str = "m", channels=("ch",), **extra) -> dict[str, Any]:
    return {"id": id, "title": f"Moment {id}", "pillar": "innovation", "channels": list(channels), **extra}
