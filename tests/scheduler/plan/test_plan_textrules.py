"""Platform text rules with real CJK, emoji (ZWJ families, flags) and URL examples."""

from __future__ import annotations

import unicodedata

from scheduler.platforms.bluesky.text import bluesky_display_link, bluesky_facets, bluesky_graphemes
from scheduler.platforms.instagram.text import instagram_check
from scheduler.platforms.linkedin.text import linkedin_escape
from scheduler.platforms.mastodon.text import mastodon_length
from scheduler.platforms.registry import check_caption
from scheduler.platforms.x.text import x_weighted_length

FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # man, woman, girl, boy joined by ZWJ: 7 code points
FLAG_BE = "🇧🇪"
URL = "https://www.belgium.be/en/embracing-openness?utm_source=x&utm_medium=social&utm_campaign=europe-day&utm_content=en"


def test_x_latin_counts_one_per_character() -> None:
    assert x_weighted_length("Belgium") == 7
    assert x_weighted_length("a" * 280) == 280


def test_x_cjk_counts_two() -> None:
    assert x_weighted_length("ベルギー") == 8
    assert x_weighted_length("日本・Aiko") == 3 * 2 + 4


def test_x_emoji_sequences_count_two_in_total() -> None:
    assert x_weighted_length(FAMILY) == 2
    assert x_weighted_length(FLAG_BE) == 2
    assert x_weighted_length("👍🏽") == 2  # skin tone modifier
    assert x_weighted_length("❤️") == 2  # with variation selector
    assert x_weighted_length(f"Love {FAMILY}{FLAG_BE}") == 5 + 4


def test_x_urls_count_23_whatever_their_length() -> None:
    assert x_weighted_length(URL) == 23
    assert x_weighted_length(f"See {URL}.") == 4 + 23 + 1
    assert x_weighted_length("https://a.be") == 23


def test_x_normalises_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert len(decomposed) == 5
    assert x_weighted_length(decomposed) == 4


def test_x_arabic_and_special_punctuation_are_light() -> None:
    assert x_weighted_length("بلجيكا") == 6  # Arabic is below U+1100
    assert x_weighted_length("“quote” — it") == 12  # curly quotes and dashes (U+2010-201F) are light
    assert x_weighted_length("…") == 2  # U+2026 is outside the light ranges


def test_x_limit_with_cjk_is_checked() -> None:
    assert check_caption("x", "日" * 140) == []
    problems = check_caption("x", "日" * 141)
    assert problems and "282 weighted characters" in problems[0] and "by 2" in problems[0]
    assert check_caption("x", "a" * 257 + " " + URL)  # 257 + 1 + 23 = 281
    assert check_caption("x", "a" * 256 + " " + URL) == []  # 280


def test_bluesky_counts_graphemes() -> None:
    assert bluesky_graphemes(FAMILY) == 1
    assert bluesky_graphemes(FLAG_BE + "ベルギー") == 5
    assert check_caption("bluesky", FAMILY * 300) == []
    assert "301 characters" in check_caption("bluesky", FAMILY * 301)[0]


def test_bluesky_facets_use_utf8_byte_offsets() -> None:
    text = f"{FAMILY} ベルギー https://belgium.be/x?a=1 #EmbracingOpenness! #2027 #日本"
    facets = bluesky_facets(text)
    encoded = text.encode("utf-8")
    links = [f for f in facets if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"]
    tags = [f for f in facets if f["features"][0]["$type"] == "app.bsky.richtext.facet#tag"]
    assert len(links) == 1
    index = links[0]["index"]
    assert encoded[index["byteStart"]:index["byteEnd"]].decode() == "https://belgium.be/x?a=1"
    assert index["byteStart"] == len(f"{FAMILY} ベルギー ".encode())
    assert [t["features"][0]["tag"] for t in tags] == ["EmbracingOpenness", "日本"]  # '!' trimmed, #2027 is no tag
    first = tags[0]["index"]
    assert encoded[first["byteStart"]:first["byteEnd"]].decode() == "#EmbracingOpenness"


def test_bluesky_short_link_facet_points_to_the_full_url() -> None:
    short = bluesky_display_link(URL)
    assert short.startswith("belgium.be/en/") and short.endswith("…") and len(short) == 30
    text = f"Europe Day\n{short}\n#EuropeDay"
    facets = bluesky_facets(text, links=[URL])
    link = next(f for f in facets if f["features"][0]["$type"].endswith("#link"))
    assert link["features"][0]["uri"] == URL
    assert text.encode()[link["index"]["byteStart"]:link["index"]["byteEnd"]].decode() == short


def test_mastodon_counts_urls_as_23() -> None:
    assert mastodon_length(f"Hi {URL}") == 3 + 23
    assert check_caption("mastodon", "x" * 477 + URL) == []
    assert check_caption("mastodon", "x" * 478 + URL)


def test_instagram_limits_characters_and_hashtags() -> None:
    assert instagram_check("a" * 2200) == []
    assert "2201 characters" in instagram_check("a" * 2201)[0]
    thirty = " ".join(f"#tag{i}" for i in range(30))
    assert instagram_check(thirty) == []
    assert "31 hashtags" in instagram_check(thirty + " #one-more")[0]
    assert instagram_check(f"{URL}#fragment #real") == []  # a '#' inside a link is not a hashtag


def test_linkedin_escapes_reserved_characters_and_keeps_hashtags_clickable() -> None:
    text = "Brussels (EU) <3 @home [1] *bold* _x_ ~y~ {z} a|b \\ #BelgiumUK C#"
    escaped = linkedin_escape(text)
    assert escaped == ("Brussels \\(EU\\) \\<3 \\@home \\[1\\] \\*bold\\* \\_x\\_ \\~y\\~ \\{z\\} a\\|b \\\\ "
                       "{hashtag|\\#|BelgiumUK} C\\#")
    assert linkedin_escape("#a", hashtags=False) == "\\#a"
    assert check_caption("linkedin", "a" * 3000) == []
    assert check_caption("linkedin", "(" * 1501)  # escaped it is 3002 characters


def test_facebook_limit_and_empty_caption() -> None:
    assert check_caption("facebook", "a" * 63206) == []
    assert check_caption("facebook", "a" * 63207)
    assert check_caption("x", "   ") == ["the caption is empty — check the caption template"]


def test_mastodon_counts_graphemes_and_remote_mentions_by_their_local_part() -> None:
    """Mastodon's StatusLengthValidator counts grapheme clusters (platform-apis.md, checked
    against real servers): a ZWJ family is 1, not 7; `@name@server` counts as `@name`."""
    from emulators import textcount

    for count in (mastodon_length, textcount.mastodon_length):
        assert count(FAMILY) == 1
        assert count(f"{FAMILY} {FLAG_BE}") == 3
        assert count("thanks @aiko@social.example") == len("thanks @aiko")
        assert count(f"Hi {URL}") == 3 + 23
    assert check_caption("mastodon", FAMILY * 500) == []  # 500 emoji fit; 3,500 code points
