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

    def template_file(self, name: str, language: str) -> Path:
        """The file used for `name` in `language`: the per-language one if it exists."""
        for candidate in template_candidates(self.templates_dir, name, language):
            if candidate.is_file():
                return candidate
        tried = " or ".join(str(c) for c in template_candidates(self.templates_dir, name, language))
        raise TemplateError(f"no caption template `{name}` for `{language}` — create {tried}")

    def render(self, name: str, language: str, variables: dict[str, Any]) -> str:
        """The caption text, stripped of leading/trailing blank space; raises `TemplateError`."""
        path = self.template_file(name, language)
        shown = self._shown(path)
        with reported_as(shown, str(path), variables=CAPTION_VARIABLES, folder=str(self.captions_dir)):
            text = render_bounded(self.env.get_template(path.name), variables)
        return _tidy(text)

    def _shown(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.templates_dir.parent))
        except ValueError:
            return str(path)


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
