"""Hostile and careless YAML: the calendar loader answers `file:LINE:` and exit 2, fast.

The class of inputs covered: anything that makes a YAML loader spend unbounded memory,
time or recursion before a single calendar rule runs (alias bombs, aliases through merge
keys, deep nesting in flow and block style, huge files), tags that ask the loader to build
Python objects, and invisible bidirectional controls (U+202A-202E, U+2066-2069) that make
stamped and posted text read differently from what the manager sees in the file. Each case
must come back as one located problem, never a traceback, a MemoryError or a hang.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaign.calendar import load_calendar
from campaign.calendar.yaml_limits import BIDI_CONTROLS, MAX_DEPTH
from campaign.errors import CalendarError

REPO = Path(__file__).resolve().parents[2]
SAMPLE = (REPO / "calendar.yaml").read_text(encoding="utf-8")


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"campaign: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def merge_key_bomb(levels: int = 12) -> str:
    lines = ["k0: &k0 {a: 1, b: 2}"]
    for i in range(1, levels):
        lines.append(f"k{i}: &k{i} {{x: [*k{i - 1}, *k{i - 1}, *k{i - 1}, *k{i - 1}], <<: *k{i - 1}}}")
    lines.append(f"campaign: *k{levels - 1}")
    return "\n".join(lines) + "\n"


def deep_block(levels: int) -> str:
    return "campaign:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels)) + "  " * (levels + 1) + "x: 1\n"


def problems(tmp_path: Path, text: str) -> tuple[list[str], float]:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(CalendarError) as caught:
        load_calendar(path)
    return [str(p) for p in caught.value.problems], time.perf_counter() - started


@pytest.mark.parametrize(("name", "text", "line", "words"), [
    ("alias bomb", alias_bomb(), 6, "expands to more than"),
    ("merge-key bomb", merge_key_bomb(), None, "expands to more than"),
    ("flow nesting", "campaign: " + "[" * 300 + "]" * 300 + "\n", 1, "nested more than"),
    ("block nesting", deep_block(300), MAX_DEPTH + 1, "nested more than"),
    ("python tag", 'campaign: !!python/object/apply:os.system ["echo pwned"]\n', 1, "!!python/object/apply:os.system"),
    ("custom tag", "campaign: !include other.yaml\n", 1, "tag `!include`"),
])
def test_bounded_yaml_is_one_located_problem_in_under_a_second(tmp_path: Path, name: str, text: str,
                                                                 line: int | None, words: str) -> None:
    found, seconds = problems(tmp_path, text)
    assert len(found) == 1, found
    assert words in found[0]
    assert found[0].startswith(f"{tmp_path / 'calendar.yaml'}:{f'{line}:' if line else ''}")
    assert seconds < 1.0, f"{name} took {seconds:.2f} s"


def test_many_aliases_and_huge_files_are_refused(tmp_path: Path) -> None:
    many = "a: &a x\nb: [" + ", ".join(["*a"] * 500) + "]\n"
    found, _ = problems(tmp_path, many)
    assert "more than 200 aliases" in found[0]
    huge = "campaign:\n  name: " + "x" * 2_100_000 + "\n"
    found, seconds = problems(tmp_path, huge)
    assert "MB" in found[0] and seconds < 1.0


def test_endless_files_are_refused_without_reading_them(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "calendar.yaml"
    os.mkfifo(fifo)  # reading it would wait forever
    for path in (fifo, Path("/dev/zero")):
        started = time.perf_counter()
        with pytest.raises(CalendarError) as caught:
            load_calendar(path)
        assert "not a regular file" in str(caught.value) and time.perf_counter() - started < 1.0


def test_modest_aliases_still_work(tmp_path: Path) -> None:
    """The bounds are bounds, not a ban: a calendar sharing one slot list by alias loads."""
    text = SAMPLE.replace('slots: ["09:00", "12:00", "19:00"]', 'slots: &tokyo ["09:00", "12:00", "19:00"]', 1)
    assert text != SAMPLE
    (tmp_path / "assets").symlink_to(REPO / "assets")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    load_calendar(tmp_path / "calendar.yaml")


@pytest.mark.parametrize("control", sorted(BIDI_CONTROLS))
def test_bidi_controls_are_refused_with_their_line(tmp_path: Path, control: str) -> None:
    name_line = next(i for i, line in enumerate(SAMPLE.splitlines(), 1) if line.strip().startswith("name: Aiko"))
    text = SAMPLE.replace("name: Aiko Tanaka", f"name: Aiko{control} Tanaka", 1)
    (tmp_path / "assets").symlink_to(REPO / "assets")
    (tmp_path / "templates").symlink_to(REPO / "templates")
    found, _ = problems(tmp_path, text)
    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'calendar.yaml'}:{name_line}:")
    assert f"U+{ord(control):04X}" in found[0]


@pytest.mark.slow  # runs the CLI as a process
def test_cli_answers_a_bomb_with_exit_two_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "calendar.yaml").write_text(alias_bomb(), encoding="utf-8")
    result = subprocess.run([sys.executable, str(REPO / "run.py"), "validate"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("calendar.yaml:6:")
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # runs validate and plan as processes
@pytest.mark.parametrize(("date", "why"), [("2027-06-31", "June has 30 days"), ("2027-13-01", "there is no month 13"),
                                           ("2027-02-29", "2027 is not a leap year")])
def test_an_impossible_date_is_its_line_and_exit_two_in_validate_and_plan(tmp_path: Path, date: str, why: str) -> None:
    """YAML reads an unquoted 2027-06-31 as a date and fails without a line (90 lines of traceback, exit 1)."""
    lines = SAMPLE.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("start: 2027-"))
    lines[at] = lines[at].replace(lines[at].split("start: ")[1].strip(), date)
    (tmp_path / "calendar.yaml").write_text("".join(lines), encoding="utf-8")
    for command in ("validate", "plan"):
        result = subprocess.run([sys.executable, str(REPO / "run.py"), command], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, result.stderr[-500:]
        assert result.stderr.startswith(f"calendar.yaml:{at + 1}: {date} is not a date ({why}"), result.stderr[-500:]
        assert "Traceback" not in result.stderr
