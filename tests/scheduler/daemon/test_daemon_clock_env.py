"""The campaign clock (CAMPAIGN_CLOCK_START / _SPEED) is for rehearsals only (issue 11, finding 4:
it changed the real daemon's clock, so real posts went out at the wrong time with a false createdAt)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real daemon processes

ROOT = Path(__file__).resolve().parents[3]


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    for name in ("calendar.yaml",):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("templates", "assets/brand"):
        if not (tmp_path / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_CLOCK")}
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=tmp_path, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("variable", ["CAMPAIGN_CLOCK_START", "CAMPAIGN_CLOCK_SPEED"])
def test_the_real_daemon_refuses_the_campaign_clock(tmp_path: Path, variable: str) -> None:
    value = "2027-05-09T06:55:00+02:00" if variable.endswith("START") else "60"
    done = _run(tmp_path, "daemon", "--once", "--db", f"sqlite:///{tmp_path / 'campaign.db'}", **{variable: value})
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and "--sandbox" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "campaign.db").exists()  # nothing was done


def test_scheduling_on_the_real_store_refuses_it_too(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'campaign.db'}"
    assert _run(tmp_path, "schedule", "--db", db).returncode in (0, 1)
    done = _run(tmp_path, "schedule", "--db", db, CAMPAIGN_CLOCK_START="2027-05-09T06:55:00+02:00")
    assert done.returncode == 2 and "CAMPAIGN_CLOCK_START" in done.stderr, done.stderr
    done = _run(tmp_path, "daemon", "--once", "--db", db, CAMPAIGN_CLOCK_FILE=str(tmp_path / "clock.json"))
    assert done.returncode == 2 and "CAMPAIGN_CLOCK_FILE" in done.stderr, done.stderr


def test_the_sandbox_daemon_runs_on_the_campaign_clock(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'sandbox.db'}"
    done = _run(tmp_path, "daemon", "--sandbox", "--once", "--db", db, "--build", str(tmp_path / "build"),
                CAMPAIGN_CLOCK_START="2026-12-01T00:00:00+01:00", CAMPAIGN_CLOCK_SPEED="60")
    assert done.returncode == 0, done.stderr
    assert '"published": []' in done.stdout  # nothing is due at the campaign's first midnight


def test_a_malformed_campaign_clock_is_a_clear_error(tmp_path: Path) -> None:
    done = _run(tmp_path, "daemon", "--sandbox", "--once", "--db", f"sqlite:///{tmp_path / 'sandbox.db'}",
                CAMPAIGN_CLOCK_START="next tuesday")
    assert done.returncode == 2 and "CAMPAIGN_CLOCK_START" in done.stderr and "Traceback" not in done.stderr
