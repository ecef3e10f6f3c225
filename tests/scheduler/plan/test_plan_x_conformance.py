"""X counting judged by twitter-text's own conformance cases (vendored, see the YAML's header):
the planner's check and the X emulator must both agree with X, not with each other."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from ruamel.yaml import YAML

from emulators import start_emulator, textcount
from scheduler.platforms import registry
from scheduler.platforms.x import text as textrules

CONFORMANCE = Path(__file__).parents[2] / "conformance" / "twitter_text" / "validate.yml"
TESTS = YAML(typ="safe").load(CONFORMANCE.read_text(encoding="utf-8"))["tests"]
WEIGHTED = [case for section in ("WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest")
            for case in TESTS[section]]
IDS = [case["description"][:60] for case in WEIGHTED]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_the_vendored_file_is_whole() -> None:
    """Every text is as long as its own displayRangeEnd says (a damaged transcription fails here)."""
    assert len(WEIGHTED) == 23 and len(TESTS["urls_without_protocol"]) == 5
    for case in WEIGHTED:
        assert _utf16_length(case["text"]) - 1 == case["expected"]["displayRangeEnd"], case["description"]


@pytest.mark.parametrize("case", WEIGHTED, ids=IDS)
def test_planner_counts_as_x(case: dict) -> None:
    parsed = textrules.x_parse(case["text"])
    assert parsed.weightedLength == case["expected"]["weightedLength"]
    assert parsed.valid == case["expected"]["valid"]
    assert (registry.check_caption("x", case["text"]) == []) == case["expected"]["valid"]


@pytest.mark.parametrize("case", WEIGHTED, ids=IDS)
def test_emulator_counts_as_x(case: dict) -> None:
    parsed = textcount.x_parse(case["text"])
    assert (parsed.weightedLength, parsed.valid) == (case["expected"]["weightedLength"], case["expected"]["valid"])


@pytest.mark.parametrize("case", TESTS["urls_without_protocol"], ids=lambda c: c["text"])
def test_links_without_a_scheme_count_23(case: dict) -> None:
    assert textrules.x_weighted_length(case["text"]) == 23
    assert textcount.x_weighted_length(case["text"]) == 23


# The cases issue 11 found, in the campaign's own words (expected values by X's rules above).
@pytest.mark.parametrize("text, expected", [
    ("imec.be", 23),
    ("www.belgium.be", 23),
    ("t.co", 23),
    ("Research at imec.be and www.belgium.be", len("Research at ") + 23 + len(" and ") + 23),
    ("https://www.belgium.be/ja日本の研究者", 23 + 6 * 2),  # the link ends where the CJK text starts
    ("👩🏽\u200d🔬 science", 2 + 8),  # woman scientist, medium skin tone: one emoji
    ("🇧🇪🇯🇵", 4),
])
def test_issue_cases_count_as_x(text: str, expected: int) -> None:
    assert textrules.x_weighted_length(text) == expected
    assert textcount.x_weighted_length(text) == expected


def test_a_byte_order_mark_makes_the_post_invalid_in_planner_and_emulator() -> None:
    text = "Belgium\ufeff is great, others say"
    problems = registry.check_caption("x", text)
    assert len(problems) == 1 and "U+FEFF" in problems[0] and "delete" in problems[0]
    emulator = start_emulator("x", token="t0k3n", account="belgium")
    try:
        answer = requests.post(f"{emulator.api_url}/2/tweets", json={"text": text}, headers={"Authorization": "Bearer t0k3n"},
                               timeout=5)
        assert answer.status_code == 400 and "not allowed" in answer.json()["detail"]
        clean = requests.post(f"{emulator.api_url}/2/tweets", json={"text": text.replace("\ufeff", "")},
                              headers={"Authorization": "Bearer t0k3n"}, timeout=5)
        assert clean.status_code == 201
    finally:
        emulator.stop()
