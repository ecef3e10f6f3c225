"""Calendar edits as the console and the API make them: checked, committed (real git), synced
into the store at once, refused outside an editor's channels or on a stale copy, reverted."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.calendar.writer import StaleCalendar, text_hash
from scheduler import edits
from scheduler.actions import ActionError, NotAllowed
from scheduler.edits import Change, Editor
from scheduler.plan import plan_posts
from scheduler.store import Store, states, sync_plan
from scheduler.store.calendar_edits import saved_serial

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
ADA = Editor("ada", "admin")
KENJI = Editor("kenji", "editor", ("embassy-tokyo",))

OSAKA = {"id": "trade-mission-osaka-2027", "title": "Belgian trade mission to Osaka",
         "titles": {"ja": "大阪へのベルギー貿易ミッション"}, "start": dt.date(2027, 9, 13), "end": dt.date(2027, 9, 16),
         "pillar": "innovation", "channels": ["embassy-tokyo", "be-x"], "languages": ["ja", "en"],
         "testimonials": ["aiko-tanaka"], "hashtags": ["BelgiumJapan", "EmbracingOpenness"],
         "link": "https://www.belgium.be/en/embracing-openness"}


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    path = tmp_path / "calendar.yaml"
    path.write_bytes((REPO / "calendar.yaml").read_bytes())
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "calendar.yaml")
    git(tmp_path, "commit", "-q", "-m", "sample")
    store = Store(f"sqlite:///{tmp_path / 'campaign.db'}")
    build = tmp_path / "build"
    build.mkdir()
    sync_plan(store, plan_posts(load_calendar(path, today=NOW.date()), build_dir=build, today=NOW.date()), NOW)
    yield path, store, build
    store.close()


def test_a_new_moment_is_one_commit_of_added_lines_and_scheduled_at_once(rig) -> None:  # type: ignore[no-untyped-def]
    path, store, build = rig
    serial = saved_serial(store)
    seen = edits.preview(store, path, [Change("moments", None, OSAKA)], who=ADA, now=NOW, build=build,
                         base_hash=text_hash(path.read_bytes()))
    assert seen.valid and seen.impact is not None
    assert seen.impact.sentence() == f"adds {len(seen.impact.added)} posts"
    assert {p.channel_id for p in seen.posts_of("trade-mission-osaka-2027")} == {"embassy-tokyo", "be-x"}
    done = edits.apply(store, path, [Change("moments", None, OSAKA)], who=ADA, now=NOW, build=build,
                       base_hash=seen.base_hash)
    assert done.commit is not None
    assert git(path.parent, "log", "-1", "--format=%an|%s") == "ada|Add moment trade-mission-osaka-2027\n"
    stat = git(path.parent, "show", "--numstat", "--format=", "HEAD")
    assert stat.split("\t")[1] == "0"  # nothing removed
    assert set(done.impact.added) == {p.id for p in store.all_posts() if p.moment_id == "trade-mission-osaka-2027"}
    assert saved_serial(store) == serial + 1  # the daemons on this store reload
    assert any(r["action"] == "calendar-edit" and r["actor"] == "ada" for r in store.audit_rows())


def test_moving_an_approved_moment_says_so_then_reverting_restores_the_file(rig) -> None:  # type: ignore[no-untyped-def]
    path, store, build = rig
    original = path.read_bytes()
    store.approve(by="ada", now=NOW, moment_id="davos-2027")
    approved = [p.id for p in store.all_posts(state=states.APPROVED)]
    assert approved
    davos = load_calendar(path).calendar.moment("davos-2027").model_dump(mode="python", exclude_defaults=True)
    moved = {**davos, "start": dt.date(2027, 1, 25), "end": dt.date(2027, 1, 29)}
    seen = edits.preview(store, path, [Change("moments", "davos-2027", moved)], who=ADA, now=NOW, build=build)
    assert seen.impact is not None
    davos_posts = [p for p in store.all_posts() if p.moment_id == "davos-2027"]
    assert len(davos_posts) > len(approved)  # be-x needs no approval
    assert seen.impact.sentence() == f"moves {len(davos_posts)} posts (already approved: {len(approved)})"
    done = edits.apply(store, path, [Change("moments", "davos-2027", moved)], who=ADA, now=NOW, build=build,
                       base_hash=seen.base_hash)
    assert git(path.parent, "log", "-1", "--format=%s") == "Edit moment davos-2027: start, end\n"
    assert git(path.parent, "show", "--numstat", "--format=", "HEAD").startswith("2\t2\t")
    assert all(store.get(p).state == states.PLANNED for p in approved)  # approval withdrawn: it changed
    back = edits.revert(store, path, done.commit, who=ADA, now=NOW, build=build, base_hash=None)  # type: ignore[arg-type]
    assert path.read_bytes() == original
    assert git(path.parent, "log", "-1", "--format=%an|%s") == 'ada|Revert "Edit moment davos-2027: start, end"\n'
    assert back.impact.moved
    with pytest.raises(NotAllowed):
        edits.revert(store, path, back.commit, who=KENJI, now=NOW, build=build, base_hash=None)  # type: ignore[arg-type]


@pytest.mark.slow  # several saves, each re-planned and committed in git (~3 s)
def test_an_editor_edits_its_channels_languages_only(rig) -> None:  # type: ignore[no-untyped-def]
    path, store, build = rig
    aiko = load_calendar(path).calendar.testimonial("aiko-tanaka").model_dump(mode="python", exclude_defaults=True)
    quote = {**aiko, "quote": {**aiko["quote"], "ja": "imecでの研究で、ベルギーの開かれた協力を実感しました。"}}
    done = edits.apply(store, path, [Change("testimonials", "aiko-tanaka", quote)], who=KENJI, now=NOW, build=build,
                       base_hash=None)
    assert done.saved.changed
    assert git(path.parent, "show", "--numstat", "--format=", "HEAD").startswith("1\t1\t")
    with pytest.raises(NotAllowed, match="names channel be-x"):  # a national channel
        edits.apply(store, path, [Change("moments", None, OSAKA)], who=KENJI, now=NOW, build=build, base_hash=None)
    tokyo_only = {**OSAKA, "channels": ["embassy-tokyo"]}
    edits.apply(store, path, [Change("moments", None, tokyo_only)], who=KENJI, now=NOW, build=build, base_hash=None)
    with pytest.raises(NotAllowed, match="names channel"):
        edits.apply(store, path, [Change("moments", "europe-day", None)], who=KENJI, now=NOW, build=build, base_hash=None)
    renamed = {**aiko, "name": "Aiko T."}
    with pytest.raises(NotAllowed, match="not `name`"):
        edits.apply(store, path, [Change("testimonials", "aiko-tanaka", renamed)], who=KENJI, now=NOW, build=build,
                    base_hash=None)
    lukas = load_calendar(path).calendar.testimonial("lukas-weber").model_dump(mode="python", exclude_defaults=True)
    german = {**lukas, "quote": {**lukas["quote"], "de": "Belgien baut Brücken."}}
    with pytest.raises(NotAllowed, match="quote.de"):  # Tokyo posts in ja and en
        edits.apply(store, path, [Change("testimonials", "lukas-weber", german)], who=KENJI, now=NOW, build=build,
                    base_hash=None)
    with pytest.raises(NotAllowed, match="blackouts are changed by an admin"):
        edits.apply(store, path, [Change("blackouts", 0, None)], who=KENJI, now=NOW, build=build, base_hash=None)
    with pytest.raises(NotAllowed, match="only editors and admins"):
        edits.apply(store, path, [Change("blackouts", 0, None)], who=Editor("vera", "viewer"), now=NOW, build=build,
                    base_hash=None)


@pytest.mark.slow  # several saves, each re-planned and committed in git (~3 s)
def test_invalid_or_stale_saves_write_nothing(rig) -> None:  # type: ignore[no-untyped-def]
    path, store, build = rig
    text, opened = edits.opened(store, path, NOW)
    before = path.read_bytes()
    bad = {**OSAKA, "channels": ["embassy-tokio"]}
    seen = edits.preview(store, path, [Change("moments", None, bad)], who=ADA, now=NOW, build=build, base_hash=opened)
    assert not seen.valid and any("embassy-tokio" in p.message and p.line for p in seen.problems)
    with pytest.raises(Exception) as refused:
        edits.apply(store, path, [Change("moments", None, bad)], who=ADA, now=NOW, build=build, base_hash=opened)
    assert "embassy-tokio" in str(refused.value)
    assert path.read_bytes() == before
    edits.apply(store, path, [Change("moments", "europe-day", {**load_calendar(path).calendar.moment("europe-day")
                                                               .model_dump(mode="python", exclude_defaults=True),
                                                               "title": "Europe Day (theirs)"})],
                who=ADA, now=NOW, build=build, base_hash=opened)
    with pytest.raises(StaleCalendar) as stale:
        edits.apply(store, path, [Change("moments", None, OSAKA)], who=ADA, now=NOW, build=build, base_hash=opened)
    assert "+    title: Europe Day (theirs)" in stale.value.diff
    with pytest.raises(ActionError, match="no moment nope"):
        edits.apply(store, path, [Change("moments", "nope", OSAKA)], who=ADA, now=NOW, build=build, base_hash=None)


def test_a_caption_override_lives_in_the_calendar_and_survives_replanning(rig) -> None:  # type: ignore[no-untyped-def]
    path, store, build = rig
    post_id = "europe-day.2027.be-mastodon.fr"
    assert store.get(post_id) is not None
    words = "La Journée de l'Europe, vue de Bruxelles. #EuropeDay"
    edits.apply(store, path, [Change("overrides", post_id, {"caption": words})], who=ADA, now=NOW, build=build,
                base_hash=None)
    assert store.get(post_id).caption == words
    assert f"  {post_id}:\n    caption: " in path.read_text(encoding="utf-8")
    again = plan_posts(load_calendar(path, today=NOW.date()), build_dir=build, today=NOW.date())
    assert next(p for p in again.posts if p.id == post_id).caption == words
    assert sync_plan(store, again, NOW).unchanged == len(again.posts)
