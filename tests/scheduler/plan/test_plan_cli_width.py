"""`plan` fits an 80-column terminal; `--wide` shows every column."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

pytestmark = pytest.mark.slow  # runs the CLI as a process

REPO = Path(__file__).resolve().parents[3]


def run_plan(*args: str, columns: int = 80) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    result = subprocess.run([sys.executable, str(REPO / "run.py"), "plan", *args], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_plan_fits_80_columns_with_every_post() -> None:
    out = run_plan()
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80, max(lines, key=cell_len)
    header = next(line for line in lines if line.startswith("local time"))
    for column in ("channel", "lang", "moment", "caption", "⚠"):
        assert column in header
    rows = [line for line in lines if line[:4].isdigit()]
    assert len(rows) == 65
    assert any(" ja " in row and "ベルギー" in row for row in rows)  # Japanese is two cells a character and still fits
    # one YouTube video carries the channel's three languages: said on its row and under the table
    assert any("be-youtube" in row and " en+2 " in row and "pride-marriage" in row for row in rows)
    assert "  pride-marriage-equality.2027.be-youtube.en: en, fr, nl" in lines
    assert "--wide" in out


def test_plan_wide_shows_utc_assets_and_zones(tmp_path: Path) -> None:
    out = run_plan("--wide", "--build", str(tmp_path), "--from", "2027-03-08", "--to", "2027-03-08", columns=80)
    assert "2027-03-08 09:00 JST Asia/Tokyo" in out and "03-08 00:00Z" in out and "not rendered" in out
    assert max(cell_len(line) for line in out.splitlines()) > 80


def _refusing_build(tmp_path: Path) -> Path:
    """A build folder whose manifest says the pipeline refused the English Japan clip."""
    import json

    from assets.manifest import PIPELINE_VERSION

    reason = ("the clip is 3.2 s long, shorter than X's 5 s minimum for video — drop a longer aiko-tanaka.mp4 "
              "into the inbox, or give the moment a photo")
    (tmp_path / "manifest.json").write_text(json.dumps({"pipeline_version": PIPELINE_VERSION, "outputs": {}, "sources": {}, "refused": {
        "aiko-tanaka/landscape_16x9.en.mp4": {"input_key": "k", "reason": reason, "listed_as": "aiko-tanaka.mp4"}}}))
    return tmp_path


def test_a_refused_asset_shows_in_80_columns_and_does_not_squeeze_the_wide_table(tmp_path: Path) -> None:
    """`plan --wide` squeezed every column to nothing beside `(refused: ...)`; the 80-column table
    showed no refusal at all (issue 23, 3)."""
    build = str(_refusing_build(tmp_path))
    narrow = run_plan("--build", build, "--from", "2027-03-08", "--to", "2027-03-08")
    rows = [line for line in narrow.splitlines() if line[:4].isdigit()]
    assert sum("✗" in row for row in rows) == 3, narrow  # be-x, be-linkedin and be-youtube post that clip
    assert "✗ refused: aiko-tanaka/landscape_16x9.en.mp4 (3 posts): the clip is 3.2 s long" in " ".join(narrow.split())
    assert max(cell_len(line) for line in narrow.splitlines()) <= 80
    wide = run_plan("--wide", "--build", build, "--from", "2027-03-08", "--to", "2027-03-08", columns=120)
    assert "2027-03-08 09:00 JST Asia/Tokyo" in wide and "03-08 00:00Z" in wide  # whole, not squeezed
    assert "(refused)" in wide and "mission-japan-2027" in wide
    assert "✗ refused: aiko-tanaka/landscape_16x9.en.mp4 (3 posts)" in wide


def test_plan_says_its_rows_go_in_the_order_posts_go_out() -> None:
    """Rows are sorted by UTC while showing local times: 09:00 in Tokyo before 08:00 in Brussels."""
    out = run_plan("--from", "2027-03-08", "--to", "2027-03-08")
    assert "in the order they go out" in out.splitlines()[0] + out.splitlines()[1]
