"""The few named errors of the tool. Each message says what is wrong and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field


class CampaignError(Exception):
    """Base of every error the tool reports to a person instead of a traceback."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in a file, at a line, with a fix."""

    file: str
    line: int | None
    where: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        line = self.line if self.line is not None else 1
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{line}:{where} {self.message}"


@dataclass
class CalendarError(CampaignError):
    """The calendar cannot be used; `problems` lists every error found, not only the first."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class TemplateError(CampaignError):
    """A caption template is missing, broken or uses a variable that does not exist."""


class AssetError(CampaignError):
    """A source file cannot be rendered; the message says why and what to do."""
