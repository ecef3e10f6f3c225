"""Every language done properly: names, quotation marks and separators from CLDR, right-to-left
captions laid out by the Unicode bidi algorithm, and warnings for text left in another language.

Referees this project did not write: Babel's CLDR data (names, directions, list patterns),
CLDR's own delimiters (vendored from its JSON release), and python-bidi (the Rust
`unicode-bidi` crate) laying out Arabic captions as a platform does.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel import Locale
from bidi import get_display

from campaign.calendar import load_calendar
from campaign.languages import (
    LANGUAGES,
    LRI,
    PDI,
    RIGHT_TO_LEFT,
    country_name,
    isolate_ltr_runs,
    list_separator,
    quotation_marks,
    script_of,
    strip_bidi_controls,
)
from scheduler.plan.planner import plan_posts
from scheduler.platforms.bluesky.text import TAG_FEATURE, bluesky_facets
from scheduler.platforms.linkedin.text import linkedin_escape
from scheduler.platforms.text import hashtags_in

REPO = Path(__file__).resolve().parents[2]
SAMPLE = (REPO / "calendar.yaml").read_text(encoding="utf-8")
TODAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def sample_posts():
    loaded = load_calendar(REPO / "calendar.yaml", today=TODAY)
    return {p.id: p for p in plan_posts(loaded, build_dir=REPO / "build", today=TODAY).posts}


# --- CLDR through Babel -------------------------------------------------------------------


def test_language_table_is_cldrs_two_letter_codes() -> None:
    english = Locale("en").languages
    assert LANGUAGES["de"] == english["de"] == "German"
    assert "ae" in LANGUAGES  # Avestan: ISO 639-1, missing from the old hand-kept table
    assert "sh" not in LANGUAGES  # withdrawn from ISO 639-1
    assert all(len(code) == 2 for code in LANGUAGES)


def test_direction_and_script_come_from_cldr() -> None:
    for code in ("ar", "he", "fa", "ur", "yi"):
        assert code in RIGHT_TO_LEFT and Locale.parse(code).character_order == "right-to-left"
    for code in ("en", "ja", "de", "ku"):  # Kurdish (Kurmanji) is written in Latin letters in CLDR
        assert code not in RIGHT_TO_LEFT
    assert (script_of("ja"), script_of("ar"), script_of("ur"), script_of("de")) == ("japanese", "arabic", "arabic", "latin")


def test_country_names_in_each_language() -> None:
    assert country_name("Germany", "de") == "Deutschland" == Locale("de").territories["DE"]
    assert country_name("DE", "fr") == "Allemagne"
    assert country_name("Morocco", "ar") == Locale("ar").territories["MA"] == "المغرب"
    assert country_name("United States", "ja") == Locale("ja").territories["US"]
    assert country_name("Atlantis", "de") is None


def test_quotation_marks_and_separators_per_language() -> None:
    assert quotation_marks("de") == ("„", "“")
    assert quotation_marks("ja") == ("「", "」")
    assert quotation_marks("fr") == ("«\u202f", "\u202f»")  # narrow no-break space inside guillemets
    assert quotation_marks("ar") == ("”", "“")
    assert quotation_marks("en") == ("“", "”")
    assert list_separator("ar") == "، " and list_separator("ja") == "、" and list_separator("de") == ", "


def test_sample_posts_carry_their_own_names_quotes_and_punctuation(sample_posts) -> None:
    de = sample_posts["europe-day.2027.press-outbox.de"].caption
    assert "„Belgien baut Brücken" in de and "“ — Lukas Weber, Deutschland" in de
    fr = sample_posts["europe-day.2027.press-outbox.fr"].caption
    assert "«\u202fLa Belgique" in fr and "Lukas Weber, Allemagne" in fr
    ja = next(p.caption for p in sample_posts.values() if p.language == "ja" and p.moment_id == "national-day")
    assert "「ベルギーで" in ja and "」" in ja and "モロッコ・Youssef Benali" in ja
    ar = strip_bidi_controls(sample_posts["national-day.2027.embassy-rabat.ar"].caption)
    assert "”في بلجيكا" in ar and "Youssef Benali، المغرب" in ar
    # no English country name is left in a post of another language
    for post in sample_posts.values():
        if post.language != "en":
            for english in ("Germany", "Morocco", "United Kingdom", "United States", "Canada", "Japan"):
                localized = country_name(english, post.language)
                if localized != english:
                    assert english not in re.sub(r"#\w+", "", post.caption), (post.id, english)


def test_japanese_post_links_to_a_japanese_page(sample_posts) -> None:
    ja = sample_posts["mission-japan-2027.2027.embassy-tokyo.ja"]
    assert ja.link and "/ja/" in ja.link and "/en/" not in ja.caption
    en = sample_posts["mission-japan-2027.2027.embassy-tokyo.en"]
    assert en.link and "/en/" in en.link


# --- right to left, judged by the Unicode bidi algorithm ----------------------------------


def displayed(caption: str) -> list[str]:
    """Each line as a platform shows an Arabic post: right-to-left paragraphs, visual order."""
    return [strip_bidi_controls(get_display(line, base_dir="R")) for line in caption.split("\n")]


def test_arabic_caption_keeps_hashtags_names_and_links_whole(sample_posts) -> None:
    caption = sample_posts["national-day.2027.embassy-rabat.ar"].caption
    shown = "\n".join(displayed(caption))
    for tag in ("#BelgianNationalDay", "#EmbracingOpenness"):
        assert tag in shown
    assert "Youssef Benali" in shown
    # the name stays between the dash after the quote and the country, read right to left
    line = next(line for line in displayed(caption) if "Youssef Benali" in line)
    assert line.index("المغرب"[::-1]) < line.index("Youssef Benali") < line.index("—")
    # the first hashtag is read first: rightmost in a right-to-left line
    tags = next(line for line in displayed(caption) if "#" in line)
    assert tags.index("#EmbracingOpenness") < tags.index("#BelgianNationalDay")


def test_without_isolation_the_bidi_algorithm_moves_the_hash() -> None:
    """The check above would fail on the caption as the template writes it."""
    raw = "لسنا نحن من يقول\n#BelgianNationalDay #EmbracingOpenness"
    assert "#BelgianNationalDay" not in "\n".join(displayed(raw))
    assert "#BelgianNationalDay" in "\n".join(displayed(isolate_ltr_runs(raw)))


def test_links_and_trailing_slashes_stay_in_place() -> None:
    text = "اقرأ المزيد: https://www.belgium.be/ar/ شكراً"
    assert "https://www.belgium.be/ar/" not in displayed(text)[0]
    assert "https://www.belgium.be/ar/" in displayed(isolate_ltr_runs(text))[0]


def test_isolation_keeps_what_platforms_detect() -> None:
    caption = isolate_ltr_runs("عيد وطني\n#BelgianNationalDay #EmbracingOpenness")
    assert caption.count(LRI) == caption.count(PDI) == 2
    assert hashtags_in(caption) == ["BelgianNationalDay", "EmbracingOpenness"]
    tags = [f["features"][0]["tag"] for f in bluesky_facets(caption) if f["features"][0]["$type"] == TAG_FEATURE]
    assert tags == ["BelgianNationalDay", "EmbracingOpenness"]  # the closing PDI is not part of a tag
    assert "{hashtag|\\#|BelgianNationalDay}" in linkedin_escape(caption)
    assert isolate_ltr_runs(caption) == caption  # idempotent


def test_latin_posts_are_not_isolated(sample_posts) -> None:
    for post in sample_posts.values():
        assert (LRI in post.caption) == (post.language in RIGHT_TO_LEFT), post.id


# --- validate: text left in another language ----------------------------------------------


def _warnings(tmp_path: Path, monkeypatch, text: str) -> list[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assets").mkdir(exist_ok=True)
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    return [str(w) for w in load_calendar(Path("calendar.yaml"), today=TODAY).warnings]


def test_sample_has_no_language_warnings(tmp_path, monkeypatch) -> None:
    assert _warnings(tmp_path, monkeypatch, SAMPLE) == []


def test_warns_about_an_english_country_name_in_a_german_post(tmp_path, monkeypatch) -> None:
    text = SAMPLE.replace("    country: Germany\n", "    country: Germany\n    country_names: {de: Germany}\n")
    warnings = _warnings(tmp_path, monkeypatch, text)
    line = text.splitlines().index("    country_names: {de: Germany}") + 1
    assert any(w.startswith(f"calendar.yaml:{line}:") and "English name" in w and "Deutschland" in w for w in warnings), warnings


def test_warns_about_a_country_cldr_does_not_know(tmp_path, monkeypatch) -> None:
    warnings = _warnings(tmp_path, monkeypatch, SAMPLE.replace("country: Germany", "country: Germania"))
    assert any("CLDR knows no country `Germania`" in w and "de" in w for w in warnings), warnings


def test_warns_where_a_language_falls_back_to_another_link(tmp_path, monkeypatch) -> None:
    text = SAMPLE.replace("      ja: https://japan.diplomatie.belgium.be/ja/embracing-openness\n", "")
    warnings = _warnings(tmp_path, monkeypatch, text)
    assert any("`ja` posts of `mission-japan-2027` fall back to the `en` link" in w for w in warnings), warnings
    single = SAMPLE.replace("      ja: https://japan.diplomatie.belgium.be/ja/embracing-openness\n", "").replace(
        "    link:                      # per language: Japanese readers go to the embassy's Japanese page\n      en: ",
        "    link: ")
    warnings = _warnings(tmp_path / "single", monkeypatch, single)
    assert any("the link is the `en` page but `mission-japan-2027` also posts in ja" in w for w in warnings), warnings


def test_warns_about_untranslated_titles_and_copied_or_unscripted_text(tmp_path, monkeypatch) -> None:
    text = SAMPLE.replace("      ja: ベルギー建国記念日\n", "").replace(
        '      de: "Belgien baut Brücken, bevor andere die Pläne zeichnen."',
        '      de: "Belgium builds bridges before others draw the plans."').replace(
        'alt_text:\n      ja: "白衣を着た田中愛子さんが研究室で微笑んでいる"', 'alt_text:\n      ja: "Aiko Tanaka in a lab"')
    warnings = _warnings(tmp_path, monkeypatch, text)
    assert any("`national-day` posts in ja with its English title" in w for w in warnings), warnings
    assert any("quote.de" in w and "same as the English one" in w for w in warnings), warnings
    assert any("alt_text.ja" in w and "no Japanese letters" in w for w in warnings), warnings


def test_per_language_hashtags_and_links_reach_the_posts(tmp_path) -> None:
    text = SAMPLE.replace("    hashtags: [BelgianNationalDay, EmbracingOpenness]",
                          "    hashtags: {en: [BelgianNationalDay], ja: [ベルギー建国記念日, EmbracingOpenness]}")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    loaded = load_calendar(tmp_path / "calendar.yaml", today=TODAY)
    posts = {p.id: p for p in plan_posts(loaded, build_dir=tmp_path, today=TODAY).posts}
    ja = next(p for p in posts.values() if p.moment_id == "national-day" and p.language == "ja")
    assert ja.hashtags == ("ベルギー建国記念日", "EmbracingOpenness") and "#ベルギー建国記念日" in ja.caption
    nl = next(p for p in posts.values() if p.moment_id == "national-day" and p.language == "nl")
    assert nl.hashtags == ("BelgianNationalDay",) and not re.search(r"#EmbracingOpenness", nl.caption)


def test_warns_about_words_in_a_caption_template_every_language_shares(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "cal"
    folder.mkdir()
    templates = folder / "templates" / "captions"
    templates.mkdir(parents=True)
    for source in (REPO / "templates" / "captions").iterdir():
        (templates / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "templates" / "preview.html.j2").symlink_to(REPO / "templates" / "preview.html.j2")
    shared = templates / "testimonial.j2"
    shared.write_text(shared.read_text(encoding="utf-8") + "\nRead more on our site.\n", encoding="utf-8")
    monkeypatch.chdir(folder)
    (folder / "assets").mkdir()
    (folder / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (folder / "calendar.yaml").write_text(SAMPLE, encoding="utf-8")
    warnings = [str(w) for w in load_calendar(Path("calendar.yaml"), today=TODAY).warnings]
    assert any("writes `Read more on our site`" in w and "de, en, fr, nl" in w for w in warnings), warnings


def test_a_bad_per_language_link_is_reported_once_at_its_line(tmp_path, monkeypatch) -> None:
    from campaign.errors import CalendarError

    text = SAMPLE.replace("      de: https://www.belgium.be/de/embracing-openness", "      de: www.belgium.be/de", 1)
    tmp_path.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError) as caught:
        load_calendar(Path("calendar.yaml"), today=TODAY)
    problems = [str(p) for p in caught.value.problems if p.severity == "error"]
    line = text.splitlines().index("      de: www.belgium.be/de") + 1
    assert problems == [f"calendar.yaml:{line}: moments[europe-day].link.de: string should match pattern "
                        "'^https?://\\S+$' — ids use lower-case letters, digits and dashes (e.g. embassy-tokyo); "
                        "hashtags have no '#' or spaces; links start with https://"]
