"""A commit that allows or records a network call is on disk before the call (issue 23, 1).

The referee is the kernel: the store lives on a real ext4 filesystem on a loop device; the
kernel's own error hook makes ext4 abort its journal and remount read-only (what a failing
disk does with `errors=remount-ro`); the process that wrote is killed; e2fsck repairs the
disk, and what SQLite finds after the repair is what was really on the disk. With
`synchronous=NORMAL` in WAL mode the commits after `schedule` were gone (posts already
published were due again, and published a second time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from scheduler.store import Store, states
from testkit import loopdisk


ROOT = Path(__file__).resolve().parents[3]


def test_every_sqlite_commit_is_flushed_to_disk(tmp_path):
    """SQLite's own answer: FULL (2) on every connection the engine opens, WAL kept."""
    store = Store(f"sqlite:///{tmp_path / 'campaign.db'}")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()


CHILD = textwrap.dedent("""
    import os, sys
    from testkit.scheduler import START, month_of_posts
    from scheduler.store import Store, sync_plan

    url, trigger = sys.argv[1], sys.argv[2]
    store = Store(url)
    sync_plan(store, month_of_posts(3), START)     # `schedule`, then its process ends
    store.close()
    store = Store(url, create=False)               # the daemon
    claim = store.claim_next("w:1:x", START, lease_seconds=60)
    store.save_step(claim, "create_sent", "1", START)   # allows the network call
    store.record_published(claim, START, "remote-1", "https://x.example/1")   # records it
    second = store.claim_next("w:1:x", START.replace(year=2028), lease_seconds=60)
    store.save_step(second, "create_sent", "1", START)
    with open(trigger, "w") as hook:               # the disk fails right after
        hook.write("disk failing (test)")
    print(claim.post.id, second.post.id, flush=True)
    os._exit(0)                                    # the machine goes down: nothing is closed
""")


@pytest.mark.timeout(120)
def test_a_published_post_is_still_published_after_the_disk_fails(tmp_path):
    why = loopdisk.available()
    if why:
        if os.environ.get("CAMPAIGN_REQUIRE_LOOP"):
            pytest.fail(f"the disk-failure referee cannot run: {why}")
        pytest.skip(why)
    with loopdisk.LoopDisk(tmp_path, megabytes=32) as disk:
        url = f"sqlite:///{disk.mount / 'campaign.db'}"
        trigger = f"/sys/fs/ext4/{Path(disk.device).name}/trigger_fs_error"
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, trigger],
            capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert child.returncode == 0, child.stderr
        published_id, sending_id = child.stdout.split()
        assert disk.read_only()
        disk.repair()
        store = Store(url, create=False)
        try:
            published, sending = store.get(published_id), store.get(sending_id)
            assert (published.state, published.remote_id) == (states.PUBLISHED, "remote-1")
            assert sending.state == states.PUBLISHING and store.steps(sending_id) == {"create_sent": "1"}
            with store.engine.connect() as conn:
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        finally:
            store.close()


def _need_loop() -> None:
    why = loopdisk.available()
    if why:
        if os.environ.get("CAMPAIGN_REQUIRE_LOOP"):
            pytest.fail(f"the disk-failure referee cannot run: {why}")
        pytest.skip(why)


@pytest.mark.timeout(120)
def test_a_full_disk_and_a_failed_disk_are_named_in_one_line(tmp_path, monkeypatch):
    """What a manager reads when the store's disk is full, then failing: what, where, how to fix."""
    from typer.testing import CliRunner

    from application.cli import app
    from testkit.scheduler import START, month_of_posts
    from scheduler.store import sync_plan

    _need_loop()
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    with loopdisk.LoopDisk(tmp_path, megabytes=32) as disk:
        url = f"sqlite:///{disk.mount / 'campaign.db'}"
        store = Store(url)
        sync_plan(store, month_of_posts(3), START)
        store.close()
        disk.fill()
        full = runner.invoke(app, ["pause", "--reason", "x" * 200_000, "--db", url], env={"CAMPAIGN_DB_URL": ""})
        disk.free()
        disk.fail()
        failed = runner.invoke(app, ["pause", "--reason", "crisis", "--db", url], env={"CAMPAIGN_DB_URL": ""})
        import gc

        gc.collect()  # the commands' engines close their files: the disk unmounts at once
    # SQLite says "database or disk is full" or "disk I/O error", as the write goes
    assert full.exit_code == 3 and "full" in full.output and "df -h" in full.output, full.output
    assert failed.exit_code == 3 and "filesystem holding the database is read-only" in failed.output, failed.output
    assert "fsck" in failed.output and "write access" not in failed.output
    for result in (full, failed):
        assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in full.output + failed.output
