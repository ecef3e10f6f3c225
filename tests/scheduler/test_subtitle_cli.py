"""`subtitles draft/status/approve`: what a manager sees, and the exit codes."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from application.cli import app
from testkit.subtitles import ENGLISH_DRAFT, drop_clip, write_calendar


def run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


def test_without_a_model_draft_says_how_to_get_one_and_exits_2(tmp_path: Path) -> None:
    loaded = write_calendar(tmp_path)
    drop_clip(tmp_path / "inbox")
    result = run("subtitles", "draft", "james-carter", "--calendar", str(loaded.path), "--inbox", str(tmp_path / "inbox"),
                 "--db", f"sqlite:///{tmp_path / 'none.db'}", env={"CAMPAIGN_SPEECH_MODEL": str(tmp_path / "missing")})
    assert result.exit_code == 2
    assert "pip install -e '.[speech]'" in result.output and "CAMPAIGN_SPEECH_MODEL" in result.output
    assert not (tmp_path / "inbox" / "james-carter.en.draft.srt").exists()


def test_status_and_approve(tmp_path: Path) -> None:
    loaded = write_calendar(tmp_path)
    inbox = tmp_path / "inbox"
    drop_clip(inbox)
    (inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'campaign.db'}"
    common = ["--calendar", str(loaded.path), "--inbox", str(inbox), "--db", db]
    status = run("subtitles", "status", *common)
    assert status.exit_code == 0
    assert "james-carter           en  subtitles: draft" in status.output
    assert "nl  subtitles: missing" in status.output
    refused = run("subtitles", "approve", "james-carter", "--language", "nl", "--by", "maria", *common)
    assert refused.exit_code in (2, 3)  # no store yet (3), or no Dutch draft (2)
    from scheduler.store import Store

    Store(db).close()
    approved = run("subtitles", "approve", "james-carter", "--language", "en", "--by", "maria", *common)
    assert approved.exit_code == 0, approved.output
    assert (inbox / "james-carter.en.srt").is_file()
    assert "subtitles: approved approved by maria" in run("subtitles", "status", *common).output
    missing = run("subtitles", "approve", "james-carter", "--language", "nl", "--by", "maria", *common)
    assert missing.exit_code == 2 and "no draft for james-carter in nl" in missing.output


def test_validate_and_plan_say_per_clip_and_language_where_subtitles_stand(tmp_path: Path) -> None:
    loaded = write_calendar(tmp_path)
    inbox = tmp_path / "inbox"
    drop_clip(inbox)
    (inbox / "james-carter.en.draft.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")
    expected = "james-carter: en subtitles: draft, nl subtitles: missing (posts in en, nl wait for approved subtitles)"
    for command in ("validate", "plan"):
        result = run(command, "--calendar", str(loaded.path), "--inbox", str(inbox), "--build", str(tmp_path / "build")) \
            if command == "plan" else run(command, "--calendar", str(loaded.path), "--inbox", str(inbox))
        assert expected in result.output, (command, result.output)
    (inbox / "james-carter.en.srt").write_text(ENGLISH_DRAFT, encoding="utf-8")  # a designer's drop wins
    result = run("validate", "--calendar", str(loaded.path), "--inbox", str(inbox))
    assert "james-carter: en subtitles: approved, nl subtitles: missing (posts in nl wait" in result.output
