"""Read and check a subtitle file (SRT or WebVTT) before anything is burned into a clip.

ffmpeg's subtitles filter fails the whole clip on one malformed timestamp and silently
burns in whatever it manages to parse (backwards cues, control characters, libass override
tags that move or draw). So every file is parsed here first, every problem is reported as
`file:LINE: what — how to fix`, and only the cues that passed are handed to ffmpeg, written
out again as a clean SRT (`to_srt`): what is burned in is exactly what was checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MAX_BYTES = 1_000_000  # a 3-minute clip needs a few kB; more is not a subtitle file
MAX_CUES = 2_000
MAX_CUE_CHARS = 300  # two lines on a phone are ~80 characters; 300 is a paragraph, not a subtitle
SUFFIXES = (".srt", ".vtt")

_SRT_TIME = r"(\d{1,2}):([0-5]\d):([0-5]\d)[,.](\d{3})"
_VTT_TIME = r"(?:(\d{1,2}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s+.*)?$")
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s*-->\s*{_VTT_TIME}(?:\s+.*)?$")
_OVERRIDE = re.compile(r"\{\\")  # libass reads `{\pos(..)}`, `{\p1}` drawings, `{\fs200}` in SRT text
_BIDI_CONTROLS = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str  # lines joined with "\n"
    line: int  # line of the timing line, 1-based


@dataclass(frozen=True)
class SubtitleReport:
    """The cues of a file and everything wrong with it (`ok` when nothing is)."""

    path: Path
    cues: tuple[Cue, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def reason(self, limit: int = 5) -> str:
        shown = list(self.problems[:limit])
        more = len(self.problems) - len(shown)
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def read_subtitles(path: Path, clip_seconds: float | None = None) -> SubtitleReport:
    """Parse and check one SRT or WebVTT file; never raises for bad content."""
    name = path.name
    problems: list[str] = []

    def bad(line: int, message: str) -> None:
        problems.append(f"{name}:{line}: {message}")

    if path.suffix.lower() not in SUFFIXES:
        bad(1, "use the .srt or .vtt extension (SRT or WebVTT)")
        return SubtitleReport(path, (), tuple(problems))
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as error:
        bad(1, f"cannot be read ({error.strerror or error}) — copy the file into the inbox again")
        return SubtitleReport(path, (), tuple(problems))
    if len(raw) > MAX_BYTES:
        bad(1, f"is larger than {MAX_BYTES // 1000} kB — that is not a subtitle file; export the subtitles alone as SRT or WebVTT")
        return SubtitleReport(path, (), tuple(problems))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad(line, f"is not UTF-8 text (byte 0x{raw[error.start]:02x}) — save it as UTF-8 (SRT or WebVTT)")
        return SubtitleReport(path, (), tuple(problems))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    webvtt = path.suffix.lower() == ".vtt"
    if "-->" not in text:
        example = "00:00:01.000 --> 00:00:03.000" if webvtt else "00:00:01,000 --> 00:00:03,000"
        bad(1, f"has no cues (`{example}` lines) — export it again as {'WebVTT' if webvtt else 'SRT'}")
        return SubtitleReport(path, (), tuple(problems))
    cues = _parse_vtt(lines, bad) if webvtt else _parse_srt(lines, bad)
    if len(cues) > MAX_CUES:
        bad(cues[MAX_CUES].line, f"has more than {MAX_CUES} cues — that is not the subtitles of one short clip")
    _check_timeline(cues, clip_seconds, bad)
    return SubtitleReport(path, tuple(cues), tuple(problems))


def to_srt(cues: tuple[Cue, ...] | list[Cue]) -> str:
    """The checked cues as a plain SRT, the only subtitle text ffmpeg ever reads."""
    blocks = [f"{n}\n{_stamp(c.start)} --> {_stamp(c.end)}\n{c.text}\n" for n, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def _seconds(groups: tuple[str | None, ...]) -> float:
    hours, minutes, secs, millis = (int(g) if g else 0 for g in groups)
    return hours * 3600 + minutes * 60 + secs + millis / 1000


def _blocks(lines: list[str], first: int = 0) -> list[tuple[int, list[str]]]:
    """Blank-line separated blocks as (1-based line of their first line, lines)."""
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for index in range(first, len(lines)):
        line = lines[index]
        if line.strip():
            if not current:
                start = index + 1
            current.append(line)
        elif current:
            blocks.append((start, current))
            current = []
    if current:
        blocks.append((start, current))
    return blocks


def _parse_srt(lines: list[str], bad) -> list[Cue]:  # type: ignore[no-untyped-def]
    cues: list[Cue] = []
    for start, block in _blocks(lines):
        offset = 0
        if block[0].strip().isdigit() and len(block) > 1:
            offset = 1  # the cue number (its value does not matter to any player)
        timing_line = start + offset
        match = _SRT_TIMING.match(block[offset])
        if not match:
            if "-->" in block[offset]:
                bad(timing_line, f"malformed timestamp `{block[offset].strip()[:60]}` — write it as `00:00:01,000 --> 00:00:03,000`")
            else:
                bad(timing_line, f"found `{block[offset].strip()[:60]}` where a cue starts — each cue is a number, a timing line "
                                 "(`00:00:01,000 --> 00:00:03,000`) and its text, separated from the next by one blank line")
            continue
        cue = _cue(match, block[offset + 1:], timing_line, bad)
        if cue is not None:
            cues.append(cue)
    return cues


def _parse_vtt(lines: list[str], bad) -> list[Cue]:  # type: ignore[no-untyped-def]
    if not lines or not re.match(r"^WEBVTT([ \t].*)?$", lines[0]):
        bad(1, "a WebVTT file starts with the line `WEBVTT` — add it, or save the file as .srt if it is SRT")
        return []
    cues: list[Cue] = []
    for start, block in _blocks(lines, first=1):
        head = block[0].strip()
        if start == 2 and not any("-->" in line for line in block):
            continue  # header lines right after WEBVTT (e.g. `Kind: captions`)
        if head.startswith(("NOTE", "STYLE", "REGION")):
            continue
        offset = 0 if "-->" in block[0] else 1  # an optional cue identifier line
        if offset >= len(block):
            bad(start, f"`{head[:60]}` is not followed by a timing line — add one (`00:00:01.000 --> 00:00:03.000`) or remove the line")
            continue
        timing_line = start + offset
        match = _VTT_TIMING.match(block[offset])
        if not match:
            bad(timing_line, f"malformed timestamp `{block[offset].strip()[:60]}` — write it as `00:00:01.000 --> 00:00:03.000`")
            continue
        cue = _cue(match, block[offset + 1:], timing_line, bad)
        if cue is not None:
            cues.append(cue)
    return cues


def _cue(match: re.Match[str], text_lines: list[str], line: int, bad) -> Cue | None:  # type: ignore[no-untyped-def]
    groups = match.groups()
    start, end = _seconds(groups[:4]), _seconds(groups[4:])
    text = "\n".join(t.strip() for t in text_lines)
    if not text:
        bad(line, "the cue has no text — remove it or add the words")
        return None
    junk = [c for c in text if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs", "Co") or c in _BIDI_CONTROLS)]
    if junk:
        bad(line, f"the cue contains control characters ({', '.join(f'U+{ord(c):04X}' for c in dict.fromkeys(junk))}) — "
                  "remove them (they are invisible or reorder the text)")
        return None
    if _OVERRIDE.search(text):
        bad(line, "the cue contains `{\\…}` styling codes that move or draw on the picture — remove them; the brand style is applied for you")
        return None
    if len(text) > MAX_CUE_CHARS:
        bad(line, f"the cue is {len(text)} characters long; a subtitle is at most {MAX_CUE_CHARS} — split it into shorter cues")
        return None
    return Cue(start, end, text, line)


def _check_timeline(cues: list[Cue], clip_seconds: float | None, bad) -> None:  # type: ignore[no-untyped-def]
    previous: Cue | None = None
    for cue in cues:
        if cue.end <= cue.start:
            bad(cue.line, f"the cue ends ({_stamp(cue.end)}) before it starts ({_stamp(cue.start)}) — swap or correct the times")
        elif previous is not None and cue.start < previous.start:
            bad(cue.line, f"the cue starts at {_stamp(cue.start)}, before the cue of line {previous.line} ({_stamp(previous.start)}) — "
                          "put the cues in time order")
        elif previous is not None and cue.start < previous.end:
            bad(cue.line, f"the cue starts at {_stamp(cue.start)} while the cue of line {previous.line} is still on screen "
                          f"(until {_stamp(previous.end)}) — end the earlier cue first")
        if clip_seconds is not None and cue.start >= clip_seconds:
            bad(cue.line, f"the cue starts at {_stamp(cue.start)}, after the clip ends ({clip_seconds:.1f} s) — "
                          "these subtitles belong to another clip or another cut")
        if cue.end > cue.start:
            previous = cue
