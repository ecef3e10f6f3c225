"""The real Bluesky PDS (@atproto/pds with a local PLC directory) for the contract tests,
started once per test session with the shared scripts in ../shared/peers/bluesky-pds.

Where it cannot start (no Node/npm, no scripts) the tests skip, unless CI=true or
CAMPAIGN_REQUIRE_PDS=1: then they FAIL, so a CI that lost the PDS cannot look green.
Settings: CAMPAIGN_PDS_PORT (default 2583; the PLC takes the next port), PDS_ROOT (the
install, default ~/.cache/bluesky-pds), CAMPAIGN_PDS_SCRIPTS (the scripts' folder).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 600  # a bare machine installs Node 22, the PDS and builds better-sqlite3 first (~4 min on 2 cores)


def required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("CAMPAIGN_REQUIRE_PDS") == "1"


def scripts_dir() -> Path | None:
    """../shared/peers/bluesky-pds from the repository (or a parent of a worktree)."""
    given = os.environ.get("CAMPAIGN_PDS_SCRIPTS")
    candidates = [Path(given)] if given else [parent / "shared" / "peers" / "bluesky-pds" for parent in ROOT.parents]
    return next((c for c in candidates if (c / "start_pds.sh").is_file()), None)


def port() -> int:
    return int(os.environ.get("CAMPAIGN_PDS_PORT", "2583"))


def pds_root() -> Path:
    return Path(os.environ.get("PDS_ROOT") or Path.home() / ".cache" / "bluesky-pds")


def read_info(pds_port: int) -> dict[str, str]:
    info = pds_root() / f"run-{pds_port}" / "info.env"
    return dict(line.split("=", 1) for line in info.read_text().splitlines() if "=" in line)


def _unavailable(reason: str) -> None:
    if required():
        pytest.fail(f"the real Bluesky PDS is required here (CI / CAMPAIGN_REQUIRE_PDS=1) but {reason}", pytrace=False)
    pytest.skip(f"real Bluesky PDS not available: {reason} (set CAMPAIGN_REQUIRE_PDS=1 to make this a failure)")


def start() -> Iterator[dict[str, str]]:
    scripts = scripts_dir()
    if scripts is None:
        _unavailable("../shared/peers/bluesky-pds/start_pds.sh was not found (set CAMPAIGN_PDS_SCRIPTS)")
    assert scripts is not None
    for tool in ("npm", "openssl", "curl"):
        if shutil.which(tool) is None:
            _unavailable(f"`{tool}` is not installed")
    # as bsky.social: the session carries the DID document (the publisher reads its PDS endpoint there)
    env = {**os.environ, "PDS_ROOT": str(pds_root()), "READY_TIMEOUT": "120", "PDS_ENABLE_DID_DOC_WITH_SESSION": "true"}
    subprocess.run(["bash", str(scripts / "stop_pds.sh"), str(port())], env=env, capture_output=True, timeout=60)
    began = time.monotonic()
    try:
        done = subprocess.run(["bash", str(scripts / "start_pds.sh"), str(port())], env=env, capture_output=True, text=True,
                              timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        _unavailable(f"start_pds.sh did not finish in {START_TIMEOUT} s")
    if done.returncode != 0:
        _unavailable(f"start_pds.sh {port()} failed:\n{done.stderr[-2000:]}")
    info = read_info(port())
    info["STARTED_IN"] = f"{time.monotonic() - began:.1f}"
    try:
        yield info
    finally:
        subprocess.run(["bash", str(scripts / "stop_pds.sh"), str(port())], env=env, capture_output=True, timeout=60)
