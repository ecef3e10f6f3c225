"""The batch: incremental rules, files being copied, unknown and missing files, CLI exit codes, parallel run."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assets.pipeline import render_all
from testkit.assets import REPO, TINY, calendar_data, face_photo, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def render(loaded, inbox: Path, out: Path, workers: int = 1):  # type: ignore[no-untyped-def]
    return render_all(loaded, inbox, out, workers=workers, variants=TINY, settle_seconds=0.01)


def two_photos(data):  # type: ignore[no-untyped-def]
    data["testimonials"].append({**data["testimonials"][0], "id": "cy", "name": "Cy Ito", "photo": "cy.jpg"})
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["moments"][0]["testimonials"] = ["ana", "cy"]
    return data


def rendered(summary) -> set[str]:  # type: ignore[no-untyped-def]
    return {e["output"] for e in summary.rendered}


def test_incremental_rules(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = two_photos(calendar_data())
    loaded = write_calendar(data)
    face_photo(640, 360, face_x=0.3).save(inbox / "ana.jpg")
    face_photo(640, 360, face_x=0.7).save(inbox / "cy.jpg")
    out = tmp_path / "build"
    first = render(loaded, inbox, out)
    assert len(first.rendered) == 12 and first.exit_code == 0

    again = render(loaded, inbox, out)
    assert again.rendered == [] and len(again.skipped) == 12 and again.exit_code == 0
    assert again.seconds < 1.0

    # one baseline translation changes: only that language re-renders
    data["campaign"]["baseline"]["fr"] = "Ce sont les autres qui le disent"
    loaded = write_calendar(data)
    assert rendered(render(loaded, inbox, out)) == {
        "ana/feed_4x5.fr.jpg", "ana/landscape_16x9.fr.jpg", "cy/feed_4x5.fr.jpg", "cy/landscape_16x9.fr.jpg"}

    # one photo is replaced: only that testimonial re-renders
    time.sleep(0.02)
    face_photo(640, 360, face_x=0.5).save(inbox / "cy.jpg", quality=80)
    assert {o.split("/")[0] for o in rendered(render(loaded, inbox, out))} == {"cy"}

    # a deleted output is rendered again, nothing else
    (out / "ana/landscape_16x9.ja.jpg").unlink()
    assert rendered(render(loaded, inbox, out)) == {"ana/landscape_16x9.ja.jpg"}

    # touching a file without changing it renders nothing (content hashes, not times)
    (inbox / "ana.jpg").touch()
    assert rendered(render(loaded, inbox, out)) == set()

    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {e["output"] for e in first.rendered}


def test_a_file_still_being_copied_waits_for_the_next_run(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(two_photos(calendar_data()))
    face_photo(640, 360).save(inbox / "ana.jpg")
    partial = inbox / "cy.jpg"
    partial.write_bytes(b"\xff\xd8\xff")
    stop = threading.Event()

    def keep_copying() -> None:
        with partial.open("ab") as handle:
            while not stop.is_set():
                handle.write(b"\x00" * 512)
                handle.flush()
                time.sleep(0.01)

    writer = threading.Thread(target=keep_copying)
    writer.start()
    try:
        summary = render_all(loaded, inbox, tmp_path / "build", workers=1, variants=TINY, settle_seconds=0.2)
    finally:
        stop.set()
        writer.join()
    [entry] = summary.rejected
    assert entry["source"] == "cy.jpg" and "still being copied" in entry["reason"] and entry["moved_to"] is None
    assert partial.exists(), "a file being copied is never moved"
    assert {o.split("/")[0] for o in rendered(summary)} == {"ana"}


def test_unknown_and_missing_files_are_reported(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(two_photos(calendar_data()))
    face_photo(640, 360).save(inbox / "ana.jpg")
    face_photo(640, 360).save(inbox / "cy-final.jpg")  # a typo'd name
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    [unknown] = summary.rejected
    assert "matches no testimonial" in unknown["reason"] and "did you mean cy.jpg?" in unknown["reason"]
    assert (inbox / "rejected/cy-final.jpg").exists()
    assert "cy-final.jpg matches no testimonial" in (inbox / "rejected/cy-final.jpg.why.txt").read_text()
    [missing] = summary.missing
    assert missing["source"] == "cy.jpg" and "not in the inbox" in missing["reason"]


def test_parallel_workers_render_photos_and_clips(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(calendar_data())
    face_photo(640, 360).save(inbox / "ana.jpg")
    make_clip(inbox / "ben.mp4", seconds=1)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    events = []
    listener = Recorder()
    summary = render_all(loaded, inbox, tmp_path / "build", workers=2, variants=TINY, settle_seconds=0.01, progress=events.append,
                         listener=listener)
    assert summary.exit_code == 0, summary.to_dict()
    assert len(summary.rendered) == 8
    assert events[-1].done == events[-1].total == 8
    # The render-progress record: each output queued, then rendering (percent from the pool's processes), then done.
    outputs = rendered(summary)
    assert {output for state, output, _ in listener.seen if state == "queued"} == outputs
    assert {output for state, output, _ in listener.seen if state == "done"} == outputs
    for output in outputs:
        states = [(state, percent) for state, seen, percent in listener.seen if seen == output]
        assert states[0] == ("queued", None) and states[1] == ("rendering", 0) and states[-1] == ("done", None), states
    clip_percents = [percent for state, output, percent in listener.seen if state == "rendering" and output.endswith(".mp4")]
    assert max(clip_percents) > 0  # ffmpeg's own progress stream, relayed from the pool's processes


class Recorder:
    """A RenderListener that remembers what it was told, in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int | None]] = []

    def queued(self, jobs):  # type: ignore[no-untyped-def]
        self.seen += [("queued", job.output, None) for job in jobs]

    def rendering(self, job, percent: int) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(("rendering", job.output, percent))

    def done(self, job) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(("done", job.output, None))

    def refused(self, job, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(("refused", job.output, reason))


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "run.py"), "render", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_cli_exit_codes_and_json(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["moments"][0]["channels"] = ["fb"]
    write_calendar(data)
    face_photo(1280, 720).save(inbox / "ana.jpg")
    ok = run_cli("--calendar", "calendar.yaml", "--json", "--settle", "0.01", "--workers", "1", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] and report["counts"]["rendered"] == 2
    assert (tmp_path / "build/ana/landscape_16x9.ar.jpg").exists(), "default folders inbox/ and build/"
    assert "2 rendered" in ok.stderr

    (inbox / "stray.png").write_bytes(b"x")
    partial = run_cli("--json", "--settle", "0.01", cwd=tmp_path)
    assert partial.returncode == 1
    assert json.loads(partial.stdout)["rejected"][0]["source"] == "stray.png"

    (tmp_path / "calendar.yaml").write_text("campaign: [", encoding="utf-8")
    assert run_cli(cwd=tmp_path).returncode == 2
