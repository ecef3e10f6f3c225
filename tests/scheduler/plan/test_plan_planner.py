"""The planner on the sample calendar and on small calendars: times, consent, rotation, issues."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from testkit import plan as plankit

from campaign.calendar.loader import LoadedCalendar
from scheduler.plan import plan_posts
from scheduler.platforms.registry import check_caption

UTC = dt.timezone.utc


def test_sample_calendar_plans_without_errors(sample: LoadedCalendar) -> None:
    plan = plan_posts(sample)
    assert plan.errors == [], plan.errors
    assert len(plan.posts) == 65
    assert [(p.scheduled_at, p.id) for p in plan.posts] == sorted((p.scheduled_at, p.id) for p in plan.posts)
    for post in plan.posts:
        assert check_caption(post.platform, post.caption) == [], post.id
        assert post.scheduled_at.tzinfo == UTC and post.local_time.utcoffset() is not None
        assert post.local_time.astimezone(UTC) == post.scheduled_at
        assert str(post.local_time.tzinfo) == sample.calendar.channel(post.channel_id).timezone
        assert post.media is not None and post.media.alt_text.strip(), post.id
        assert post.media.path.endswith(f".{post.language}.{'jpg' if post.media.kind == 'photo' else 'mp4'}")
        if post.link:
            assert f"utm_source={post.platform}" in post.link and f"utm_content={post.language}" in post.link


def test_sample_times_and_details(sample: LoadedCalendar) -> None:
    posts = {p.id: p for p in plan_posts(sample).posts}
    tokyo = posts["mission-japan-2027.2027.embassy-tokyo.ja"]
    assert tokyo.local_time.replace(tzinfo=None) == dt.datetime(2027, 3, 8, 9, 0)
    assert tokyo.scheduled_at == dt.datetime(2027, 3, 8, 0, 0, tzinfo=UTC)
    assert tokyo.caption.startswith("ベルギー経済ミッション訪日\n\n「imec")  # the ja template and title
    assert tokyo.media.alt_text.startswith("白衣を着た")
    winter = posts["davos-2027.2027.be-x.en"]
    assert winter.scheduled_at == dt.datetime(2027, 1, 18, 7, 0, tzinfo=UTC)  # 08:00 CET
    summer = posts["national-day.2027.be-x.en"]
    assert summer.scheduled_at == dt.datetime(2027, 7, 21, 6, 0, tzinfo=UTC)  # 08:00 CEST
    linkedin = posts["davos-2027.2027.be-linkedin.en"]
    assert linkedin.needs_approval and linkedin.grace_seconds == 4 * 3600
    assert linkedin.media.variant == "landscape_16x9" and linkedin.media.kind == "clip"  # moment media auto, clip
    # the blackout of the Washington embassy (until 12:00 New York) moves the Pride post to 13:00
    washington = posts["pride-marriage-equality.2027.embassy-washington.en"]
    assert washington.local_time.hour == 13 and any("blackout" in w for w in washington.warnings)
    # Bluesky shows the tagged link short; the post keeps the full link for the facet
    assert "belgium.be/en/embracing-openn…" in washington.caption and "utm_source=bluesky" in washington.link
    # an existing utm_source=newsletter is replaced
    bio = posts["bio-convention-2027.2027.be-linkedin.en"]
    assert "newsletter" not in bio.link and bio.link.count("utm_source=") == 1


def test_rotation_prefers_the_speaker_of_the_post_language(sample: LoadedCalendar) -> None:
    posts = [p for p in plan_posts(sample).posts if p.moment_id == "europe-day"]
    for post in posts:
        if post.language == "en":
            assert post.media.testimonial_id == "priya-sharma"
        if post.language == "de":
            assert post.media.testimonial_id == "lukas-weber"
    assert {p.media.testimonial_id for p in posts if p.language in ("nl", "fr")} == {"priya-sharma", "lukas-weber"}
    generated = next(p for p in posts if p.language == "de")
    assert "Foto von Lukas Weber" in generated.media.alt_text  # no alt_text written: generated in German


def test_planning_twice_is_identical(sample: LoadedCalendar) -> None:
    first, second = plan_posts(sample), plan_posts(sample)
    assert [(p.id, p.scheduled_at, p.caption, p.content_hash()) for p in first.posts] == \
           [(p.id, p.scheduled_at, p.caption, p.content_hash()) for p in second.posts]


def test_past_posts_stay_in_the_plan_with_a_warning(sample: LoadedCalendar) -> None:
    plan = plan_posts(sample, today=dt.date(2027, 6, 1))
    davos = next(p for p in plan.posts if p.moment_id == "davos-2027")
    assert any("before today" in w for w in davos.warnings)
    assert len(plan.posts) == 65


def _consent_calendar(until: dt.date, second_until: dt.date | None = None, moment_extra: dict | None = None):
    testimonials = [{"id": "ann", "name": "Ann", "country": "Japan", "spoken_language": "en", "pillar": "innovation",
                     "quote": {"en": "Open."}, "photo": "ann.jpg", "consent_until": until}]
    ids = ["ann"]
    if second_until:
        testimonials.append({"id": "bob", "name": "Bob", "country": "Peru", "spoken_language": "en", "pillar": "innovation",
                             "quote": {"en": "Kind."}, "photo": "bob.jpg", "consent_until": second_until})
        ids.append("bob")
    return plankit.calendar(
        [plankit.channel(slots=("09:00",), daily_cap=1)],
        [plankit.moment(start=dt.date(2027, 5, 1), end=dt.date(2027, 5, 5), testimonials=ids, **(moment_extra or {}))],
        testimonials=testimonials,
    )


def test_consent_ended_before_the_moment_is_reported(tmp_path: Path) -> None:
    plan = plan_posts(plankit.loaded(_consent_calendar(dt.date(2027, 4, 30)), plankit.write_templates(tmp_path)))
    assert plan.posts == []
    assert len(plan.errors) == 1 and "no usable testimonial" in plan.errors[0].message and "ann (2027-04-30)" in plan.errors[0].message


def test_consent_cut_off_inside_the_range(tmp_path: Path) -> None:
    # Ann's consent ends on 1 May; Bob's runs. Two languages... one channel, one language, cap 1/day:
    cal = _consent_calendar(dt.date(2027, 5, 1), dt.date(2027, 12, 31))
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert not plan.errors
    for post in plan.posts:
        testimonial = cal.testimonial(post.media.testimonial_id)
        assert testimonial.consent_until >= post.local_time.date()


def test_posts_are_kept_inside_the_consent_period(tmp_path: Path) -> None:
    # Only Ann, consent until 2 May, a 5-day range, cap 1 per day and three languages: only 2 fit.
    cal = plankit.calendar(
        [plankit.channel(slots=("09:00",), daily_cap=1, languages=["en", "nl", "fr"])],
        [plankit.moment(start=dt.date(2027, 5, 1), end=dt.date(2027, 5, 5), testimonials=["ann"])],
        testimonials=[{"id": "ann", "name": "Ann", "country": "Japan", "spoken_language": "en", "pillar": "innovation",
                       "quote": {"en": "Open.", "nl": "Open.", "fr": "Ouvert."}, "photo": "ann.jpg",
                       "consent_until": dt.date(2027, 5, 2)}],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert all(p.local_time.date() <= dt.date(2027, 5, 2) for p in plan.posts)
    assert len(plan.posts) == 2
    (error,) = plan.errors
    assert error.post_id == "m.2027.ch.fr" and "cannot fit" in error.message and "consent" in error.message


def test_cannot_fit_names_the_post(tmp_path: Path) -> None:
    cal = plankit.calendar([plankit.channel(slots=("09:00", "10:00"), daily_cap=5, min_spacing="2h", languages=["en", "nl"])],
                           [plankit.moment(date=dt.date(2027, 5, 9))])
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert [p.id for p in plan.posts] == ["m.2027.ch.en"]
    (error,) = plan.errors
    assert error.post_id == "m.2027.ch.nl" and error.message.startswith("m.2027.ch.nl: cannot fit on 2027-05-09")
    assert "min_spacing" in error.message


def test_blackout_with_no_alternative_blocks_the_post(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel(timezone="Asia/Tokyo", slots=("09:00", "19:00"))],
        [plankit.moment(date=dt.date(2027, 3, 22))],
        blackouts=[{"start": dt.datetime(2027, 3, 21, 0, 0), "end": dt.datetime(2027, 3, 23, 0, 0), "reason": "Mourning"}],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert plan.posts == []
    (error,) = plan.errors
    assert "blocked by blackout “Mourning”" in error.message and error.post_id == "m.2027.ch.en"


def test_range_moment_spreads_languages_and_respects_cap_across_moments(tmp_path: Path) -> None:
    cal = plankit.calendar(
        [plankit.channel(slots=("09:00", "15:00"), daily_cap=1, languages=["en", "nl", "fr"])],
        [plankit.moment("a", start=dt.date(2027, 5, 3), end=dt.date(2027, 5, 5)),
         plankit.moment("b", date=dt.date(2027, 5, 4))],
    )
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    days = sorted(p.local_time.date() for p in plan.posts if p.moment_id == "a")
    assert days == [dt.date(2027, 5, 3), dt.date(2027, 5, 4), dt.date(2027, 5, 5)]
    assert len(plan.errors) == 3  # moment b's day is already full
    assert all("daily cap" in e.message for e in plan.errors)


def test_yearly_moment_expands_within_the_campaign(tmp_path: Path) -> None:
    cal = plankit.calendar([plankit.channel()], [plankit.moment(date=dt.date(2027, 6, 1), recurrence="yearly")],
                           start=dt.date(2026, 1, 1), end=dt.date(2028, 5, 31))
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    assert [p.id for p in plan.posts] == ["m.2026.ch.en", "m.2027.ch.en"]
    assert plan.posts[0].local_time.date() == dt.date(2026, 6, 1)


def test_caption_over_the_limit_is_an_error_naming_the_post(tmp_path: Path) -> None:
    cal = plankit.calendar([plankit.channel(platform="x")], [plankit.moment(title="ベルギー" * 40, date=dt.date(2027, 5, 9))])
    plan = plan_posts(plankit.loaded(cal, plankit.write_templates(tmp_path)))
    (error,) = plan.errors
    assert error.post_id == "m.2027.ch.en" and "X counts" in error.message
    assert any("X counts" in w for w in plan.posts[0].warnings)
