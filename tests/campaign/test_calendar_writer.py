"""The round-trip calendar writer, judged by real `git diff`: a change to one value is one
changed line, a new entry is only added lines, everything else stays byte for byte; a save
that would not validate writes nothing; a save on a stale copy is refused."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.calendar.writer import Draft, StaleCalendar, save, save_text, text_hash
from campaign.errors import CalendarError

REPO = Path(__file__).resolve().parents[2]

OSAKA = {
    "id": "trade-mission-osaka-2027",
    "title": "Belgian trade mission to Osaka",
    "titles": {"ja": "大阪へのベルギー貿易ミッション"},
    "start": dt.date(2027, 9, 13),
    "end": dt.date(2027, 9, 16),
    "pillar": "innovation",
    "channels": ["embassy-tokyo", "be-x"],
    "languages": ["ja", "en"],
    "testimonials": ["aiko-tanaka"],
    "hashtags": ["BelgiumJapan", "EmbracingOpenness"],
    "link": {"en": "https://www.belgium.be/en/embracing-openness",
             "ja": "https://japan.diplomatie.belgium.be/ja/embracing-openness"},
}


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


def calendar_repo(tmp_path: Path, text: str | None = None) -> Path:
    """A copy of the sample calendar (or `text`) in a git repository of its own."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "brand").symlink_to(REPO / "assets" / "brand")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    path = tmp_path / "calendar.yaml"
    path.write_bytes((REPO / "calendar.yaml").read_bytes() if text is None else text.encode("utf-8"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "calendar.yaml")
    git(tmp_path, "commit", "-q", "-m", "sample")
    return path


def numstat(folder: Path) -> tuple[int, int]:
    added, removed, _name = git(folder, "diff", "--numstat", "--", "calendar.yaml").split("\t")
    return int(added), int(removed)


def changed_lines(folder: Path) -> list[str]:
    return [line for line in git(folder, "diff", "-U0", "--", "calendar.yaml").splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_one_title_is_a_one_line_git_diff(tmp_path: Path) -> None:
    path = calendar_repo(tmp_path)
    draft = Draft.open(path)
    draft.set(("moments", "europe-day", "titles", "fr"), "Journée de l'Europe à Bruxelles")
    save(draft)
    assert numstat(tmp_path) == (1, 1)
    assert changed_lines(tmp_path) == [
        "-    titles: {nl: Dag van Europa, fr: Journée de l'Europe, de: Europatag}",
        "+    titles: {nl: Dag van Europa, fr: Journée de l'Europe à Bruxelles, de: Europatag}"]
    assert load_calendar(path).calendar.moment("europe-day").titles["fr"] == "Journée de l'Europe à Bruxelles"


def test_a_new_moment_is_only_added_lines_and_validates(tmp_path: Path) -> None:
    path = calendar_repo(tmp_path)
    draft = Draft.open(path)
    draft.append("moments", OSAKA)
    saved = save(draft)
    added, removed = numstat(tmp_path)
    assert removed == 0 and added == 14  # 13 lines of the moment and the blank line before the next one
    lines = changed_lines(tmp_path)
    assert "+  - id: trade-mission-osaka-2027" in lines and "+    channels: [embassy-tokyo, be-x]" in lines
    assert saved.loaded.calendar.moment("trade-mission-osaka-2027").titles == {"ja": "大阪へのベルギー貿易ミッション"}
    text = path.read_text(encoding="utf-8")
    assert "      de: https://www.belgium.be/de/embracing-openness\n\n  - id: trade-mission-osaka-2027" in text
    assert "      ja: https://japan.diplomatie.belgium.be/ja/embracing-openness\n\nblackouts:" in text


def test_every_change_keeps_comments_quotes_and_untouched_lines(tmp_path: Path) -> None:
    path = calendar_repo(tmp_path)
    original = path.read_text(encoding="utf-8").splitlines()
    draft = Draft.open(path)
    draft.set(("channels", "be-x", "slots"), ["08:00", "11:00", "18:00"])  # quoted like the others
    draft.set(("testimonials", "priya-sharma", "quote", "ja"), "ブリュッセルでは、ヨーロッパと世界が一つのテーブルに着く。")
    draft.set(("moments", "davos-2027", "template"), "testimonial")  # a key the moment did not have
    draft.delete(("moments", "national-day", "titles", "ar"))
    draft.delete(("moments", "national-day", "channels", 3))
    draft.delete(("moments", "bio-convention-2027"))
    save(draft)
    lines = changed_lines(tmp_path)
    assert [line for line in lines if line.startswith("+")] == [
        '+    slots: ["08:00", "11:00", "18:00"]',
        '+      ja: "ブリュッセルでは、ヨーロッパと世界が一つのテーブルに着く。"',
        "+    template: testimonial",
        "+    channels: [be-facebook, be-x, embassy-tokyo]"]
    bio = [line for line in original[original.index("  - id: bio-convention-2027"):]][:11]  # its 10 lines and a blank
    assert [line[1:] for line in lines if line.startswith("-")] == [
        '    slots: ["08:00", "10:00", "12:00", "14:00", "16:00", "18:00"]',
        "      ar: العيد الوطني البلجيكي",
        "    channels: [be-facebook, be-x, embassy-tokyo, embassy-rabat]"] or True
    removed = [line[1:] for line in lines if line.startswith("-")]
    assert removed == ['    slots: ["08:00", "10:00", "12:00", "14:00", "16:00", "18:00"]', *bio,
                       "      ar: العيد الوطني البلجيكي",
                       "    channels: [be-facebook, be-x, embassy-tokyo, embassy-rabat]"], removed
    assert numstat(tmp_path) == (4, 14)
    kept = path.read_text(encoding="utf-8").splitlines()
    for comment in ("# Belgian yellow", "# she stands right of centre: keep her in every crop",
                    "# Embassies, in their host country's language and time zone",
                    "# per language: Japanese readers go to the embassy's Japanese page"):
        assert comment in "\n".join(kept)


def test_a_calendar_indented_its_own_way_keeps_its_indentation(tmp_path: Path) -> None:
    """Lists at the key's own column in two sections and indented in the others: ruamel's
    dump writes one style; only the changed lines may differ."""
    text = (REPO / "calendar.yaml").read_text(encoding="utf-8")
    own, section = [], ""
    for line in text.splitlines():
        section = line.rstrip(":") if line and not line.startswith((" ", "#")) else section
        own.append(line[2:] if section in ("channels", "moments") and line.startswith("  ") else line)
    own = "\n".join(own) + "\n"
    path = calendar_repo(tmp_path, own)
    load_calendar(path)
    draft = Draft.open(path)
    draft.set(("moments", "europe-day", "title"), "Europe Day 2027")
    draft.set(("testimonials", "priya-sharma", "quote", "en"), "In Brussels, Europe and the world share one table.")
    save(draft)
    assert numstat(tmp_path) == (2, 2)


@pytest.mark.slow  # runs `validate` as a process
def test_a_save_that_would_not_validate_writes_nothing(tmp_path: Path) -> None:
    """The messages are `validate`'s own, line for line (the CLI run on the same text)."""
    path = calendar_repo(tmp_path)
    before = path.read_bytes()
    draft = Draft.open(path)
    draft.set(("moments", "europe-day", "channels"), ["be-facebook", "be-tiktok"])
    draft.set(("channels", "be-x", "timezone"), "Europe/Brusels")
    with pytest.raises(CalendarError) as refused:
        save(draft)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("assets", "templates"):
        (bad / name).symlink_to(tmp_path / name)
    (bad / "calendar.yaml").write_text(draft.text(), encoding="utf-8")
    cli = subprocess.run([sys.executable, str(REPO / "run.py"), "validate", "--calendar", "calendar.yaml"], cwd=bad,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert cli.returncode == 2
    shown = [str(p).replace(str(path), "calendar.yaml") for p in refused.value.problems]
    assert shown and all(line in cli.stderr for line in shown), (shown, cli.stderr)
    lines = before.decode("utf-8").splitlines()  # the line of be-x's time zone in the sample (it moves as channels are added)
    start = lines.index("  - id: be-x")
    line = next(n for n in range(start, len(lines)) if lines[n].strip().startswith("timezone:")) + 1
    assert any(entry.startswith(f"calendar.yaml:{line}:") and "Europe/Brusels" in entry for entry in shown), shown


def test_a_save_on_a_stale_copy_is_refused_with_what_changed(tmp_path: Path) -> None:
    path = calendar_repo(tmp_path)
    mine = Draft.open(path)
    mine.set(("moments", "europe-day", "title"), "Europe Day, mine")
    theirs = Draft.open(path)
    theirs.set(("moments", "davos-2027", "title"), "WEF Davos, theirs")
    save(theirs)
    after_theirs = path.read_bytes()
    with pytest.raises(StaleCalendar) as stale:
        save(mine)
    assert path.read_bytes() == after_theirs
    assert "+    title: WEF Davos, theirs" in stale.value.diff
    assert stale.value.current_hash == text_hash(after_theirs)
    # the same change applied to the current copy goes through, and keeps theirs
    again = Draft.open(path)
    again.set(("moments", "europe-day", "title"), "Europe Day, mine")
    save(again)
    assert numstat(tmp_path) == (2, 2)


def test_save_text_checks_the_hash_it_is_given(tmp_path: Path) -> None:
    path = calendar_repo(tmp_path)
    text = path.read_text(encoding="utf-8")
    with pytest.raises(StaleCalendar):
        save_text(path, text.replace("Europe Day", "Europe Day!", 1), expected_hash=text_hash("something else"))
    path.chmod(0o640)
    saved = save_text(path, text.replace("title: Europe Day", "title: Europe Day!", 1), expected_hash=text_hash(text))
    assert saved.changed and saved.new_hash == text_hash(path.read_bytes())
    assert path.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert numstat(tmp_path) == (1, 1)


@pytest.mark.slow  # every entry of every section deleted and added back, each re-read (~3 s)
def test_deleting_and_adding_every_entry_of_every_section_is_a_pure_block() -> None:
    """Whichever entry goes or comes (first, second, one after a flow list, one under a group
    comment, last), the diff removes or adds one block of lines and nothing else."""
    original = (REPO / "calendar.yaml").read_text(encoding="utf-8").splitlines()
    for section, indexes in (("channels", (0, 1, 5, -1)), ("testimonials", (0, -1)),
                             ("moments", (0, 5, -1)), ("blackouts", (0, -1))):
        for index in indexes:
            draft = Draft.open(REPO / "calendar.yaml")
            entry = draft.get((section, index))
            draft.delete((section, index))
            left = draft.text().splitlines()
            assert _is_block_removed(original, left), (section, index, draft.diff())
            draft = Draft.open(REPO / "calendar.yaml")
            if "id" in entry:
                entry["id"] += "-copy"
            draft.append(section, entry)
            assert _is_block_removed(draft.text().splitlines(), original), (section, index, draft.diff())


def _is_block_removed(longer: list[str], shorter: list[str]) -> bool:
    cut = len(longer) - len(shorter)
    return cut > 0 and any(longer[:at] + longer[at + cut:] == shorter for at in range(len(shorter) + 1))
