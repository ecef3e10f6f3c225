"""Each validation rule, on a copy of the sample calendar broken in one way.

Line numbers are found in the broken text itself (the line holding the edit), so every
assertion checks the exact line a manager would be sent to.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.errors import CalendarError

REPO = Path(__file__).resolve().parents[2]
SAMPLE = (REPO / "calendar.yaml").read_text(encoding="utf-8")
TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the calendar's folder, as a manager does: messages then say `calendar.yaml:LINE`."""
    monkeypatch.chdir(tmp_path)


def write_calendar(tmp_path: Path, text: str) -> Path:
    """A calendar in tmp_path whose relative paths (brand, templates) still resolve."""
    (tmp_path / "assets").mkdir(exist_ok=True)
    if not (tmp_path / "assets" / "brand").exists():
        (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    if not (tmp_path / "templates").exists():
        (tmp_path / "templates").symlink_to(REPO / "templates")
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return Path("calendar.yaml")


def broken(tmp_path: Path, old: str, new: str, count: int = 1) -> tuple[Path, str]:
    assert SAMPLE.count(old) >= 1, f"the sample calendar no longer contains {old!r}"
    text = SAMPLE.replace(old, new, count)
    return write_calendar(tmp_path, text), text


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the `occurrence`-th line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not found"
    return hits[occurrence - 1]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        load_calendar(path, today=TODAY)
    return [str(p) for p in caught.value.problems]


def test_sample_calendar_is_valid_without_warnings() -> None:
    loaded = load_calendar(REPO / "calendar.yaml", today=TODAY)
    assert loaded.warnings == []
    assert {c.id for c in loaded.calendar.channels} >= {"be-facebook", "be-instagram", "be-x", "be-linkedin", "embassy-tokyo"}
    assert len(loaded.calendar.testimonials) >= 4


def test_unknown_channel_in_a_moment(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "channels: [be-linkedin, be-x]", "channels: [be-linkedn, be-x]")
    line = line_of(text, "be-linkedn")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[davos-2027].channels[0]: unknown channel `be-linkedn` — did you mean `be-linkedin`?"
    ]


def test_unknown_testimonial_in_a_moment(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "testimonials: [james-carter]\n    hashtags: [WEF27", "testimonials: [jim-carter]\n    hashtags: [WEF27")
    line = line_of(text, "jim-carter")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[davos-2027].testimonials[0]: unknown testimonial `jim-carter` — did you mean `james-carter`?"
    ]


def test_unknown_language_code(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "languages: [ja, en]\n    timezone: Asia/Tokyo", "languages: [jp, en]\n    timezone: Asia/Tokyo")
    line = line_of(text, "languages: [jp, en]")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: channels[embassy-tokyo].languages[0]: unknown language code 'jp' — use a two-letter ISO 639-1 code such as en, nl, fr, de, ja, ar"
    ]


def test_unknown_template(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    pillar: innovation\n    channels: [be-linkedin, be-x]",
                        "    pillar: innovation\n    template: keynote\n    channels: [be-linkedin, be-x]")
    line = line_of(text, "template: keynote")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[davos-2027].template: unknown template `keynote` for en — create templates/captions/keynote.j2 (shared) or keynote.<lang>.j2"
    ]


def test_channel_language_without_baseline(tmp_path: Path) -> None:
    path, text = broken(tmp_path, '    ar: "لسنا نحن من يقول إن بلجيكا رائعة، بل الآخرون"\n', "")
    line = line_of(text, "languages: [ar, fr]")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: channels[embassy-rabat].languages[0]: channel `embassy-rabat` posts in `ar` but campaign.baseline has no `ar` translation — add `ar:` under campaign.baseline"
    ]


def test_quote_missing_in_a_needed_language(tmp_path: Path) -> None:
    path, text = broken(tmp_path, '      nl: "Hier kon ik openlijk houden van wie ik wil."\n', "")
    line = line_of(text, "quote:", occurrence=5)  # camille-tremblay is the fifth testimonial
    assert problems_of(path) == [
        f"calendar.yaml:{line}: testimonials[camille-tremblay].quote: no `nl` quote, but moment `pride-marriage-equality` posts it in `nl` — add `nl:` under quote"
    ]


def test_time_zone_that_does_not_exist(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "timezone: Asia/Tokyo", "timezone: Asia/Tokio")
    line = line_of(text, "Asia/Tokio")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: channels[embassy-tokyo].timezone: time zone 'Asia/Tokio' does not exist — use an IANA name such as Europe/Brussels, America/New_York or Asia/Tokyo"
    ]


def test_duplicate_ids(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "  - id: lukas-weber", "  - id: priya-sharma")
    line = line_of(text, "- id: priya-sharma", occurrence=2)
    problems = problems_of(path)
    assert f"calendar.yaml:{line}: testimonials[priya-sharma].id: duplicate id `priya-sharma` — ids must be unique within testimonials; rename one of them" in problems


def test_moment_range_outside_the_campaign(tmp_path: Path) -> None:
    text = SAMPLE.replace("    start: 2027-10-11\n    end: 2027-10-14", "    start: 2027-12-11\n    end: 2027-12-14")
    path = write_calendar(tmp_path, text)
    line = line_of(text, "start: 2027-12-11")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[mission-uk-2027].start: 2027-12-11 is outside the campaign (2026-12-01 to 2027-11-30) — move the moment or widen campaign.start/end"
    ]


def test_moment_date_outside_the_campaign(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    date: 2027-07-21", "    date: 2028-07-21")
    line = line_of(text, "date: 2028-07-21")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[national-day].date: 2028-07-21 is outside the campaign (2026-12-01 to 2027-11-30) — move the moment or widen campaign.start/end"
    ]


def test_consent_ended_before_the_moment(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    consent_until: 2029-01-31", "    consent_until: 2027-01-31")
    line = line_of(text, "testimonials: [youssef-benali]")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: moments[national-day].testimonials[0]: consent for `youssef-benali` ends 2027-01-31, before this moment (2027-07-21) — remove it from the moment or record a renewed consent_until"
    ]


def test_yaml_syntax_error_with_its_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    account: BelgiumInJapan", "    account: [BelgiumInJapan")
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith("calendar.yaml:")
    reported = int(problems[0].split(":")[1])
    assert line_of(text, "[BelgiumInJapan") <= reported <= line_of(text, "[BelgiumInJapan") + 2
    assert "YAML syntax error" in problems[0]


def test_missing_calendar_file(tmp_path: Path) -> None:
    assert problems_of(Path("calendar.yaml")) == [
        "calendar.yaml:1: the calendar file does not exist — create it (copy the sample calendar.yaml) or pass --calendar PATH"
    ]


def test_empty_calendar_file(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, "# nothing yet\n\n")
    assert problems_of(path) == [
        "calendar.yaml:1: the calendar is empty — add the sections campaign, brand, channels, testimonials and moments (see the sample calendar.yaml)"
    ]


def test_secret_key_is_rejected_with_where_credentials_go(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    account: Belgium\n", "    account: Belgium\n    access_token: abc123\n")
    line = line_of(text, "access_token")
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"calendar.yaml:{line}: channels[be-x].access_token: `access_token` looks like a secret — remove it; credentials never live in the calendar")
    assert "CAMPAIGN_<CHANNEL_ID>_<NAME>" in problems[0]


def test_token_shaped_value_is_rejected(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    account: BelgiumInCanada", "    account: EAABsbCS1iHgBAKZCZCpKjWBiZCZB2vZAAy0mVxqO8ZD")
    line = line_of(text, "EAABsb")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: channels[embassy-ottawa].account: this value looks like an access token — remove it; credentials never live in the calendar: put them in the environment variable CAMPAIGN_<CHANNEL_ID>_<NAME> or in the secrets file ~/.config/embracing-openness/secrets.toml (see README, 'Credentials')"
    ]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "  safe_margin: 0.06", "  safe_margn: 0.06")
    line = line_of(text, "safe_margn")
    assert problems_of(path) == [f"calendar.yaml:{line}: brand.safe_margn: unknown key `safe_margn` — did you mean `safe_margin`?"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (SAMPLE.replace("timezone: Africa/Casablanca", "timezone: Africa/Rabat")
            .replace("channels: [be-linkedin, be-x]", "channels: [be-linkedn, be-x]")
            .replace("  safe_margin: 0.06", "  safe_margin: 0.5"))
    path = write_calendar(tmp_path, text)
    problems = problems_of(path)
    assert [int(p.split(":")[1]) for p in problems] == sorted(
        [line_of(text, "safe_margin: 0.5"), line_of(text, "Africa/Rabat"), line_of(text, "be-linkedn")]
    )
    assert "less than or equal to 0.2" in problems[0]


def test_moment_in_the_past_is_a_warning_not_an_error(tmp_path: Path) -> None:
    path = write_calendar(tmp_path, SAMPLE)
    loaded = load_calendar(path, today=dt.date(2027, 2, 1))
    warnings = [str(w) for w in loaded.warnings]
    line = line_of(SAMPLE, "start: 2027-01-18")
    assert f"calendar.yaml:{line}: moments[davos-2027].start: moment `davos-2027` lies in the past (2027-01-22) — nothing will be posted for it" in warnings


def test_slot_written_badly(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'slots: ["09:00", "12:00", "19:00"]', 'slots: ["09:00", "noon", "19:00"]')
    line = line_of(text, '"noon"')
    assert problems_of(path) == [
        f"calendar.yaml:{line}: channels[embassy-tokyo].slots[1]: 'noon' is not a local time — write it as \"HH:MM\", e.g. \"09:00\""
    ]


def test_missing_brand_file(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "logo: assets/brand/logo.png", "logo: assets/brand/logo-2027.png")
    line = line_of(text, "logo-2027")
    assert problems_of(path) == [
        f"calendar.yaml:{line}: brand.logo: file assets/brand/logo-2027.png not found (paths are relative to the calendar's folder) — fix the path or add the file"
    ]


# --- LinkedIn API versions (issue 11, finding 6) ---------------------------------------------

def test_sunset_linkedin_version_fails_validation(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'api: {version: "202611"}', 'api: {version: "202510"}')
    with pytest.raises(CalendarError) as caught:
        load_calendar(path, today=dt.date(2026, 12, 1))
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1
    line = line_of(text, 'version: "202510"')
    assert problems[0].startswith(f"calendar.yaml:{line}:")
    assert "sunset on 2026-10-15" in problems[0] and "426" in problems[0] and "set api.version" in problems[0]


def test_linkedin_version_warns_60_days_before_its_sunset(tmp_path: Path) -> None:
    path, text = broken(tmp_path, 'api: {version: "202611"}', 'api: {version: "202511"}')
    loaded = load_calendar(path, today=dt.date(2026, 9, 17))  # 60 days before 2026-11-16
    warnings = [str(w) for w in loaded.warnings if "LinkedIn" in str(w)]
    assert len(warnings) == 1 and "sunset on 2026-11-16 (in 60 days)" in warnings[0]
    line = line_of(text, 'version: "202511"')
    assert warnings[0].startswith(f"calendar.yaml:{line}:")
    quiet = load_calendar(path, today=dt.date(2026, 9, 16))  # 61 days before: nothing yet
    assert not [w for w in quiet.warnings if "LinkedIn" in str(w)]


def test_linkedin_version_not_released_yet_or_malformed(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, 'api: {version: "202611"}', 'api: {version: "202705"}')
    assert any("not released yet" in p for p in problems_of(path))
    path, _ = broken(tmp_path, 'api: {version: "202611"}', 'api: {version: "2026-11"}')
    assert any("write it as YYYYMM" in p for p in problems_of(path))


def test_graph_api_version_expiry_warns_then_fails(tmp_path: Path) -> None:
    """Meta lists v21.0 as available until 2027-01-21, inside this campaign."""
    path, text = broken(tmp_path, "api: {version: v25.0}", "api: {version: v21.0}")
    loaded = load_calendar(path, today=dt.date(2026, 12, 1))
    warnings = [str(w) for w in loaded.warnings if "Graph API" in str(w)]
    assert len(warnings) == 1 and "expires on 2027-01-21 (in 51 days)" in warnings[0]
    assert warnings[0].startswith(f"calendar.yaml:{line_of(text, 'version: v21.0')}:")
    with pytest.raises(CalendarError) as caught:
        load_calendar(path, today=dt.date(2027, 1, 21))
    assert any("expired on 2027-01-21" in str(p) and "v25.0" in str(p) for p in caught.value.problems)


def test_a_google_app_status_is_testing_or_production(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "api: {audited: false}", "api: {audited: false, oauth_app: testing}")
    loaded = load_calendar(path, today=TODAY)
    assert next(c for c in loaded.calendar.channels if c.id == "be-youtube").api.oauth_app == "testing"
    path, text = broken(tmp_path, "api: {audited: false}", "api: {audited: false, oauth_app: test}")
    (problem,) = problems_of(path)
    assert problem.startswith(f"calendar.yaml:{line_of(text, 'oauth_app: test')}: channels[be-youtube].api.oauth_app") \
        and "testing" in problem and "production" in problem, problem
