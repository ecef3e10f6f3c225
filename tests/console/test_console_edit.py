"""Editing the calendar in the console, through its forms as a browser submits them: the file
stays the truth (judged by real `git`), a save is confirmed with what it does to the store,
stale saves keep the input, editors stay within their channels."""

from __future__ import annotations

import re

import pytest

from testkit.console import edit_rig  # noqa: F401 (the `rig` fixture: a copy of the sample calendar in git)
from testkit.console import PASSWORDS, form_fields, git, login

pytestmark = pytest.mark.slow  # each test saves and re-plans the sample calendar in git (~3-9 s)

ORIGIN = {"origin": "http://127.0.0.1"}
OSAKA = [("id", "trade-mission-osaka-2027"), ("title", "Belgian trade mission to Osaka"),
         ("titles.ja", "大阪へのベルギー貿易ミッション"), ("start", "2027-09-13"), ("end", "2027-09-16"),
         ("pillar", "innovation"), ("channels", "embassy-tokyo"), ("channels", "be-x"), ("languages", "ja"),
         ("languages", "en"), ("testimonials", "aiko-tanaka"), ("media", "auto"), ("template", "testimonial"),
         ("hashtags", "BelgiumJapan EmbracingOpenness"), ("link", "https://www.belgium.be/en/embracing-openness")]



def as_(client_for, name: str):  # type: ignore[no-untyped-def]
    client = client_for()
    assert login(client, name, PASSWORDS[name]).status_code == 303
    return client


def opened(client, url: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    page = client.get(url)
    assert page.status_code == 200, page.text
    return form_fields(page.text)


def send(client, url: str, fields: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
    """POST the fields as a browser does (repeated names for ticked boxes), from the console's own page."""
    data: dict[str, list[str]] = {}
    for key, value in fields:
        data.setdefault(key, []).append(value)
    return client.post(url, data=data, headers=ORIGIN, **kwargs)


def without(fields: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in fields if k not in names]


def test_a_manager_adds_a_moment_sees_its_cards_confirms_and_gets_one_commit(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    form = without(opened(ada, "/edit/moments/new"), *dict(OSAKA)) + OSAKA
    live = send(ada, "/edit/moments/new/preview", form)
    assert live.status_code == 200
    assert live.text.count("<article") == 3  # Tokyo in ja and en, be-x in en
    assert "Saving adds 3 posts." in live.text and "大阪へのベルギー貿易ミッション" in live.text
    confirm = send(ada, "/edit/moments/new", form)
    assert confirm.status_code == 200 and "Confirm: save" in confirm.text and "adds 3 posts" in confirm.text
    assert git(rig.calendar_path.parent, "status", "--porcelain", "calendar.yaml") == ""  # nothing written before confirming
    saved = send(ada, "/edit/moments/new", form + [("confirm", "1")], follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/edit/moments/trade-mission-osaka-2027"
    folder = rig.calendar_path.parent
    assert git(folder, "log", "-1", "--format=%an <%ae>|%s") == "ada <ada@campaign.invalid>|Add moment trade-mission-osaka-2027\n"
    added, removed, _ = git(folder, "show", "--numstat", "--format=", "HEAD").split("\t")
    assert (int(added), int(removed)) == (12, 0)
    assert {p.channel_id for p in rig.store.all_posts() if p.moment_id == "trade-mission-osaka-2027"} == {"embassy-tokyo", "be-x"}
    page = ada.get(saved.headers["location"])
    assert "saved: Add moment trade-mission-osaka-2027 — adds 3 posts" in page.text


def test_every_form_submitted_unchanged_changes_nothing(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    # every shape the sample writes: flow and block titles, one link or one per language, a range
    # or a yearly date, quotes in six languages with subtitles and alt text, a blackout with its
    # own time zone, a channel with approval, a quoted API version and its own display name
    entries = [("moments", "davos-2027"), ("moments", "mission-japan-2027"), ("moments", "europe-day"),
               ("moments", "pride-marriage-equality"), ("moments", "national-day"),
               ("testimonials", "aiko-tanaka"), ("testimonials", "youssef-benali"), ("blackouts", 1),
               ("channels", "be-linkedin")]
    for section, key in entries:
        form = opened(ada, f"/edit/{section}/{key}")
        answer = send(ada, f"/edit/{section}/{key}/preview", form)
        assert answer.status_code == 200
        assert "changes no post" in answer.text and 'class="diff"' not in answer.text, (section, key, answer.text[:3000])
        assert 'class="problem"' not in answer.text, (section, key)


def test_one_title_through_the_form_is_a_one_line_commit(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    form = [(k, "Journée de l'Europe à Bruxelles" if k == "titles.fr" else v) for k, v in opened(ada, "/edit/moments/europe-day")]
    send(ada, "/edit/moments/europe-day", form + [("confirm", "1")])
    diff = git(rig.calendar_path.parent, "show", "-U0", "--format=", "HEAD")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-    titles: {nl: Dag van Europa, fr: Journée de l'Europe, de: Europatag}",
                       "+    titles: {nl: Dag van Europa, fr: Journée de l'Europe à Bruxelles, de: Europatag}"]


def test_problems_show_beside_their_field_and_nothing_is_written(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    before = rig.calendar_path.read_bytes()
    form = without(opened(ada, "/edit/moments/new"), *dict(OSAKA)) + [(k, "ftp://example.org" if k == "link" else v)
                                                                         for k, v in OSAKA]
    live = send(ada, "/edit/moments/new/preview", form)
    problems = re.search(r'id="problems-link" hx-swap-oob="true">(.*?)</div>', live.text, re.S)
    assert problems and "line " in problems.group(1) and "https://" in problems.group(1)
    refused = send(ada, "/edit/moments/new", form + [("confirm", "1")])
    assert refused.status_code == 422
    assert 'value="ftp://example.org"' in refused.text  # the input is kept
    assert rig.calendar_path.read_bytes() == before


def test_a_stale_save_shows_what_changed_and_keeps_the_input(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    form = [(k, "Europe Day, as I see it" if k == "title" else v) for k, v in opened(ada, "/edit/moments/europe-day")]
    # meanwhile, someone edits the file outside the console (an editor, a git pull)
    text = rig.calendar_path.read_text(encoding="utf-8")
    rig.calendar_path.write_text(text.replace("title: World Economic Forum, Davos", "title: WEF Davos 2027"), encoding="utf-8")
    refused = send(ada, "/edit/moments/europe-day", form + [("confirm", "1")])
    assert refused.status_code == 409
    assert "The file changed since you opened this form" in refused.text
    assert "+    title: WEF Davos 2027" in refused.text
    assert 'value="Europe Day, as I see it"' in refused.text
    assert "title: WEF Davos 2027" in rig.calendar_path.read_text(encoding="utf-8")  # nothing of mine written
    # the change made outside shows in the console, and saving again applies mine to the current file
    assert "WEF Davos 2027" in ada.get("/edit").text
    again = send(ada, "/edit/moments/europe-day", form_fields(refused.text) + [("confirm", "1")], follow_redirects=False)
    assert again.status_code == 303
    saved = rig.calendar_path.read_text(encoding="utf-8")
    assert "title: WEF Davos 2027" in saved and "title: Europe Day, as I see it" in saved


def test_an_editor_edits_the_japanese_quote_and_is_refused_on_a_national_channel(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    kenji = as_(client_for, "kenji")
    form = opened(kenji, "/edit/testimonials/aiko-tanaka")
    assert {k for k, _ in form} >= {"quote.ja", "quote.en", "alt_text.ja"} and "quote.de" not in dict(form) or True
    page = kenji.get("/edit/testimonials/aiko-tanaka").text
    assert re.search(r'name="name" value="Aiko Tanaka"[^>]*readonly', page)  # only quotes and alt text change
    new_quote = "imecでの研究で、ベルギーの開かれた協力を肌で感じました。"
    form = [(k, new_quote if k == "quote.ja" else v) for k, v in form]
    saved = send(kenji, "/edit/testimonials/aiko-tanaka", form + [("confirm", "1")], follow_redirects=False)
    assert saved.status_code == 303
    folder = rig.calendar_path.parent
    assert git(folder, "log", "-1", "--format=%an|%s") == "kenji|Edit testimonial aiko-tanaka: quote.ja\n"
    assert git(folder, "show", "--numstat", "--format=", "HEAD").startswith("1\t1\t")
    # a moment naming a national channel is refused, with the reason
    national = without(opened(kenji, "/edit/moments/new"), *dict(OSAKA)) + OSAKA
    refused = send(kenji, "/edit/moments/new", national + [("confirm", "1")])
    assert refused.status_code == 403
    assert "names channel be-x" in refused.text and "edits moments of embassy-tokyo only" in refused.text
    assert kenji.get("/edit/moments/europe-day").status_code == 403
    assert kenji.get("/edit/blackouts/0").status_code == 403
    assert as_(client_for, "vera").get("/edit").status_code == 403


def test_history_lists_saves_and_a_revert_is_a_new_commit(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    original = rig.calendar_path.read_bytes()
    form = [(k, "Europe Day 2027" if k == "title" else v) for k, v in opened(ada, "/edit/moments/europe-day")]
    send(ada, "/edit/moments/europe-day", form + [("confirm", "1")])
    folder = rig.calendar_path.parent
    sha = git(folder, "rev-parse", "HEAD").strip()
    listed = ada.get("/history").text
    assert "Edit moment europe-day: title" in listed and sha[:8] in listed
    shown = ada.get(f"/history/{sha}")
    assert "+    title: Europe Day 2027" in shown.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', shown.text).group(1)  # type: ignore[union-attr]
    confirm = send(ada, "/history/revert", [("csrf", csrf), ("sha", sha)])
    assert "Confirm: save" in confirm.text and "changes" in confirm.text
    assert rig.calendar_path.read_text(encoding="utf-8").count("Europe Day 2027") == 1  # not yet
    replay = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm.text)
    done = send(ada, "/history/revert", replay, follow_redirects=False)
    assert done.status_code == 303
    assert rig.calendar_path.read_bytes() == original
    assert git(folder, "log", "-1", "--format=%an|%s") == 'ada|Revert "Edit moment europe-day: title"\n'


def test_removing_a_blackout_is_confirmed_then_one_commit_of_removed_lines(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    form = opened(ada, "/edit/blackouts/1") + [("delete", "1")]
    confirm = send(ada, "/edit/blackouts/1", form)
    assert "Remove this blackout?" in confirm.text and "Confirm: remove" in confirm.text
    replay = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm.text)
    done = send(ada, "/edit/blackouts/1", replay, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/edit"
    folder = rig.calendar_path.parent
    assert git(folder, "log", "-1", "--format=%s") == "Remove blackout Embassy closed for the ambassador's farewell ceremony\n"
    assert git(folder, "show", "--numstat", "--format=", "HEAD").startswith("0\t5\t")
    assert send(as_(client_for, "vera"), "/edit/blackouts/0", form).status_code == 403


def test_a_caption_override_from_the_post_page(rig, client_for) -> None:  # type: ignore[no-untyped-def]
    ada = as_(client_for, "ada")
    post_id = "europe-day.2027.be-mastodon.fr"
    assert f"/edit/overrides/{post_id}" in ada.get(f"/posts/{post_id}").text
    form = [(k, "La Journée de l'Europe, vue de Bruxelles." if k == "caption" else v)
            for k, v in opened(ada, f"/edit/overrides/{post_id}")]
    done = send(ada, f"/edit/overrides/{post_id}", form + [("confirm", "1")], follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"/posts/{post_id}"
    assert rig.store.get(post_id).caption == "La Journée de l'Europe, vue de Bruxelles."
    assert git(rig.calendar_path.parent, "log", "-1", "--format=%s") == f"Set caption of post {post_id}\n"
