"""Captions from Jinja2 templates, rendered so that a mistake is an error a manager can fix.

Templates live in ``<calendar folder>/<templates>/captions/``; ``<name>.<lang>.j2`` wins over
the shared ``<name>.j2`` (the rule `campaign.calendar.references.template_candidates` also
checks at validation). The environment is sandboxed (a template cannot reach Python
internals) and undefined variables raise: a typo must never post "Hello ," to a million people.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from jinja2 import StrictUndefined

from campaign.calendar.references import template_candidates
from campaign.errors import TemplateError
from scheduler.plan.template_errors import reported_as
from scheduler.plan.template_limits import BoundedSandbox, ConfinedLoader, render_bounded

CAPTION_VARIABLES = ("speaker", "country", "quote", "baseline", "tagline", "title", "hashtags", "link",
                     "quote_open", "quote_close", "separator")


class CaptionRenderer:
    """Renders caption templates of one templates folder; compiled templates are cached."""

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = templates_dir
        self.captions_dir = templates_dir / "captions"
        self.env = BoundedSandbox(
            loader=ConfinedLoader(str(self.captions_dir)),
            undefined=StrictUndefined,
            autoescape=False,  # captions are plain text, not HTML
            keep_trailing_newline=False,
            trim_blocks=False,
        )
        self._rendered: dict[tuple[Any, ...], str] = {}  # (file, its version, variables) -> caption

    def template_file(self, name: str, language: str) -> Path:
        """The file used for `name` in `language`: the per-language one if it exists."""
        for candidate in template_candidates(self.templates_dir, name, language):
            if candidate.is_file():
                return candidate
        tried = " or ".join(str(c) for c in template_candidates(self.templates_dir, name, language))
        raise TemplateError(f"no caption template `{name}` for `{language}` — create {tried}")

    def render(self, name: str, language: str, variables: dict[str, Any]) -> str:
        """The caption text, stripped of leading/trailing blank space; raises `TemplateError`.

        A template is a function of its variables (the planner relies on it: the preview, the
        store and the platform get the same text), so the same file with the same variables is
        rendered once: a campaign of 5,000 posts has a few dozen distinct captions, and each
        bounded render costs about a millisecond.
        """
        path = self.template_file(name, language)
        key = _memo_key(path, variables)
        if key is not None and key in self._rendered:
            return self._rendered[key]
        shown = self._shown(path)
        with reported_as(shown, str(path), variables=CAPTION_VARIABLES, folder=str(self.captions_dir)):
            text = _tidy(render_bounded(self.env.get_template(path.name), variables))
        if key is not None:
            if len(self._rendered) >= MEMO_SIZE:
                self._rendered.clear()
            self._rendered[key] = text
        return text

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.templates_dir.parent))
        except ValueError:
            return str(path)


MEMO_SIZE = 10_000  # captions kept per renderer (a long-lived console starts over past this)


def _memo_key(path: Path, variables: dict[str, Any]) -> tuple[Any, ...] | None:
    """What a caption depends on: the file as it is now (an edited template renders anew) and the
    variables; None when a value cannot be a key (then it is rendered every time)."""
    try:
        status = path.stat()
        values = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in variables.items()))
        key = (str(path), status.st_mtime_ns, status.st_size, values)
        hash(key)
    except (OSError, TypeError):
        return None
    return key


def _tidy(text: str) -> str:
    """No trailing spaces on lines, at most one blank line in a row, no blank start or end."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy)


def with_hashtags(caption: str, hashtags: Iterable[str]) -> str:
    """The caption with the moment's hashtags it does not carry yet appended (a template may
    leave them out): the planner checks, previews and stores exactly the text that is sent."""
    missing = [f"#{tag}" for tag in hashtags if not re.search(rf"#{re.escape(tag)}(?!\w)", caption, re.IGNORECASE)]
    return caption if not missing else f"{caption.rstrip()}\n\n{' '.join(missing)}"
