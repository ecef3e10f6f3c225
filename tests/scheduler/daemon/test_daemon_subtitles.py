"""The daemon drafts new clips without subtitles in their spoken language as it renders inbox drops."""

from __future__ import annotations

import logging
import os
import time

import pytest

from campaign.clock import SystemClock
from testkit.scheduler import LedgerPublisher
from scheduler.daemon import Daemon, DaemonConfig
from testkit.speech import require_speech
from testkit.subtitles import drop_clip, write_calendar


def daemon_for(store, tmp_path):  # type: ignore[no-untyped-def]
    loaded = write_calendar(tmp_path)
    inbox = tmp_path / "inbox"
    drop_clip(inbox)
    old = time.time() - 60
    os.utime(inbox / "james-carter.mp4", (old, old))
    config = DaemonConfig(calendar_path=loaded.path, heartbeat_file=None, inbox_dir=inbox)
    config.dispatch.build_dir = tmp_path / "build"
    daemon = Daemon(store, SystemClock(), lambda _c: LedgerPublisher(tmp_path / "ledger"), config, planner=lambda loaded, **_: [])
    daemon.load_and_sync()
    return daemon, inbox


def test_without_a_model_the_daemon_says_so_once_and_goes_on(sqlite_store, tmp_path, monkeypatch, caplog):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CAMPAIGN_SPEECH_MODEL", str(tmp_path / "no-model"))
    daemon, inbox = daemon_for(sqlite_store, tmp_path)
    with caplog.at_level(logging.INFO):
        daemon._inbox_job()
        (inbox / "other.txt").write_text("x")  # the inbox changed: the job runs again
        daemon._inbox_job()
    said = [r for r in caplog.records if "not drafted" in r.getMessage()]
    assert len(said) == 1 and "pip install -e '.[speech]'" in said[0].getMessage()
    assert not (inbox / "james-carter.en.draft.srt").exists()


@pytest.mark.slow  # Whisper drafts a clip's speech
def test_a_new_clip_is_drafted_and_recorded_for_approval(sqlite_store, tmp_path, caplog):  # type: ignore[no-untyped-def]
    require_speech()
    daemon, inbox = daemon_for(sqlite_store, tmp_path)
    with caplog.at_level(logging.INFO):
        daemon._inbox_job()
    assert (inbox / "james-carter.en.draft.srt").is_file()
    assert any("waiting for approval" in r.getMessage() for r in caplog.records)
    trail = [(a["actor"], a["action"], a["target"]) for a in sqlite_store.audit_rows()]
    assert ("daemon", "subtitles draft", "james-carter:en") in trail
    assert not (inbox / "rejected").exists()  # the draft is not a stray file
    before = (inbox / "james-carter.en.draft.srt").stat().st_mtime_ns
    daemon._inbox_job()  # a draft exists: not transcribed again
    assert (inbox / "james-carter.en.draft.srt").stat().st_mtime_ns == before
