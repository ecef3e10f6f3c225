"""UTM tags on links, and caption templates whose mistakes name file, line and variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.plan import write_templates

from campaign.errors import TemplateError
from scheduler.plan.captions import CaptionRenderer
from scheduler.plan.utm import add_utm


def test_utm_added_to_plain_link() -> None:
    assert add_utm("https://belgium.be/en", source="x", campaign="europe-day", content="nl") == (
        "https://belgium.be/en?utm_source=x&utm_medium=social&utm_campaign=europe-day&utm_content=nl")


def test_utm_keeps_query_and_fragment_and_replaces_existing_utm_keys() -> None:
    link = "https://belgium.be/en/page?lang=ja&utm_source=newsletter&id=7#quotes"
    tagged = add_utm(link, source="bluesky", campaign="bio", content="en")
    assert tagged == ("https://belgium.be/en/page?lang=ja&id=7&utm_source=bluesky&utm_medium=social"
                      "&utm_campaign=bio&utm_content=en#quotes")
    assert tagged.count("utm_source") == 1
    assert add_utm(tagged, source="bluesky", campaign="bio", content="en") == tagged  # idempotent


def test_language_template_wins_over_shared(tmp_path: Path) -> None:
    write_templates(tmp_path, {"t.j2": "shared {{ title }}", "t.ja.j2": "日本 {{ title }}"})
    renderer = CaptionRenderer(tmp_path / "templates")
    assert renderer.render("t", "ja", {"title": "A"}) == "日本 A"
    assert renderer.render("t", "en", {"title": "A"}) == "shared A"


def test_undefined_variable_names_template_line_and_variable(tmp_path: Path) -> None:
    write_templates(tmp_path, {"t.j2": "{{ title }}\n\n“{{ quote }}” — {{ speeker }}\n"})
    with pytest.raises(TemplateError) as error:
        CaptionRenderer(tmp_path / "templates").render("t", "en", {"title": "A", "quote": "Q"})
    assert "templates/captions/t.j2:3:" in str(error.value)
    assert "`speeker`" in str(error.value)


def test_syntax_error_names_template_and_line(tmp_path: Path) -> None:
    write_templates(tmp_path, {"t.nl.j2": "{{ title }}\n{% if quote %}\nno end\n"})
    with pytest.raises(TemplateError) as error:
        CaptionRenderer(tmp_path / "templates").render("t", "nl", {"title": "A", "quote": "Q"})
    assert "templates/captions/t.nl.j2:" in str(error.value) and "syntax error" in str(error.value)


def test_sandbox_blocks_python_internals(tmp_path: Path) -> None:
    write_templates(tmp_path, {"t.j2": "{{ title.__class__.__mro__[1].__subclasses__() }}"})
    with pytest.raises(TemplateError):
        CaptionRenderer(tmp_path / "templates").render("t", "en", {"title": "A"})


def test_missing_template_is_a_template_error(tmp_path: Path) -> None:
    write_templates(tmp_path, {})
    with pytest.raises(TemplateError, match="no caption template `nope`"):
        CaptionRenderer(tmp_path / "templates").render("nope", "en", {})


def test_hashtags_a_template_leaves_out_are_appended_before_the_platform_check(tmp_path: Path) -> None:
    from testkit import plan as plankit

    from scheduler.plan import plan_posts

    plankit.write_templates(tmp_path, {"t.j2": "{{ title }} {{ 'x' * 262 }} #Pride"})
    cal = plankit.calendar([plankit.channel(platform="x")],
                           [plankit.moment(date="2027-06-01", template="t", hashtags=["Pride", "EmbracingOpenness", "PrideMonth"])])
    plan = plan_posts(plankit.loaded(cal, tmp_path))
    [post] = plan.posts
    assert post.caption.endswith("#Pride\n\n#EmbracingOpenness #PrideMonth")  # #Pride is there, not #PrideMonth
    assert any("280" in issue.message for issue in plan.errors), plan.issues  # the appended tags break X's limit
