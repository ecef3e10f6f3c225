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
    assert len(rows) == 58
    assert any(" ja " in row and "ベルギー" in row for row in rows)  # Japanese is two cells a character and still fits
    assert "--wide" in out


def test_plan_wide_shows_utc_assets_and_zones(tmp_path: Path) -> None:
    out = run_plan("--wide", "--build", str(tmp_path), "--from", "2027-03-08", "--to", "2027-03-08", columns=80)
    assert "2027-03-08 09:00 JST Asia/Tokyo" in out and "03-08 00:00Z" in out and "not rendered" in out
    assert max(cell_len(line) for line in out.splitlines()) > 80
