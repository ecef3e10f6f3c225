"""Import a web analytics export (Matomo or GA4, as CSV) of sessions per UTM campaign, source and
content, so link clicks the platforms do not report are counted where they land: on the site.

Column names are matched the way each tool writes them (GA4 "Session campaign", "Session manual ad
content"; Matomo "Campaign Name", "Visits"; or the plain utm_* names). Every problem names its line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from campaign.errors import CampaignError, Problem

ALIASES = {
    "campaign": ("utm_campaign", "campaign", "campaign name", "session campaign", "session manual campaign name",
                 "manual campaign name", "first user campaign", "first user manual campaign name"),
    "source": ("utm_source", "source", "campaign source", "session source", "session manual source", "manual source",
               "first user source", "first user manual source"),
    "content": ("utm_content", "content", "campaign content", "session manual ad content", "manual ad content",
                "first user manual ad content", "ad content"),
    "sessions": ("sessions", "visits", "nb_visits", "entrances"),
}


@dataclass
class AnalyticsFileError(CampaignError):
    """The export cannot be imported; `problems` lists each line at fault with the fix."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def _normal(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().strip("\ufeff").lower())


def _count(text: str) -> int | None:
    cleaned = re.sub(r"[\s,\u00a0\u202f']", "", text)
    if cleaned.endswith(".0"):
        cleaned = cleaned[:-2]
    return int(cleaned) if cleaned.isdigit() else None


def read_export(path: Path) -> list[tuple[str, str, str, int]]:
    """(utm_campaign, utm_source, utm_content, sessions) per row of a Matomo or GA4 CSV export."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise AnalyticsFileError([Problem(name, None, "", f"cannot read the file: {error.strerror} — check the path")]) from None
    except UnicodeDecodeError:
        raise AnalyticsFileError([Problem(name, 1, "", "the file is not UTF-8 text — export it again as CSV (UTF-8)")]) from None
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        raise AnalyticsFileError([Problem(name, 1, "", "the file has no header row — export the report as CSV with its header")])
    delimiter = ";" if lines[first].count(";") > lines[first].count(",") else ","
    reader = csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delimiter)
    header = [_normal(h) for h in next(reader)]
    columns: dict[str, int] = {}
    problems: list[Problem] = []
    for key, names in ALIASES.items():
        index = next((header.index(_normal(n)) for n in names if _normal(n) in header), None)
        if index is None:
            problems.append(Problem(name, first + 1, "header", f"no {key} column (looked for {', '.join(names[:3])}, …) — "
                                    f"add the UTM {key} dimension to the report before exporting"))
        else:
            columns[key] = index
    if problems:
        raise AnalyticsFileError(problems)
    rows: list[tuple[str, str, str, int]] = []
    for offset, record in enumerate(reader, start=first + 2):
        if not record or all(not cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        if len(record) <= max(columns.values()):
            problems.append(Problem(name, offset, "", f"{len(record)} columns where the header has {len(header)} — "
                                    "the row is cut; export the report again"))
            continue
        sessions = _count(record[columns["sessions"]])
        if sessions is None:
            problems.append(Problem(name, offset, "sessions", f"{record[columns['sessions']]!r} is not a whole number of sessions"))
            continue
        campaign, source, content = (record[columns[k]].strip() for k in ("campaign", "source", "content"))
        if campaign.lower() in ("(not set)", "(direct)", "") or source.lower() == "(direct)":
            continue  # traffic that came without the campaign's tags
        rows.append((campaign, source.lower(), content, sessions))
    if problems:
        raise AnalyticsFileError(problems)
    return rows
