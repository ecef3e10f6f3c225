"""What `plan` and the preview say about subtitles: per clip and language, approved / draft / missing.

Read from the inbox, the truth for files (`assets.speech.drafts`): a post whose clip's subtitles
in its language are not approved waits (the render refuses to burn in a draft, and the daemon
holds the post with that reason).
"""

from __future__ import annotations

from pathlib import Path

from assets.speech.drafts import APPROVED, SubtitleState, subtitle_states
from campaign.calendar.models import Calendar


def states(calendar: Calendar, inbox: Path | None) -> list[SubtitleState]:
    if inbox is None or not inbox.is_dir():
        return []
    return subtitle_states(calendar, inbox)


def summary_lines(calendar: Calendar, inbox: Path | None) -> list[str]:
    """One line per clip: `james-carter: subtitles en approved, nl draft (posts in nl wait)`."""
    by_clip: dict[str, list[SubtitleState]] = {}
    for state in states(calendar, inbox):
        by_clip.setdefault(state.testimonial_id, []).append(state)
    lines = []
    for clip, found in by_clip.items():
        waiting = [s.language for s in found if s.state != APPROVED]
        note = f" (posts in {', '.join(waiting)} wait for approved subtitles)" if waiting else ""
        lines.append(f"{clip}: " + ", ".join(f"{s.language} subtitles: {s.state}" for s in found) + note)
    return lines
