"""The publisher pool follows the calendar: a reload (SIGHUP, a save) that changes a channel's
`api:` is used by the next publish, without a restart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from campaign.calendar import load_calendar
from campaign.calendar.models import ApiSettings
from scheduler.daemon.publishers import PublisherPool

ROOT = Path(__file__).resolve().parents[3]


def test_a_reloaded_api_section_is_used_without_a_restart(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMPAIGN_BE_MASTODON_TOKEN", "t0ken")
    calendar = load_calendar(ROOT / "calendar.yaml", today=dt.date(2026, 11, 1)).calendar
    holder = {"calendar": calendar}
    pool = PublisherPool(lambda: holder["calendar"], outbox_dir=tmp_path / "outbox")
    try:
        before = pool("be-mastodon")
        assert before.api["base_url"] == "https://social.belgium.example"
        assert pool("be-mastodon") is before  # unchanged: the same publisher (its connections kept)
        moved = ApiSettings(base_url="https://mastodon.belgium.example", version="v2")
        holder["calendar"] = calendar.model_copy(update={"channels": [
            c.model_copy(update={"api": moved}) if c.id == "be-mastodon" else c for c in calendar.channels]})
        after = pool("be-mastodon")
        assert after.api["base_url"] == "https://mastodon.belgium.example" and after.api["version"] == "v2"
    finally:
        pool.close()
