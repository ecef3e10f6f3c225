"""`validate`'s look at the templates: render every caption the plan will need, with the very
variables each post will have, so a broken template is found before a post is due.

It plans the whole calendar with a renderer that records each failure instead of stopping
at the first, and reads every template file for invisible bidi controls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from campaign.calendar import LoadedCalendar
from campaign.calendar.yaml_limits import bidi_problems
from campaign.errors import TemplateError
from scheduler.plan.captions import CaptionRenderer
from scheduler.plan.planner import plan_posts


class _CollectingRenderer(CaptionRenderer):
    """Renders like the planner's, but notes each distinct failure and goes on."""

    def __init__(self, templates_dir: Path) -> None:
        super().__init__(templates_dir)
        self.problems: dict[str, None] = {}  # ordered set of messages
        self.rendered = 0

    def render(self, name: str, language: str, variables: dict[str, Any]) -> str:
        try:
            text = super().render(name, language, variables)
        except TemplateError as error:
            self.problems.setdefault(str(error))
            return ""
        self.rendered += 1
        return text


def template_problems(loaded: LoadedCalendar) -> tuple[list[str], int]:
    """Every template problem (`file:LINE: what — fix`) and how many captions rendered fine."""
    problems, rendered, _plan = checked_plan(loaded)
    return problems, rendered


def checked_plan(loaded: LoadedCalendar, *, build_dir: Path = Path("build"), today: Any = None) -> tuple[list[str], int, Any]:
    """`template_problems`, and the plan it made on the way: without problems it is the plan
    `plan_posts` gives (a calendar edit checks and plans once, not twice)."""
    templates_dir = loaded.root / loaded.calendar.templates
    problems: list[str] = []
    for path in sorted(templates_dir.rglob("*.j2")) if templates_dir.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(f"{_shown(path, loaded.root)}:1: cannot read the template ({error}) — save it as UTF-8 text")
            continue
        problems += [str(p) for p in bidi_problems(text, _shown(path, loaded.root))]
    renderer = _CollectingRenderer(templates_dir)
    plan = plan_posts(loaded, captions=renderer, build_dir=build_dir, today=today)
    return problems + list(renderer.problems), renderer.rendered, plan


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
