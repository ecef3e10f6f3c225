"""Render workers on the real queue (procrastinate on a private PostgreSQL we may restart), 2-3 processes.

Referees: the private PostgreSQL server itself (job rows and their status), ffmpeg/PyAV reading
each output back (assets.conformance.check_clip), SHA-256 of the files against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from assets.conformance import check_clip
from assets.manifest import Manifest
from assets.needs import required_renders
from assets.pipeline import render_all
from assets.probe import probe
from campaign.calendar import load_calendar
from campaign.clock import SystemClock
from console.desk_views import desk
from console.renders import BackgroundRenders
from scheduler.daemon import Daemon, DaemonConfig
from scheduler.render_queue.payload import decode, encode, split
from scheduler.render_queue.queue import TASK, dispatcher, make_app, queue_listener
from scheduler.store import Store
from scheduler.store.renders import render_progress
from testkit.render_queue import REPO, SMALL, Workers, campaign, ffmpeg, fresh_database, wait_for

pytestmark = pytest.mark.slow  # worker processes rendering on a private PostgreSQL


def queue_render(loaded, folder: Path, url: str):  # type: ignore[no-untyped-def]
    """`render --queue`: one job per output on the queue, progress recorded as queued."""
    with queue_listener(url) as listener:
        return render_all(loaded, folder / "inbox", folder / "build", variants=SMALL, settle_seconds=0, listener=listener,
                          dispatch=dispatcher(url))


def jobs(url: str) -> list[tuple[int, str, int]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, status::text, attempts FROM procrastinate_jobs ORDER BY id").fetchall()


def all_finished(url: str) -> bool:
    return all(status in ("succeeded", "failed") for _, status, _ in jobs(url))


def drain(url: str, folder: Path, count: int, seconds: float, what: str) -> Workers:
    """Start `count` workers, wait until every job on the queue has ended, stop them."""
    workers = Workers(url, folder)
    try:
        workers.start(count)
        wait_for(lambda: all_finished(url), seconds, what)
    finally:
        workers.stop()
    return workers


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rendered_lines(workers: Workers, output: str) -> list[str]:
    return [line for line in workers.text().splitlines() if line.startswith("rendered") and line.split()[1] == output]


def test_a_worker_killed_mid_render_its_job_completes_on_another_whole_and_recorded_once(private_pg, tmp_path):
    url = fresh_database(private_pg.url, "killed")
    loaded = campaign(tmp_path, {"ben": 12}, photo=False)
    summary = queue_render(loaded, tmp_path, url)
    assert len(summary.queued) == 4 and not summary.rendered
    workers = Workers(url, tmp_path)
    try:
        (first,) = workers.start(1)
        store = Store(url, create=False)
        victim = wait_for(lambda: next((p for p in render_progress(store, states=["rendering"])), None), 60, "a render to start")
        workers.start(2)  # two more workers: one of them must take the killed worker's job
        workers.kill(first)  # SIGKILL: no clean-up, no acknowledgement; its ffmpeg may run on, orphaned
        wait_for(lambda: all_finished(url) and len(jobs(url)) == 4, 120, "every job to finish")
    finally:
        workers.stop()
    assert [status for _, status, _ in jobs(url)] == ["succeeded"] * 4
    output = tmp_path / "build" / victim.output
    manifest = Manifest.load(tmp_path / "build")
    platforms = tuple(manifest.outputs[victim.output]["platforms"])
    assert check_clip(output, SMALL[victim.variant], platforms, expected_seconds=12.0) == []  # whole, plays, conforms
    assert abs(probe(output).duration - 12.0) < 0.2
    assert manifest.outputs[victim.output]["sha256"] == sha(output)
    assert len(rendered_lines(workers, victim.output)) == 1  # the killed worker never finished it; one other did
    row = render_progress(store, outputs=[victim.output])[0]
    assert (row.state, row.percent, row.tries) == ("done", 100, 2) and row.worker != victim.worker
    assert "handed on" in workers.text()
    store.close()


def test_the_same_job_given_to_two_workers_renders_once(private_pg, tmp_path):
    url = fresh_database(private_pg.url, "twice")
    loaded = campaign(tmp_path, {"ben": 4}, photo=False)
    (task,) = [t for t in _tasks(loaded, tmp_path) if t.specs[0].job.output == "ben/story_9x16.en.mp4"]
    queue_render(loaded, tmp_path, url)  # installs the queue; all four outputs queued
    app = make_app(url)
    with app.open():  # the same output twice more, as a second `render` would while the first job runs
        for _ in range(2):
            app.tasks[TASK].configure(lock=task.specs[0].job.output).defer(payload=encode(task))
    workers = Workers(url, tmp_path)
    try:
        workers.start(2)
        wait_for(lambda: all_finished(url) and len(jobs(url)) == 6, 120, "every job to finish")
    finally:
        workers.stop()
    assert [status for _, status, _ in jobs(url)] == ["succeeded"] * 6
    assert len(rendered_lines(workers, "ben/story_9x16.en.mp4")) == 1
    assert workers.text().count("up to date  ben/story_9x16.en.mp4") == 2
    assert len(Manifest.load(tmp_path / "build").outputs) == 4


def test_a_database_restart_mid_run_loses_no_job(private_pg, tmp_path):
    url = fresh_database(private_pg.url, "restart")
    loaded = campaign(tmp_path, {"ben": 4, "cy": 4})
    queue_render(loaded, tmp_path, url)
    expected = {j.output for j in required_renders(loaded.calendar, SMALL)}
    assert len(jobs(url)) == len(expected) == 12
    workers = Workers(url, tmp_path)
    try:
        workers.start(2)
        wait_for(lambda: "rendered" in workers.text(), 60, "a first render")
        private_pg.restart(down_seconds=2)  # every connection cut; the queue comes back from its WAL
        wait_for(lambda: all_finished(url), 180, "every job to finish after the restart")
    finally:
        workers.stop()
    assert [status for _, status, _ in jobs(url)] == ["succeeded"] * 12
    manifest = Manifest.load(tmp_path / "build")
    assert set(manifest.outputs) == expected
    for output in expected:
        assert manifest.outputs[output]["sha256"] == sha(tmp_path / "build" / output)
    assert "Connection refused" in workers.text()  # the outage was real: the workers saw it, and went on after it


def test_a_source_that_kills_ffmpeg_every_time_is_refused_with_its_reason_after_three_tries(private_pg, tmp_path):
    url = fresh_database(private_pg.url, "poison")
    loaded = campaign(tmp_path, {"ben": 4, "poison": 4}, photo=False)
    # An ffmpeg that crashes (SIGSEGV) whenever it renders poison.mp4, and works for anything else.
    fake = tmp_path / "ffmpeg"
    fake.write_text(f'#!/bin/sh\ncase "$*" in *poison.mp4*filter_complex*) kill -SEGV $$;; esac\nexec {ffmpeg()} "$@"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    queue_render(loaded, tmp_path, url)
    workers = Workers(url, tmp_path)
    os.environ["IMAGEIO_FFMPEG_EXE"] = str(fake)  # the workers' ffmpeg (imageio-ffmpeg reads it)
    try:
        workers.start(2)
    finally:
        del os.environ["IMAGEIO_FFMPEG_EXE"]
    try:
        wait_for(lambda: all_finished(url), 120, "every job to finish")
    finally:
        workers.stop()
    store = Store(url, create=False)
    refused = render_progress(store, states=["refused"])
    assert sorted(p.output for p in refused) == [f"poison/{v}.{lang}.mp4" for v in ("landscape_16x9", "story_9x16")
                                                 for lang in ("en", "fr")]
    for row in refused:
        assert "ffmpeg could not render this clip" in row.reason and "refused after 3 tries" in row.reason
        assert row.tries == 3
    assert {p.output for p in render_progress(store, states=["done"])} == {f"ben/{v}.{lang}.mp4" for v in ("landscape_16x9", "story_9x16")
                                                                         for lang in ("en", "fr")}
    statuses = {status for _, status, _ in jobs(url)}
    assert statuses == {"succeeded", "failed"}
    manifest = Manifest.load(tmp_path / "build")
    assert all("refused after 3 tries" in manifest.refusal(p.output)["reason"] for p in refused)
    assert workers.text().count("retried with backoff") == 8  # two failed tries for each of the four
    # Queued again with the same inputs: refused at once, not rendered a fourth time.
    again = queue_render(loaded, tmp_path, url)
    assert not again.queued and len(again.rejected) == 4
    store.close()


def _tasks(loaded, folder: Path):  # type: ignore[no-untyped-def]
    """The one-output tasks `render --queue` would queue (a dispatcher that keeps them)."""
    kept: list = []

    def keep(tasks, manifest):  # type: ignore[no-untyped-def]
        kept.extend(one for task in tasks for one in split(task))
        return []

    render_all(loaded, folder / "inbox", folder / "build", variants=SMALL, settle_seconds=0, dispatch=keep)
    return kept


def test_a_payload_survives_json(tmp_path):
    loaded = campaign(tmp_path, {"ben": 1})

    for task in _tasks(loaded, tmp_path):
        assert decode(json.loads(json.dumps(encode(task)))) == task
    with pytest.raises(ValueError, match="same version"):
        decode({**encode(task), "version": 99})


def test_the_daemons_inbox_job_queues_drops_for_the_workers(private_pg, tmp_path):

    url = fresh_database(private_pg.url, "daemon")
    loaded = campaign(tmp_path, {"ben": 4}, photo=False)
    store = Store(url)
    config = DaemonConfig(calendar_path=tmp_path / "calendar.yaml", heartbeat_file=None, inbox_dir=tmp_path / "inbox",
                          render_queue=url)
    config.dispatch.build_dir = tmp_path / "build"
    daemon = Daemon(store, SystemClock(), lambda _c: None, config, planner=lambda loaded, **_: [])
    daemon.load_and_sync()
    daemon._inbox_job()
    queued = {j.output for j in required_renders(loaded.calendar)}
    assert len(jobs(url)) == 4 and not list((tmp_path / "build").rglob("*.mp4"))  # nothing rendered here (captions/ may be)
    assert {(p.output, p.state) for p in render_progress(store)} == {(o, "queued") for o in queued}
    store.close()


def test_the_consoles_renders_go_on_the_queue_and_its_desk_shows_the_workers_progress(private_pg, tmp_path):
    """`web --queue URL`: an upload's renders become jobs (nothing renders in the console), the desk
    shows them queued, then rendered once a worker has made them."""
    url = fresh_database(private_pg.url, "console")
    loaded = campaign(tmp_path, {"ben": 3}, photo=False)  # Instagram's shortest Reel
    store = Store(url)
    renders = BackgroundRenders(tmp_path / "calendar.yaml", tmp_path / "inbox", tmp_path / "build", store, SystemClock(), queue=url)
    renders.variants = SMALL

    def states() -> set[tuple[str, str]]:
        return {(v.output, v.state) for t in desk(loaded.calendar, tmp_path / "inbox", tmp_path / "build", store) for v in t.variants}

    outputs = {j.output for j in required_renders(loaded.calendar)}
    renders.request()
    assert renders.wait_idle(60) and renders.last_error is None
    assert len(jobs(url)) == len(outputs) == 4
    assert not list((tmp_path / "build").rglob("*.mp4")), "nothing rendered by the console"
    assert states() == {(o, "queued") for o in outputs}
    drain(url, tmp_path, 1, 120, "the worker to render the console's jobs")
    assert states() == {(o, "rendered") for o in outputs}
    renders.close()
    store.close()


SAMPLE_PART = ("aiko-tanaka", "lukas-weber")  # a clip with Japanese and English subtitles, and photos (CI time)


@pytest.mark.timeout(900)
def test_the_samples_renders_by_two_workers_are_the_files_a_local_render_makes(private_pg, tmp_path):
    """Issue 24's "done when": the sample calendar at the real frame sizes, local `render` against 2 workers
    (two of its testimonials' media in the inbox: the others are missing alike from both)."""


    loaded = load_calendar(REPO / "calendar.yaml")
    for name in ("local", "queue"):
        (tmp_path / name / "inbox").mkdir(parents=True)
        for path in (REPO / "assets" / "samples" / "raw").iterdir():
            if path.name.startswith(SAMPLE_PART):
                shutil.copy(path, tmp_path / name / "inbox")
    local = render_all(loaded, tmp_path / "local" / "inbox", tmp_path / "local" / "build", workers=2, settle_seconds=0)
    assert local.rendered and not local.rejected and not local.errors, local.to_dict()
    assert {e["output"].split("/")[0] for e in local.rendered} == set(SAMPLE_PART)
    assert any(e["output"].endswith(".mp4") for e in local.rendered) and any(e["output"].endswith(".jpg") for e in local.rendered)
    url = fresh_database(private_pg.url, "sample")
    with queue_listener(url) as listener:
        queued = render_all(loaded, tmp_path / "queue" / "inbox", tmp_path / "queue" / "build", settle_seconds=0,
                            listener=listener, dispatch=dispatcher(url))
    assert len(queued.queued) == len(local.rendered)
    drain(url, tmp_path, 2, 900, "the sample's renders")
    assert {status for _, status, _ in jobs(url)} == {"succeeded"}
    ours, theirs = Manifest.load(tmp_path / "local" / "build").outputs, Manifest.load(tmp_path / "queue" / "build").outputs
    assert set(ours) == set(theirs)
    # The very same files, clips too: x264 runs on a fixed thread count (assets.clip.ENCODER_THREADS), not the
    # machine's, and a worker's one-output ffmpeg gives the bytes of that output in a local one-graph render.
    differ = sorted(o for o in ours if not ours[o]["sha256"] == theirs[o]["sha256"] == sha(tmp_path / "queue" / "build" / o))
    assert differ == [], differ


def test_a_queue_url_that_is_not_postgresql_is_one_line_and_an_exit_code(tmp_path):


    worker = subprocess.run([sys.executable, str(REPO / "run.py"), "worker", "--queue", "redis://127.0.0.1:6379/0"],
                            capture_output=True, text=True, timeout=60)
    assert worker.returncode == 3 and "the render queue lives in PostgreSQL" in worker.stderr and "Traceback" not in worker.stderr
    down = subprocess.run([sys.executable, str(REPO / "run.py"), "worker", "--queue", "postgresql://nobody@127.0.0.1:1/none"],
                          capture_output=True, text=True, timeout=60)
    assert down.returncode == 3 and "check that the PostgreSQL server runs" in down.stderr and "Traceback" not in down.stderr
