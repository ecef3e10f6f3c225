"""Hostile and careless inboxes: what can sit in the folder designers drop files into.

The class of inputs covered: symbolic links that leave the inbox (to a secret, to a file
elsewhere, through a chain of links, to nothing, in a loop), links that stay inside it
(allowed), a link named like a subtitle or a photo the calendar expects, a `rejected/`
folder that is itself a link elsewhere (nothing is moved or written there), and folders and
dot-files that are not drops. A link that leaves the inbox is never read: it moves to
`rejected/` (the link itself; its target is untouched) with the reason, and nothing of its
target reaches a rendered file; the rest of the inbox renders.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assets.inbox import inbox_files, link_leaving
from assets.pipeline import render_all
from testkit.assets import TINY, calendar_data, face_photo, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow


def render(loaded, inbox: Path, out: Path):  # type: ignore[no-untyped-def]
    return render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0.01)


def test_links_leaving_the_inbox_are_named_and_inside_links_are_allowed(tmp_path: Path, inbox: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("password=hunter2\n", encoding="utf-8")
    inside = inbox / "real.srt"
    write_srt(inside)
    (inbox / "direct.srt").symlink_to(outside)
    (inbox / "relative.srt").symlink_to(Path("..") / "secret.txt")
    hop = tmp_path / "hop.srt"
    hop.symlink_to(outside)
    (inbox / "chain.srt").symlink_to(hop)
    (inbox / "dangling.srt").symlink_to(tmp_path / "nothing-here")
    (inbox / "loop.srt").symlink_to(inbox / "loop.srt")
    (inbox / "alias.srt").symlink_to(inside)
    listed = {p.name for p in inbox_files(inbox)}
    assert {"direct.srt", "relative.srt", "chain.srt", "dangling.srt", "loop.srt", "alias.srt", "real.srt"} <= listed, \
        "links are listed, so they can be refused with a reason rather than ignored"
    for name in ("direct.srt", "relative.srt", "chain.srt"):
        reason = link_leaving(inbox / name, inbox)
        assert reason and "outside the inbox" in reason and str(outside) in reason
    for name in ("dangling.srt", "loop.srt"):
        assert "does not exist or loops" in (link_leaving(inbox / name, inbox) or "")
    assert link_leaving(inbox / "alias.srt", inbox) is None
    assert link_leaving(inside, inbox) is None


def test_a_subtitle_linked_outside_the_inbox_is_never_burned_in(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "clip-day"]
    data["moments"][0]["channels"] = ["xch"]
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=2)
    secret = tmp_path / "elsewhere" / "notes.srt"
    secret.parent.mkdir()
    write_srt(secret, text="PRIVATE TEXT")
    (inbox / "ben.en.srt").symlink_to(secret)
    read: list[str] = []
    import assets.worker

    real = assets.worker.render_clip
    monkeypatch.setattr(assets.worker, "render_clip", lambda s, i, f, targets, report=None, threads=None: (
        read.extend(t.subtitles.read_text(encoding="utf-8") for t in targets if t.subtitles), real(s, i, f, targets, report, threads))[1])
    summary = render(loaded, inbox, tmp_path / "build")
    assert not any("PRIVATE TEXT" in text for text in read)
    assert not summary.errors, summary.to_dict()
    reasons = [r["reason"] for r in summary.rejected]
    assert any("ben.en.srt is a symbolic link" in r and "outside the inbox" in r for r in reasons), summary.to_dict()
    assert (inbox / "rejected" / "ben.en.srt").is_symlink(), "the link itself moved aside"
    assert secret.read_text(encoding="utf-8").count("PRIVATE TEXT") == 1, "its target is untouched"
    assert "outside the inbox" in (inbox / "rejected" / "ben.en.srt.why.txt").read_text(encoding="utf-8")
    assert summary.exit_code == 1
    assert [m["source"] for m in summary.missing] == ["ben.en.srt"], "the clip waits for a real subtitle file"


def test_a_photo_linked_outside_is_refused_and_the_rest_renders(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["moments"][0]["channels"] = ["xch"]
    data["moments"][0]["languages"] = ["en"]
    data["testimonials"].append({**data["testimonials"][0], "id": "cara", "name": "Cara Diaz", "photo": "cara.jpg"})
    data["moments"][0]["testimonials"] = ["ana", "cara"]
    loaded = write_calendar(data)
    elsewhere = tmp_path / "private.jpg"
    face_photo().save(elsewhere)
    (inbox / "ana.jpg").symlink_to(elsewhere)
    face_photo().save(inbox / "cara.jpg")
    os.mkdir(inbox / "a-folder.jpg")  # a folder is not a drop
    (inbox / ".DS_Store").write_bytes(b"\0")
    summary = render(loaded, inbox, tmp_path / "build")
    assert [r["output"] for r in summary.rendered] == ["cara/landscape_16x9.en.jpg"], summary.to_dict()
    assert any(r["source"] == "ana.jpg" and "outside the inbox" in r["reason"] for r in summary.rejected)
    assert not (tmp_path / "build" / "ana").exists()
    assert elsewhere.exists() and (inbox / "a-folder.jpg").is_dir() and (inbox / ".DS_Store").exists()


def test_a_rejected_folder_linked_elsewhere_receives_nothing(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(calendar_data())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "rejected").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "stray.jpg").write_bytes(b"not a photo")
    summary = render(loaded, inbox, tmp_path / "build")
    [entry] = [r for r in summary.rejected if r["source"] == "stray.jpg"]
    assert entry["moved_to"] is None and "rejected/ a real folder" in entry["reason"]
    assert (inbox / "stray.jpg").exists() and list(elsewhere.iterdir()) == []
