"""SIGKILL the daemon at every crash point, restart it, count receipts: never twice, never lost.
Then two daemon processes on one store (SQLite and PostgreSQL): no post twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.scheduler import START, make_post, month_of_posts, receipts
from scheduler.daemon.crash import POINTS
from scheduler.store import Store, states, sync_plan

pytestmark = pytest.mark.slow  # real daemon processes

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ["-m", "testkit.daemon_entry"]  # run from the repository root


def run_entry(url, schema, ledger, *args, crash=None):
    env = {k: v for k, v in os.environ.items() if k != "CAMPAIGN_CRASH_AT"}
    if crash:
        env["CAMPAIGN_CRASH_AT"] = crash
    return subprocess.run([sys.executable, *ENTRY, url, schema or "-", str(ledger), *args],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


CASES = [(point, False) for point in POINTS] + [("request_sent", True), ("before_store", True)]


@pytest.mark.parametrize("point,find", CASES, ids=[f"{p}-{'can' if f else 'cannot'}-tell" for p, f in CASES])
def test_kill_at_each_point_then_restart(tmp_path, point, find):
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    posts = [make_post(f"k{i}", at=START) for i in range(4)]
    sync_plan(store, posts, START)
    ledger = tmp_path / "ledger.jsonl"
    flags = ["--find"] if find else []
    at = START.isoformat()

    killed = run_entry(url, None, ledger, "pass", at, *flags, crash=f"{point}:2")  # dies on the 2nd post
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    restarted = run_entry(url, None, ledger, "pass", at, *flags)
    assert restarted.returncode == 0, restarted.stderr

    counts = receipts(ledger)
    final = {p.id: p for p in store.all_posts()}
    assert all(n == 1 for n in counts.values()), f"published twice: {counts}"
    for post in posts:
        row = final[post.id]
        assert row.state in (states.PUBLISHED, states.UNKNOWN), (post.id, row.state)
        if row.state == states.PUBLISHED:
            assert counts[post.id] == 1 and row.remote_id
    held = [p for p in final.values() if p.state == states.UNKNOWN]
    if find or point == "claimed":  # killed before "create sent": a safe retry, nothing to hold
        assert all(p.state == states.PUBLISHED for p in final.values())
    else:
        assert len(held) == 1 and "stopped during this publish" in held[0].last_error
    outcomes = [a["outcome"] for a in store.attempt_rows()]
    assert "interrupted" in outcomes
    store.close()


def test_two_daemon_processes_share_a_month_without_duplicates(store_spec, tmp_path):
    url, schema = store_spec
    store = Store(url, schema=schema)
    plan = month_of_posts(120)
    sync_plan(store, plan, START)
    ledger = tmp_path / "ledger.jsonl"
    cmd = [sys.executable, *ENTRY, url, schema or "-", str(ledger), "month"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        with proc:  # closes its stderr pipe (no ResourceWarning)
            assert proc.wait(timeout=120) == 0, proc.stderr.read()
    counts = receipts(ledger)
    assert counts == {p.id: 1 for p in plan}
    assert {p.state for p in store.all_posts()} == {states.PUBLISHED}
    by_pid = {r["pid"] for r in __import__("testkit.scheduler", fromlist=["read_ledger"]).read_ledger(ledger)}
    assert len(by_pid) >= 1
    store.close()


def test_a_post_that_keeps_crashing_the_daemon_is_held_for_a_person(tmp_path):
    """Finding 5: each restart reconciles the post and claims it again; after three claims that
    ended without an outcome it is held with the reason, and the channel's next post goes out."""
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    store = Store(url)
    poison, next_one = make_post("poison", at=START), make_post("after", at=START + __import__("datetime").timedelta(minutes=1))
    sync_plan(store, [poison, next_one], START)
    ledger = tmp_path / "ledger.jsonl"
    at = (START + __import__("datetime").timedelta(minutes=2)).isoformat()
    for _ in range(4):  # the 4th run holds the poison post, then dies on the next one
        killed = run_entry(url, None, ledger, "pass", at, crash="claimed:1")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert run_entry(url, None, ledger, "pass", at).returncode == 0
    held, published = store.get(poison.id), store.get(next_one.id)
    assert held.state == states.UNKNOWN and "stopped 3 times" in held.last_error and "never sent" in held.last_error
    assert published.state == states.PUBLISHED and receipts(ledger) == {next_one.id: 1}
    assert sum(1 for a in store.attempt_rows(poison.id) if a["outcome"] == "interrupted") == 3
    store.close()
