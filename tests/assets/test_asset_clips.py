"""Clips: one ffmpeg run per source, platform-conforming output, subtitles, rotation, bad clips."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assets.clip import ENCODER_KEY
from assets.conformance import check_clip
from assets.pipeline import render_all
from assets.probe import moov_before_mdat, probe
from assets.worker import subtitle_problem
from testkit.assets import TINY, calendar_data, face_photo, ffmpeg, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def render(loaded, inbox: Path, out: Path):  # type: ignore[no-untyped-def]
    return render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0.01)


def clip_only(data, channels=("xch", "bsky")):  # type: ignore[no-untyped-def]
    data["moments"] = [m for m in data["moments"] if m["id"] == "clip-day"]
    data["moments"][0]["channels"] = list(channels)
    return data


def frame_at(path: Path, seconds: float) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError("no frame at that time")


def test_clip_renders_every_variant_conforming_in_one_ffmpeg_run(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(clip_only(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=2, faststart=False)
    write_srt(inbox / "ben.en.srt")
    runs: list[list[str]] = []
    sounds: list[list[str]] = []
    real_run = subprocess.run

    def counting(args, *a, **k):  # type: ignore[no-untyped-def]
        if args and "-filter_complex" in args:
            runs.append(list(args))
        elif args and "-af" in args:
            sounds.append(list(args))
        return real_run(args, *a, **k)

    monkeypatch.setattr("assets.clip.subprocess.run", counting)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    assert len(runs) == 1, "all variants of a clip come from one ffmpeg run (decoded once)"
    graph = runs[0][runs[0].index("-filter_complex") + 1]
    assert "split=2" in graph and "subtitles=" in graph and "fontsdir=" in graph
    # The sound is normalised and encoded once, before, and stream-copied into every output.
    assert len(sounds) == 1 and "loudnorm=I=-14:TP=-1" in sounds[0][sounds[0].index("-af") + 1]
    assert "loudnorm" not in graph and runs[0].count("copy") == 2
    assert "format=auto" not in graph
    for name, platforms in (("ben/landscape_16x9.en.mp4", ("x",)), ("ben/square_1x1.en.mp4", ("bluesky",))):
        path = tmp_path / "build" / name
        info = probe(path)
        variant = TINY[name.split("/")[1].split(".")[0]]
        assert (info.width, info.height) == (variant.width, variant.height)
        assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and abs(info.fps - 30) < 0.01
        assert info.audio_codec == "aac" and info.audio_rate == 48000 and info.audio_channels == 2
        assert abs(info.duration - 2.0) < 0.15
        assert moov_before_mdat(path), "+faststart"
        assert check_clip(path, variant, platforms, expected_seconds=2.0) == []


def test_subtitles_are_burned_in_with_the_language_font(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = clip_only(calendar_data(), channels=("xch",))
    data["moments"][0]["languages"] = ["ja"]
    data["testimonials"][1]["subtitles"] = {"ja": "ben.ja.vtt"}
    data["testimonials"][1]["quote"] = {"ja": "引用"}
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=2, video="color=c=gray:size=320x240:rate=30:duration=2")
    (inbox / "ben.ja.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nベルギーで働いて良かった\n", encoding="utf-8")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    out = tmp_path / "build/ben/landscape_16x9.ja.mp4"
    during, after = frame_at(out, 0.5), frame_at(out, 1.5)
    diff = np.abs(during - after).sum(axis=2) > 80
    assert diff.sum() > 150, "subtitle text appears while its cue is on screen"
    rows = np.nonzero(diff.any(axis=1))[0]
    assert rows.min() > 144 * 0.45, "subtitles sit in the lower part, above the lower third"


def test_rotated_phone_clip_is_rendered_upright(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(clip_only(calendar_data(), channels=("bsky",)))
    # stored 320x240: top red, bottom blue; rotation metadata 90° counter-clockwise -> viewed: red left, blue right
    stacked = "color=c=red:size=320x120:rate=30:duration=2[a];color=c=blue:size=320x120:rate=30:duration=2[b];[a][b]vstack"
    make_clip(inbox / "ben.mp4", seconds=2, video=stacked, rotation=90)
    assert probe(inbox / "ben.mp4").rotation == 90 and (probe(inbox / "ben.mp4").width, probe(inbox / "ben.mp4").height) == (240, 320)
    write_srt(inbox / "ben.en.srt")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    frame = frame_at(tmp_path / "build/ben/square_1x1.en.mp4", 1.5)
    middle = frame[100]
    assert middle[20][0] > 150 and middle[20][2] < 100, "left is red"
    assert middle[-20][2] > 150 and middle[-20][0] < 100, "right is blue"


def test_clip_without_sound_is_rejected_and_moved_aside(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(clip_only(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=1, audio=False)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    [entry] = summary.rejected
    assert "no sound track" in entry["reason"]
    assert (inbox / "rejected/ben.mp4").exists() and (inbox / "rejected/ben.mp4.why.txt").exists()


def test_clip_with_a_muted_sound_track_is_rejected_and_moved_aside(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(clip_only(calendar_data()))
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=30:duration=1",
                    "-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(inbox / "ben.mp4")], check=True)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    [entry] = summary.rejected
    assert "sound track is silent" in entry["reason"]
    assert (inbox / "rejected/ben.mp4").exists() and not (tmp_path / "build/ben").exists()  # no clip, no caption track


def test_corrupt_and_truncated_clips_are_rejected_without_stopping_the_batch(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = clip_only(calendar_data(), channels=("xch",))
    for tid in ("cut", "junk"):
        data["testimonials"].append({**data["testimonials"][1], "id": tid, "clip": f"{tid}.mp4", "subtitles": {"en": "ben.en.srt"}})
    data["moments"][0]["testimonials"] = ["ben", "cut", "junk"]
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=1)
    whole = make_clip(tmp_path / "whole.mp4", seconds=2, faststart=False).read_bytes()
    (inbox / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # index at the end: cut off
    (inbox / "junk.mp4").write_bytes(b"\x00\x01garbage" * 500)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 1
    assert {e["source"] for e in summary.rejected} == {"cut.mp4", "junk.mp4"}
    assert all("re-export" in e["reason"] or "corrupt" in e["reason"] for e in summary.rejected)
    assert [e["output"] for e in summary.rendered] == ["ben/landscape_16x9.en.mp4"]
    assert (inbox / "rejected/cut.mp4").read_bytes() == whole[: len(whole) // 2], "moved intact, never deleted"


def test_clip_shorter_than_a_platform_minimum_rejects_that_variant_only(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(clip_only(calendar_data(), channels=("xch", "ig")))  # Instagram Reels need 3 s
    make_clip(inbox / "ben.mp4", seconds=1)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    summary = render(loaded, inbox, tmp_path / "build")
    [entry] = summary.rejected
    assert entry["output"] == "ben/story_9x16.en.mp4" and "instagram need at least 3 s" in entry["reason"]
    assert entry["moved_to"] is None and (inbox / "ben.mp4").exists()
    assert [e["output"] for e in summary.rendered] == ["ben/landscape_16x9.en.mp4"]


def test_clip_longer_than_the_platform_maximum_is_trimmed(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from campaign.platforms import PLATFORMS

    monkeypatch.setitem(PLATFORMS, "x", replace(PLATFORMS["x"], video_max_seconds=1.0))  # X allows 140 s; 1 s keeps the test fast
    loaded = write_calendar(clip_only(calendar_data(), channels=("xch",)))
    make_clip(inbox / "ben.mp4", seconds=2)
    write_srt(inbox / "ben.en.srt")
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    assert "trimmed from 2.0 s to 1 s" in summary.rendered[0]["notes"][0]
    assert abs(probe(tmp_path / "build/ben/landscape_16x9.en.mp4").duration - 1.0) < 0.1


def test_broken_subtitle_files_are_explained() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        latin1 = Path(folder, "a.srt")
        latin1.write_bytes("1\n00:00:00,000 --> 00:00:01,000\nÉté\n".encode("latin-1"))
        assert "UTF-8" in (subtitle_problem(latin1) or "")
        empty = Path(folder, "b.srt")
        empty.write_text("just words", encoding="utf-8")
        assert "no cues" in (subtitle_problem(empty) or "")
        good = write_srt(Path(folder, "c.srt"))
        assert subtitle_problem(good) is None


def test_conformance_flags_a_file_no_platform_accepts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=256x144:rate=15:duration=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv444p", "-preset", "ultrafast", str(bad)], check=True)
    problems = " | ".join(check_clip(bad, TINY["landscape_16x9"], ("x", "linkedin")))
    for expected in ("yuv444p", "audio codec is missing", "not +faststart", "linkedin: lasts 1.00 s"):
        assert expected in problems


def clip_hashes(out: Path) -> dict[str, str]:
    import hashlib

    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.mp4"))}


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores to compare with 1")
def test_a_clips_bytes_do_not_depend_on_the_cores_of_the_machine(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A worker on a 4-core machine writes the file a 2-core laptop writes: x264's output depends on its
    thread count, which it would take from the cores it sees; here ffmpeg sees one core, then all."""
    loaded = write_calendar(clip_only(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=2)
    write_srt(inbox / "ben.en.srt")
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})  # ffmpeg, a child, inherits it
    try:
        one = render(loaded, inbox, tmp_path / "one-core")
    finally:
        os.sched_setaffinity(0, cores)
    every = render(loaded, inbox, tmp_path / "every-core")
    assert one.exit_code == every.exit_code == 0
    hashes = clip_hashes(tmp_path / "one-core")
    assert len(hashes) == 2 and hashes == clip_hashes(tmp_path / "every-core")


def test_a_clips_bytes_do_not_depend_on_the_threads_its_decoder_and_filters_get(write_calendar, inbox: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                                 monkeypatch) -> None:
    """A queue worker decodes and filters on one thread (its share of the cores), a lone local render on
    as many as ffmpeg likes: both write the same bytes, so a clip is the same file whoever renders it."""
    import assets.clip
    import assets.worker

    loaded = write_calendar(clip_only(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=2)
    write_srt(inbox / "ben.en.srt")
    commands: list[list[str]] = []
    original = assets.clip.clip_command
    monkeypatch.setattr(assets.clip, "clip_command", lambda *a, **k: commands.append(original(*a, **k)) or commands[-1])
    hashes = {}
    for threads in (1, None):
        # one source renders in this process: its render is told the threads a worker's job gets, then none
        monkeypatch.setattr(assets.worker, "render_clip", lambda *a, threads_=threads, **k: assets.clip.render_clip(
            *a, **{**k, "threads": threads_}))
        assert render(loaded, inbox, tmp_path / f"threads-{threads}").exit_code == 0
        hashes[threads] = clip_hashes(tmp_path / f"threads-{threads}")
    one, auto = commands
    assert one[one.index("-i") - 2:one.index("-i")] == ["-threads", "1"] and "-filter_complex_threads" in one
    assert "-filter_complex_threads" not in auto and auto[auto.index("-i") - 1] != "1"
    assert len(hashes[1]) == 2 and hashes[1] == hashes[None]


def test_a_new_encoder_setting_renders_each_clip_again_once_and_no_photo(write_calendar, inbox: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                         monkeypatch) -> None:
    data = calendar_data()
    data["moments"] = [{**m, "channels": m["channels"][:1]} for m in data["moments"]]  # fewer outputs: one channel each
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=1)
    write_srt(inbox / "ben.en.srt", end="00:00:00,900")
    face_photo(320, 240).save(inbox / "ana.jpg")
    out = tmp_path / "build"
    monkeypatch.setattr("assets.pipeline.ENCODER_KEY", {**ENCODER_KEY, "threads": "the machine's"})  # as before
    before = render(loaded, inbox, out)
    clips = {e["output"] for e in before.rendered if e["kind"] == "clip"}
    assert before.exit_code == 0 and clips and len(before.rendered) > len(clips)
    monkeypatch.setattr("assets.pipeline.ENCODER_KEY", ENCODER_KEY)
    once = render(loaded, inbox, out)
    assert {e["output"] for e in once.rendered} == clips, "the clips again, no photo"
    twice = render(loaded, inbox, out)
    assert twice.rendered == [] and len(twice.skipped) == len(before.rendered)



def sound_seconds(path: Path) -> float:
    """Length of a file's decoded sound (48 kHz stereo s16), 0 when it has none."""
    pcm = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-map", "0:a:0?", "-f", "s16le", "-ac", "2", "-ar", "48000", "-"],
                         capture_output=True, check=True).stdout
    return len(pcm) / 4 / 48000


def test_the_sound_is_made_once_per_source_and_copied_into_every_output(write_calendar, inbox: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                       monkeypatch) -> None:
    from dataclasses import replace

    import assets.clip
    from assets.worker import run_source
    from campaign.platforms import PLATFORMS
    from scheduler.render_queue.payload import split

    monkeypatch.setitem(PLATFORMS, "x", replace(PLATFORMS["x"], video_max_seconds=1.0))  # one output shorter than the source
    loaded = write_calendar(clip_only(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=2)
    write_srt(inbox / "ben.en.srt")
    sounds: list[list[str]] = []
    real_run = subprocess.run

    def counting(args, *a, **k):  # type: ignore[no-untyped-def]
        if args and "-af" in args:
            sounds.append(list(args))
        return real_run(args, *a, **k)

    monkeypatch.setattr("assets.clip.subprocess.run", counting)
    out = tmp_path / "build"
    # As render workers do: one job per output, each in its own run, all sharing the build folder's cache.
    tasks: list = []
    render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0.01, dispatch=lambda t, m: tasks.extend(t) or [])
    jobs = [job for task in tasks for job in split(task)]
    assert len(jobs) >= 2
    results = [run_source(job) for job in jobs]
    assert all(r.source_error is None and r.crash is None for r in results), results
    assert all(not j.error and not j.problems for r in results for j in r.jobs), results
    assert len(sounds) == 1, "the sound of a source is normalised and encoded once, not once per output"
    cached = list((out / ".cache" / "sound").glob("*.m4a"))
    assert len(cached) == 1 and cached[0].name.endswith(".m4a") and not list((out / ".cache" / "sound").glob(".*"))
    lengths = {}
    for r in results:
        for j in r.jobs:
            path = out / j.output
            info = probe(path)
            assert info.audio_codec == "aac" and info.audio_rate == 48000 and info.audio_channels == 2
            lengths[j.output] = (info.duration, sound_seconds(path))
    trimmed = lengths.pop("ben/landscape_16x9.en.mp4")
    assert abs(trimmed[0] - 1.0) < 0.05 and abs(trimmed[1] - 1.0) < 0.05, trimmed
    assert lengths and all(abs(d - 2.0) < 0.05 and abs(s - 2.0) < 0.05 for d, s in lengths.values()), lengths
    # The sound file's bytes do not depend on who makes it: a second, racing maker writes the same bytes.
    again = assets.clip.ensure_sound(inbox / "ben.mp4", tmp_path / "other", cached[0].name.split("-")[0])
    assert again.read_bytes() == cached[0].read_bytes()
