"""Subtitle drafts beside the clip in the inbox, and the state of each clip's subtitles per language.

A draft is `<clip stem>.<lang>.draft.srt`; it is never burned in (the pipeline only reads the
file the calendar names under `subtitles:`). The state a person sees, per clip and language:
- approved: the calendar's subtitle file is in the inbox (a designer dropped it, which needs no
  approval, or an approval wrote it);
- draft: only the draft is there, waiting for a person;
- missing: neither.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from assets.needs import required_renders
from assets.subtitles import Cue, to_srt
from campaign.calendar.models import Calendar, Testimonial

APPROVED, DRAFT, MISSING = "approved", "draft", "missing"


@dataclass(frozen=True)
class SubtitleState:
    testimonial_id: str
    language: str
    state: str  # approved | draft | missing
    file: str | None  # the calendar's subtitle file name for the language
    draft: str  # the draft's file name

    @property
    def label(self) -> str:
        return f"subtitles: {self.state}"


def draft_name(clip: str, language: str) -> str:
    return f"{Path(clip).stem}.{language}.draft.srt"


def clip_languages(calendar: Calendar, testimonial: Testimonial) -> list[str]:
    """The languages the calendar posts this testimonial's clip in, the spoken one first."""
    found = {job.language for job in required_renders(calendar) if job.kind == "clip" and job.testimonial_id == testimonial.id}
    return sorted(found, key=lambda lang: (lang != testimonial.spoken_language, lang))


def subtitle_state(inbox: Path, testimonial: Testimonial, language: str) -> SubtitleState:
    assert testimonial.clip
    name = testimonial.subtitles.get(language)
    draft = draft_name(testimonial.clip, language)
    if name and (inbox / name).is_file():
        state = APPROVED
    elif (inbox / draft).is_file():
        state = DRAFT
    else:
        state = MISSING
    return SubtitleState(testimonial.id, language, state, name, draft)


def subtitle_states(calendar: Calendar, inbox: Path) -> list[SubtitleState]:
    """Every clip the calendar posts, in every language it posts it in."""
    return [subtitle_state(inbox, t, lang) for t in calendar.testimonials if t.clip for lang in clip_languages(calendar, t)]


def write_srt(path: Path, cues: list[Cue] | tuple[Cue, ...]) -> None:
    """Atomically: the inbox watcher must never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(to_srt(cues))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Draft:
    path: Path
    language: str
    cues: tuple[Cue, ...]
    machine_translation: bool  # Whisper's translate task: English from another spoken language
    transcript_text: str


def make_draft(inbox: Path, testimonial: Testimonial, *, translate: bool = False,
               model_dir: str | Path | None = None) -> Draft:
    """Transcribe the clip in the inbox (or translate its speech to English) and write the draft beside it."""
    # the speech path loads numpy (0.15 s, measured) and the model: imported only when a draft is made
    from assets.probe import probe
    from assets.speech.cues import cut_cues
    from assets.speech.styleguide import rules_for
    from assets.speech.transcribe import transcribe
    from campaign.errors import AssetError

    if not testimonial.clip:
        raise AssetError(f"{testimonial.id} has no clip: — only clips get subtitles")
    clip = inbox / testimonial.clip
    if not clip.is_file():
        raise AssetError(f"{clip} is not in the inbox — drop the clip there first")
    task = "translate" if translate and testimonial.spoken_language != "en" else "transcribe"
    transcript = transcribe(clip, testimonial.spoken_language, task=task, model_dir=model_dir)
    fps = probe(clip, decode_first_frame=False).fps or 24.0
    cues = tuple(cut_cues(transcript, rules_for(transcript.language), fps=fps))
    if not cues:
        raise AssetError(f"{clip.name}: no speech was recognised — check the sound track, or drop the subtitles as SRT")
    path = inbox / draft_name(testimonial.clip, transcript.language)
    write_srt(path, cues)
    return Draft(path, transcript.language, cues, task == "translate", transcript.text)
