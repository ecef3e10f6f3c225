"""A platform whose one post carries every language of its channel (`languages_in_one_post`,
YouTube's `localizations`): the planner makes one post in the channel's first language with the
other languages' texts beside it; the store keeps them (a store made before the column gets it on
open, SQLite and PostgreSQL); re-planning is idempotent, a language added later reaches a post not
yet published, never a published one. Cost: well under 1 s (no media, one small calendar)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from campaign.post import post_id
from scheduler.plan import plan_posts
from scheduler.plan.plan_problems import plan_problems
from scheduler.store import Store, states, sync_plan
from scheduler.store.schema import posts
from testkit.assets import calendar_data, write_calendar  # noqa: F401 - write_calendar: a fixture
from testkit.stores import sqlite_store, store, store_spec  # noqa: F401 - fixtures

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
QUOTES = {"en": "Open to all", "fr": "Ouverte à tous", "nl": "Open voor iedereen"}


def youtube_calendar(languages: list[str], quotes: dict[str, str] = QUOTES) -> dict:
    data = calendar_data()
    data["channels"].append({"id": "yt", "platform": "youtube", "account": "@belgium", "languages": languages,
                             "timezone": "Europe/Brussels", "slots": ["09:00"]})
    data["campaign"]["baseline"].setdefault("nl", "Open voor de wereld")
    data["testimonials"][1]["quote"] = dict(quotes)
    data["testimonials"][1]["subtitles"] = {lang: f"ben.{lang}.srt" for lang in ("en", "fr", "nl")}
    data["moments"].append({"id": "video-day", "title": "Video day", "date": "2027-06-02", "pillar": "innovation",
                            "channels": ["yt", "bsky"], "testimonials": ["ben"], "media": "clip"})
    data["channels"][3].update(languages=["en", "fr"], slots=["09:00", "15:00"])  # Bluesky: one post per language
    return data


def test_one_post_carries_every_language_of_the_channel(write_calendar) -> None:
    plan = plan_posts(write_calendar(youtube_calendar(["en", "fr", "nl"])))
    assert [i for i in plan.errors if i.moment_id == "video-day"] == []
    [video] = [p for p in plan.posts if p.channel_id == "yt"]
    assert video.id == post_id("video-day", 2027, "yt", "en") and video.language == "en"
    assert video.caption == "Open to all — Ben Okafor"
    assert video.localizations == (("fr", "Ouverte à tous — Ben Okafor"), ("nl", "Open voor iedereen — Ben Okafor"))
    assert video.languages == ("en", "fr", "nl") and video.media.language == "en"
    bluesky = sorted(p.id for p in plan.posts if p.channel_id == "bsky" and p.moment_id == "video-day")
    assert bluesky == ["video-day.2027.bsky.en", "video-day.2027.bsky.fr"]  # other platforms: a post per language
    assert all(p.localizations == () for p in plan.posts if p.channel_id != "yt")


def test_replanning_is_idempotent_and_an_added_language_reaches_posts_not_yet_published(write_calendar, sqlite_store) -> None:
    first = plan_posts(write_calendar(youtube_calendar(["en", "fr"])))
    sync_plan(sqlite_store, first, NOW)
    assert sync_plan(sqlite_store, plan_posts(write_calendar(youtube_calendar(["en", "fr"]))), NOW).changed is False
    video = "video-day.2027.yt.en"
    assert sqlite_store.get(video).localizations == (("fr", "Ouverte à tous — Ben Okafor"),)
    # Dutch added to the channel: the video not yet published carries it; no second post appears
    report = sync_plan(sqlite_store, plan_posts(write_calendar(youtube_calendar(["en", "fr", "nl"]))), NOW)
    assert report.updated == [video] and report.added == []
    assert [lang for lang, _ in sqlite_store.get(video).localizations] == ["fr", "nl"]
    # once published, a change stays out (reported as drift)
    with sqlite_store.engine.begin() as conn:
        conn.execute(update(posts).where(posts.c.id == video).values(state=states.PUBLISHED))
    report = sync_plan(sqlite_store, plan_posts(write_calendar(youtube_calendar(["en", "fr"]))), NOW)
    assert [pid for pid, _ in report.drift] == [video]
    assert [lang for lang, _ in sqlite_store.get(video).localizations] == ["fr", "nl"]


def test_each_language_is_checked_and_named_with_its_calendar_line(write_calendar) -> None:
    loaded = write_calendar(youtube_calendar(["en", "fr", "nl"], {**QUOTES, "fr": "Ouverte <à> tous"}))
    plan = plan_posts(loaded)
    [error] = [i for i in plan.errors if i.moment_id == "video-day"]
    assert error.post_id == "video-day.2027.yt.en" and error.language == "fr" and "refuses < and >" in error.message
    [video] = [p for p in plan.posts if p.channel_id == "yt"]
    assert video.held and video.problems[0].startswith("fr: YouTube refuses")
    [problem] = [p for p in plan_problems(loaded, plan) if p.where == error.post_id]
    testimonials = [t["id"] for t in youtube_calendar(["en"])["testimonials"]]
    assert problem.line == loaded.lines[("testimonials", testimonials.index("ben"), "quote", "fr")]


def test_a_language_without_a_quote_is_left_out_with_a_warning(write_calendar) -> None:
    """`validate` refuses a moment whose only testimonial lacks a language; with several, the one the
    rotation chose may lack it: the video goes out without that language, and the plan says so."""
    loaded = write_calendar(youtube_calendar(["en", "fr", "nl"]))
    del next(t for t in loaded.calendar.testimonials if t.id == "ben").quote["fr"]
    plan = plan_posts(loaded)
    [video] = [p for p in plan.posts if p.channel_id == "yt"]
    assert [lang for lang, _ in video.localizations] == ["nl"]
    assert any("no `fr` title and description" in w for w in video.warnings) and not video.held
    assert any(i.severity == "warning" and i.language == "fr" and i.post_id == video.id for i in plan.issues)


def test_a_store_made_before_the_column_gets_it_on_open(write_calendar, store_spec) -> None:
    url, schema = store_spec
    plan = plan_posts(write_calendar(youtube_calendar(["en", "fr"])))
    old = Store(url, schema=schema)
    sync_plan(old, [p for p in plan.posts if p.channel_id == "bsky"], NOW)
    with old.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE posts DROP COLUMN localizations")  # as a store of last week
    old.close()
    reopened = Store(url, schema=schema)
    try:
        assert reopened.get("video-day.2027.bsky.en").localizations == ()
        report = sync_plan(reopened, plan, NOW)
        assert "video-day.2027.yt.en" in report.added and report.updated == [] and reopened.get("video-day.2027.yt.en").localizations[0][0] == "fr"
        Store(url, schema=schema).close()  # opening again finds the column: nothing to add
    finally:
        reopened.close()


def test_an_override_under_a_languages_own_post_id_rewrites_that_language(write_calendar) -> None:
    data = youtube_calendar(["en", "fr"])
    data["overrides"] = {"video-day.2027.yt.fr": {"caption": "Notre propre texte <ici>"}}
    loaded = write_calendar(data)
    plan = plan_posts(loaded)
    [video] = [p for p in plan.posts if p.channel_id == "yt"]
    assert video.localizations == (("fr", "Notre propre texte <ici>"),) and video.held
    [problem] = [p for p in plan_problems(loaded, plan) if p.where == video.id]
    assert problem.line == loaded.lines[("overrides", "video-day.2027.yt.fr", "caption")]
