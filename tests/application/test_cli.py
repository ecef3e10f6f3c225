"""The CLI as a manager uses it: exit codes, messages on stderr, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the CLI as a process

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "run.py"), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_help_lists_every_command_with_one_line() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout
    commands = result.stdout.split("Commands:")[1]
    for line in commands.strip().splitlines():
        assert line.strip(), "a command without a description"


def test_validate_sample_exits_zero() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert "calendar.yaml: valid" in result.stdout


def test_validate_broken_calendar_exits_two_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text("campaign:\n  name: [unclosed\nchannels: []\n", encoding="utf-8")
    result = run("validate", "--calendar", "calendar.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("calendar.yaml:")
    assert "YAML syntax error" in result.stderr


def test_validate_missing_calendar_exits_two(tmp_path: Path) -> None:
    result = run("validate", "--calendar", "nowhere.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "nowhere.yaml:1: the calendar file does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_structurally_wrong_calendar_exits_two(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    result = run("validate", "-c", "calendar.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "calendar.yaml:1: the calendar must be a mapping of sections" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = run("publish-everything-now")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
