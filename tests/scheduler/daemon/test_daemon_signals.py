"""The real `run.py daemon` process: SIGHUP re-reads the calendar and re-syncs the store,
SIGTERM stops it cleanly (exit 0), and it beats its heartbeat file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scheduler import edits
from scheduler.store import Store, states

pytestmark = pytest.mark.slow  # real daemon processes

ROOT = Path(__file__).resolve().parents[3]


class _Lines:
    """Collects a process's stderr lines in a thread, so the test can wait for one."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def close(self, process: subprocess.Popen) -> None:
        """After the process ended: let the reader reach EOF, then close the pipe."""
        self._thread.join(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for line in process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 20.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.lines:
                if text in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} in:\n" + "\n".join(self.lines))


def test_sighup_reloads_the_calendar_and_sigterm_stops_cleanly(tmp_path: Path) -> None:
    shutil.copy(ROOT / "calendar.yaml", tmp_path / "calendar.yaml")
    shutil.copytree(ROOT / "assets" / "brand", tmp_path / "assets" / "brand")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    db = f"sqlite:///{tmp_path / 'campaign.db'}"
    env = {**os.environ, "CAMPAIGN_CLOCK_START": "2026-12-01T00:00:00+01:00"}  # before every post: nothing is due (the campaign clock runs only in a rehearsal)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "daemon", "--sandbox", "--calendar", "calendar.yaml", "--db", db, "--interval", "1"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    log = _Lines(process)
    try:
        log.wait_for("started: worker")
        store = Store(db)
        before = {p.id for p in store.all_posts()}
        assert before and all(p.state in (states.DUE, states.PLANNED) for p in store.all_posts())
        assert (tmp_path / "campaign.heartbeat").read_text().startswith("2026-11-30T23:00")

        # A manager drops the LinkedIn channel from Davos; the mtime is kept so only SIGHUP can notice.
        calendar = tmp_path / "calendar.yaml"
        stat = calendar.stat()
        text = calendar.read_text(encoding="utf-8")
        assert "channels: [be-linkedin, be-x]" in text
        calendar.write_text(text.replace("channels: [be-linkedin, be-x]", "channels: [be-x]", 1), encoding="utf-8")
        os.utime(calendar, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        process.send_signal(signal.SIGHUP)
        log.wait_for("reload")
        log.wait_for("1 cancelled")
        cancelled = [p.id for p in store.all_posts(state=states.CANCELLED)]
        assert cancelled == ["davos-2027.2027.be-linkedin.en"]

        # A save in the console (or the API) reaches the daemon through the store within seconds:
        # no signal, and long before the minute's sweep would see the file's new time.
        saved_at = time.monotonic()
        edits.apply(store, calendar, [edits.Change("blackouts", None, {
            "start": "2027-02-01 00:00", "end": "2027-02-02 00:00", "reason": "Test blackout", "channels": "all"})],
            who=edits.Editor("ada", "admin"), now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc),
            build=tmp_path / "build", base_hash=None)
        deadline = time.monotonic() + 20
        while sum("reload" in line for line in log.lines) < 2:
            assert time.monotonic() < deadline, "\n".join(log.lines)
            time.sleep(0.05)
        assert time.monotonic() - saved_at < 15
        store.close()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        log.wait_for("stopped: worker")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close(process)
