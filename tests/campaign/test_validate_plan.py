"""`validate` promises to "render every caption it will post, print every problem": every post
the plan would hold (a caption over the platform's limit) or drop (no slot left by consent or a
blackout) is a problem with its calendar line (issue 23, 3). It said "valid" for them before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs validate as a process, on the whole sample calendar

REPO = Path(__file__).resolve().parents[2]
SAMPLE = (REPO / "calendar.yaml").read_text(encoding="utf-8")


def validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    for name in ("assets", "templates"):
        if not (tmp_path / name).exists():
            (tmp_path / name).symlink_to(REPO / name)
    return subprocess.run([sys.executable, str(REPO / "run.py"), "validate"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("post", "caption", "words"), [
    ("bio-convention-2027.2027.embassy-washington.en", "Belgium " * 70, "Bluesky counts 559 characters"),
    ("davos-2027.2027.be-x.en", "x" * 281, "281"),  # X's weighted count, one over its 280
])
def test_a_caption_over_the_platform_limit_is_a_problem_on_its_line(tmp_path: Path, post: str, caption: str,
                                                                     words: str) -> None:
    text = SAMPLE + f'\noverrides:\n  {post}:\n    caption: "{caption}"\n'
    done = validate(tmp_path, text)
    assert done.returncode == 2, done.stdout + done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"calendar.yaml:{line_of(text, 'caption: ')}: {post}: the plan would hold it"), first
    assert words in first and "valid" not in done.stdout


def test_a_moment_a_blackout_leaves_without_a_slot_is_a_problem_on_the_moment(tmp_path: Path) -> None:
    text = SAMPLE.replace("blackouts:\n", "blackouts:\n  - start: 2027-01-18 00:00\n    end: 2027-01-23 00:00\n"
                          "    reason: Strike\n    channels: [be-x]\n", 1)
    done = validate(tmp_path, text)
    assert done.returncode == 2, done.stdout + done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"calendar.yaml:{line_of(text, '- id: davos-2027')}: davos-2027.2027.be-x.en: "
                            "the plan would drop it"), first
    assert "1 post the plan would hold or drop" in done.stderr


def test_the_sample_calendar_is_still_valid(tmp_path: Path) -> None:
    done = validate(tmp_path, SAMPLE)
    assert done.returncode == 0 and ": valid" in done.stdout, done.stderr
