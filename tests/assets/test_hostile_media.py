"""Hostile and careless media: what a designer's export or an attacker can put in the inbox.

The class of inputs covered, each answered with a reason a designer can act on (never a
traceback, never a raw library warning) and without losing a file or sinking good work:

* subtitle files (SRT and WebVTT): malformed timestamps, cues out of order, backwards cues,
  overlapping cues, cues after the clip ends, empty cues, control and bidi characters,
  libass override tags (`{\\pos}`, `{\\p1}` drawings), non-UTF-8 bytes, a missing WEBVTT
  header, oversized files. Every problem is `file:LINE:`; a bad file is refused for its
  language only, the clip and the other languages render, and ffmpeg only ever reads the
  cues that passed (re-written as a clean SRT);
* full-range (`yuvj420p`, MJPEG) clips: converted to the TV range every platform expects,
  with the colours kept (judged by ffmpeg's own decoder through PyAV), rendered once;
* huge photos: a 196-megapixel PNG opens without Pillow's DecompressionBombWarning and
  renders in bounded memory (reduced right after decoding); above the limit, a clear refusal;
* outputs an input can no longer produce (a new photo too small for one frame): the old
  render is removed, so neither the planner nor the daemon can take it for the current one;
  the refusal is cached, so an unchanged inbox renders nothing and leaves manifest.json alone.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assets.manifest import refusal_reason
from assets.photo import MAX_PHOTO_PIXELS, open_photo
from assets.pipeline import render_all
from assets.probe import probe
from assets.subtitles import read_subtitles, to_srt
from campaign.errors import AssetError
from testkit.assets import TINY, calendar_data, face_photo, ffmpeg, make_clip, write_srt

pytestmark = pytest.mark.slow  # renders media with ffmpeg and Pillow

REPO = Path(__file__).resolve().parents[2]


def render(loaded, inbox: Path, out: Path):  # type: ignore[no-untyped-def]
    return render_all(loaded, inbox, out, workers=1, variants=TINY, settle_seconds=0.01)


# -- subtitles: the parser ----------------------------------------------------------------------

BAD_SUBTITLES = {
    "malformed timestamp": ("a.srt", "1\n00:00:0x,200 --> 00:00:01,800\nHello\n", 2, "malformed timestamp"),
    "backwards cue": ("a.srt", "1\n00:00:01,500 --> 00:00:00,500\nHello\n", 2, "ends (00:00:00,500) before it starts"),
    "out of order": ("a.srt", "1\n00:00:01,000 --> 00:00:01,500\nB\n\n2\n00:00:00,100 --> 00:00:00,500\nA\n", 6, "time order"),
    "overlap": ("a.srt", "1\n00:00:00,000 --> 00:00:01,500\nA\n\n2\n00:00:01,000 --> 00:00:01,800\nB\n", 6, "still on screen"),
    "empty cue": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\n\n2\n00:00:01,000 --> 00:00:01,500\nB\n", 2, "no text"),
    "control characters": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\nHel\x07lo\n", 2, "U+0007"),
    "bidi override": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\nabc\u202edef\n", 2, "U+202E"),
    "libass drawing": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\n{\\p1}m 0 0 l 100 0 100 100{\\p0}\n", 2, "styling codes"),
    "libass move": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\n{\\pos(10,10)}Hi\n", 2, "styling codes"),
    "minutes out of range": ("a.srt", "1\n00:61:00,000 --> 00:62:00,000\nHi\n", 2, "malformed timestamp"),
    "junk block": ("a.srt", "1\n00:00:00,000 --> 00:00:01,000\nHi\n\nrandom words here\n", 5, "where a cue starts"),
    "webvtt without header": ("a.vtt", "00:00:00.000 --> 00:00:01.000\nHi\n", 1, "starts with the line `WEBVTT`"),
    "webvtt comma timestamp": ("a.vtt", "WEBVTT\n\n00:00:00,000 --> 00:00:01,000\nHi\n", 3, "malformed timestamp"),
    "webvtt backwards": ("a.vtt", "WEBVTT\n\nintro\n00:00:02.000 --> 00:00:01.000\nHi\n", 4, "before it starts"),
}


@pytest.mark.parametrize("case", sorted(BAD_SUBTITLES))
def test_every_bad_subtitle_is_refused_with_its_file_and_line(tmp_path: Path, case: str) -> None:
    name, text, line, words = BAD_SUBTITLES[case]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    report = read_subtitles(path)
    assert not report.ok, case
    assert any(p.startswith(f"{name}:{line}: ") and words in p for p in report.problems), report.problems
    assert all(" — " in p for p in report.problems), "each problem says how to fix it"


def test_non_utf8_and_oversized_subtitles_are_refused(tmp_path: Path) -> None:
    latin1 = tmp_path / "a.srt"
    latin1.write_bytes("1\n00:00:00,000 --> 00:00:01,000\nOK\n\n2\n00:00:01,000 --> 00:00:02,000\nÉté\n".encode("latin-1"))
    assert read_subtitles(latin1).problems[0].startswith("a.srt:7: is not UTF-8")
    huge = tmp_path / "b.srt"
    huge.write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\n" + b"x" * 2_000_000)
    assert "larger than" in read_subtitles(huge).reason()


def test_a_cue_after_the_clip_ends_is_refused(tmp_path: Path) -> None:
    path = write_srt(tmp_path / "a.srt", start="00:00:05,000", end="00:00:06,000")
    assert read_subtitles(path).ok
    assert "after the clip ends" in read_subtitles(path, clip_seconds=2.0).reason()


def test_good_files_parse_to_the_same_clean_srt(tmp_path: Path) -> None:
    srt = tmp_path / "a.srt"
    srt.write_bytes("\ufeff1\r\n00:00:00,200 --> 00:00:01,800\r\nBonjour  \r\nla Belgique\r\n".encode("utf-8"))
    vtt = tmp_path / "a.vtt"
    vtt.write_text("WEBVTT\nKind: captions\n\nNOTE a comment\n\ncue-1\n00:00.200 --> 00:01.800 align:start\nBonjour\nla Belgique\n",
                   encoding="utf-8")
    expected = "1\n00:00:00,200 --> 00:00:01,800\nBonjour\nla Belgique\n"
    assert to_srt(read_subtitles(srt).cues) == expected
    assert to_srt(read_subtitles(vtt).cues) == expected


# -- subtitles: the pipeline ----------------------------------------------------------------------

def two_language_clip(data):  # type: ignore[no-untyped-def]
    data["moments"] = [m for m in data["moments"] if m["id"] == "clip-day"]
    data["moments"][0].update(channels=["xch"], languages=["en", "ja"])
    data["testimonials"][1]["subtitles"] = {"en": "ben.en.srt", "ja": "ben.ja.srt"}
    data["testimonials"][1]["quote"] = {"en": "Quote", "ja": "引用"}
    return data


def test_a_bad_subtitle_file_is_refused_for_its_language_only(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = write_calendar(two_language_clip(calendar_data()))
    make_clip(inbox / "ben.mp4", seconds=2)
    write_srt(inbox / "ben.en.srt", start="00:00:0x,200")
    write_srt(inbox / "ben.ja.srt", text="ベルギー")
    out = tmp_path / "build"
    summary = render(loaded, inbox, out)
    assert [r["output"] for r in summary.rendered] == ["ben/landscape_16x9.ja.mp4"], summary.to_dict()
    assert (inbox / "ben.mp4").exists(), "the clip is good: it stays in the inbox"
    assert not (out / "ben/landscape_16x9.en.mp4").exists()
    refused = [r for r in summary.rejected if r.get("output") == "ben/landscape_16x9.en.mp4"]
    assert refused and "ben.en.srt:2: malformed timestamp" in refused[0]["reason"]
    assert (inbox / "rejected/ben.en.srt").exists()
    assert "ben.en.srt:2:" in (inbox / "rejected/ben.en.srt.why.txt").read_text(encoding="utf-8")
    assert "ben.en.srt:2:" in (refusal_reason(out, "ben/landscape_16x9.en.mp4") or "")


def test_ffmpeg_reads_only_the_checked_cues(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = two_language_clip(calendar_data())
    data["moments"][0]["languages"] = ["en"]
    loaded = write_calendar(data)
    make_clip(inbox / "ben.mp4", seconds=2)
    (inbox / "ben.en.srt").write_text("1\r\n00:00:00,200 --> 00:00:01,800\r\n<i>Hello</i> Belgium\r\n", encoding="utf-8")
    seen: list[str] = []
    import assets.worker

    real = assets.worker.render_clip

    def spy(source, info, focus, targets, report=None, threads=None):  # type: ignore[no-untyped-def]
        seen.extend(t.subtitles.read_text(encoding="utf-8") for t in targets if t.subtitles)
        assert all(t.subtitles.parent != inbox for t in targets if t.subtitles)
        return real(source, info, focus, targets, report, threads)

    monkeypatch.setattr(assets.worker, "render_clip", spy)
    summary = render(loaded, inbox, tmp_path / "build")
    assert summary.exit_code == 0, summary.to_dict()
    assert seen == ["1\n00:00:00,200 --> 00:00:01,800\n<i>Hello</i> Belgium\n"]


# -- full-range clips ----------------------------------------------------------------------------

def mjpeg_clip(path: Path) -> Path:
    """A full-range MJPEG clip (yuvj420p), as webcams and some cameras record: black and white halves."""
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i",
                    "color=c=black:size=320x240:rate=30:duration=2,drawbox=x=160:y=0:w=160:h=240:color=white:t=fill",
                    "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def test_full_range_clips_are_converted_once_with_their_colours(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import av

    data = two_language_clip(calendar_data())
    data["moments"][0]["languages"] = ["en"]
    data["testimonials"][1]["clip"] = "ben.mov"
    data["testimonials"][1]["focus"] = {"x": 0.5, "y": 0.5}
    loaded = write_calendar(data)
    mjpeg_clip(inbox / "ben.mov")
    assert probe(inbox / "ben.mov").pix_fmt == "yuvj420p"
    write_srt(inbox / "ben.en.srt", start="00:00:01,900", end="00:00:01,950")
    out = tmp_path / "build"
    summary = render(loaded, inbox, out)
    assert summary.exit_code == 0, summary.to_dict()
    rendered = out / "ben/landscape_16x9.en.mp4"
    info = probe(rendered)
    assert info.pix_fmt == "yuv420p"
    with av.open(str(rendered)) as container:  # ffmpeg's decoder reads the range tag: it judges the colours
        frame = next(container.decode(video=0))
        assert frame.color_range in (0, 1)  # unspecified or MPEG (TV)
        rgb = frame.to_ndarray(format="rgb24").astype(int)
    height = rgb.shape[0]
    band = rgb[height // 2 - 5: height // 2 + 5]  # the middle rows, above the lower third
    assert band[:, 5:40].mean() < 20, "black stays black (not lifted to grey by a range left unconverted)"
    assert band[:, -40:-5].mean() > 235, "white stays white (not crushed)"
    stamp = (out / "manifest.json").stat().st_mtime_ns
    again = render(loaded, inbox, out)
    assert again.rendered == [] and again.exit_code == 0, again.to_dict()
    assert (out / "manifest.json").stat().st_mtime_ns == stamp, "a no-op run does not rewrite manifest.json"


# -- refused outputs: stale renders, cached outcomes -------------------------------------------

def test_a_refused_variant_removes_its_old_render_and_is_not_rendered_again(write_calendar, inbox: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["moments"][0]["channels"] = ["ig", "xch"]
    data["moments"][0]["languages"] = ["en"]
    loaded = write_calendar(data)
    out = tmp_path / "build"
    face_photo(960, 540).save(inbox / "ana.jpg")
    first = render(loaded, inbox, out)
    assert first.exit_code == 0, first.to_dict()
    portrait, landscape = out / "ana/feed_4x5.en.jpg", out / "ana/landscape_16x9.en.jpg"
    assert portrait.exists() and landscape.exists()
    # A new, wide and low photo: still fine for 16:9, too small for the 4:5 frame (270 px high).
    face_photo(480, 150).save(inbox / "ana.jpg")
    second = render(loaded, inbox, out)
    refused = {r["output"]: r["reason"] for r in second.rejected}
    assert "too small for feed_4x5" in refused.get("ana/feed_4x5.en.jpg", ""), second.to_dict()
    assert not portrait.exists(), "the render of the old photo must not stay to be published"
    assert landscape.exists()
    assert "too small" in (refusal_reason(out, "ana/feed_4x5.en.jpg") or "")
    stamp = (out / "manifest.json").stat().st_mtime_ns
    calls: list[object] = []
    monkeypatch.setattr("assets.pipeline.run_source", lambda task: calls.append(task))
    third = render(loaded, inbox, out)
    assert calls == [], "same inputs, same refusal: nothing is decoded again"
    assert "too small" in third.rejected[0]["reason"] and third.exit_code == 1
    assert (out / "manifest.json").stat().st_mtime_ns == stamp


# -- huge photos ------------------------------------------------------------------------------------

def write_big_png(path: Path, width: int, height: int, channels: int = 3) -> Path:
    """A big PNG written row by row (a gradient), never held in memory: a 196 MP file in ~2 s, 7 MB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = np.zeros((width, channels), dtype=np.uint8)
    row[:, :3] = (np.arange(width) * 255 // width)[:, None]
    if channels == 4:
        row[:, 3] = 255
    line = b"\x00" + row.tobytes()
    packer = zlib.compressobj(1)
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, {3: 2, 4: 6}[channels], 0, 0, 0)))
        for _ in range(height):
            data = packer.compress(line)
            if data:
                handle.write(chunk(b"IDAT", data))
        handle.write(chunk(b"IDAT", packer.flush()) + chunk(b"IEND", b""))
    return path


def test_a_196_megapixel_png_opens_without_a_raw_warning(tmp_path: Path) -> None:
    path = write_big_png(tmp_path / "scan.png", 14_000, 14_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = open_photo(path)
    assert image.size == (14_000, 14_000)
    image.close()


@pytest.mark.parametrize("side", [15_000, 21_000])  # over our limit; over twice Pillow's (its DecompressionBombError)
def test_photos_over_the_limit_are_refused_in_words(tmp_path: Path, side: int) -> None:
    path = tmp_path / "bomb.png"
    # The header and one row: Pillow decides from the declared size, before any pixel is decoded.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    row = zlib.compress(b"\x00" + bytes(side * 3))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", row) + chunk(b"IEND", b""))
    assert side * side > MAX_PHOTO_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AssetError) as caught:
            open_photo(path)
    assert "megapixels" in str(caught.value) and "export it smaller" in str(caught.value)


def test_a_huge_rgba_png_renders_in_bounded_memory(tmp_path: Path) -> None:
    """Peak memory while rendering stays near one decode (4 bytes a pixel), not several copies of it."""
    width, height = 6400, 6000  # 38 MP: the same path as 196 MP, in a few seconds
    source = write_big_png(tmp_path / "big.png", width, height, channels=4)
    script = textwrap.dedent(f"""
        import json, resource, sys, warnings
        warnings.simplefilter("error")
        from pathlib import Path
        from PIL import Image
        from testkit.assets import TINY
        from assets.photo import PhotoTarget, render_photo
        tmp = Path({str(tmp_path)!r})
        targets = []
        for name, platform in (("feed_4x5", "instagram"), ("landscape_16x9", "x")):
            v = TINY[name]
            Image.new("RGBA", (v.width, v.height)).save(tmp / (name + ".png"))
            targets.append(PhotoTarget(v, tmp / (name + ".png"), tmp / (name + ".jpg"), (platform,)))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        focus, outcomes = render_photo(Path({str(source)!r}), targets, (0.5, 0.5), threads=1)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"errors": [o.error for o in outcomes], "peak_mb": (after - before) / 1024}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == [None, None]
    decode_mb = width * height * 4 / 2**20
    assert result["peak_mb"] < 1.3 * decode_mb, f"peak {result['peak_mb']:.0f} MB for a {decode_mb:.0f} MB decode"
    with Image.open(tmp_path / "feed_4x5.jpg") as rendered:
        assert rendered.size == (TINY["feed_4x5"].width, TINY["feed_4x5"].height)


@pytest.mark.parametrize("mode", ["P", "I;16", "LA", "CMYK"])
def test_large_photos_in_every_mode_reduce_to_the_same_picture(tmp_path: Path, mode: str) -> None:
    """Reduced on load or not, a palette, 16-bit, grey+alpha or CMYK photo gives the picture it shows."""
    from assets.photo import PhotoTarget, render_photo

    gradient = np.tile(np.linspace(0, 255, 2400, dtype=np.uint8), (1800, 1))
    base = Image.fromarray(np.dstack([gradient, gradient, gradient]))
    image = {"P": lambda: base.convert("P"),
             "I;16": lambda: Image.fromarray((gradient.astype(np.uint16) * 257)),
             "LA": lambda: Image.merge("LA", [base.convert("L"), Image.new("L", base.size, 255)]),
             "CMYK": lambda: base.convert("CMYK")}[mode]()
    source = tmp_path / ("photo.tif" if mode == "CMYK" else "photo.png")
    image.save(source)
    v = TINY["landscape_16x9"]
    overlay = tmp_path / "overlay.png"
    Image.new("RGBA", (v.width, v.height)).save(overlay)
    _, outcomes = render_photo(source, [PhotoTarget(v, overlay, tmp_path / "out.jpg", ("x",))], (0.5, 0.5), threads=1)
    assert outcomes[0].error is None
    with Image.open(tmp_path / "out.jpg") as rendered:
        row = np.asarray(rendered.convert("L"), dtype=int)[v.height // 2]
    assert row[:10].mean() < 40 and row[-10:].mean() > 215, f"{mode}: the gradient survives (dark left, light right)"


def test_the_pipeline_reports_an_oversized_photo_cleanly(write_calendar, inbox: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A 441-megapixel PNG (declared; Pillow would raise its own bomb error) moves to rejected/ with a sentence."""
    data = calendar_data()
    data["moments"] = [m for m in data["moments"] if m["id"] == "photo-day"]
    data["testimonials"][0]["photo"] = "ana.png"
    loaded = write_calendar(data)

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 21_000, 21_000, 8, 2, 0, 0, 0)
    (inbox / "ana.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = render(loaded, inbox, tmp_path / "build")
    [entry] = [r for r in summary.rejected if r["source"] == "ana.png"]
    assert "megapixels" in entry["reason"] and "export it smaller" in entry["reason"] and "Traceback" not in entry["reason"]
    assert (inbox / "rejected" / "ana.png").exists() and summary.errors == []


def test_ffmpeg_reads_the_clean_srt_with_the_cues_we_checked(tmp_path: Path) -> None:
    """ffmpeg's own subtitle parser (not ours) is the referee: the SRT handed to it carries
    exactly the checked cues, at the same times, from an SRT and from a WebVTT source."""
    import re

    vtt = tmp_path / "talk.vtt"
    vtt.write_text("WEBVTT\n\n1\n00:00.250 --> 00:01.500\nOne\n\n00:01.500 --> 00:02.750 line:80%\nTwo <b>bold</b>\n\n"
                   "NOTE skipped\n\n01:00:03.000 --> 01:00:04.125\nThree\n", encoding="utf-8")
    report = read_subtitles(vtt)
    assert report.ok, report.problems
    clean = tmp_path / "clean.srt"
    clean.write_text(to_srt(report.cues), encoding="utf-8")
    done = subprocess.run([ffmpeg(), "-v", "error", "-i", str(clean), "-f", "webvtt", "-"], capture_output=True, text=True, check=True)
    stamps = re.findall(r"(\d+:)?(\d\d):(\d\d)\.(\d{3}) --> (\d+:)?(\d\d):(\d\d)\.(\d{3})", done.stdout)

    def seconds(h: str, m: str, s: str, ms: str) -> float:
        return int((h or "0:")[:-1]) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    times = [(seconds(*g[:4]), seconds(*g[4:])) for g in stamps]
    assert times == [(c.start, c.end) for c in report.cues] == [(0.25, 1.5), (1.5, 2.75), (3603.0, 3604.125)]
    assert "Two bold" in done.stdout or "Two <b>bold</b>" in done.stdout
