"""Bounds a calendar's YAML must stay within before it is built into Python objects.

A hostile or careless file can make a YAML loader use unbounded memory or recursion: an
alias bomb (`b: [*a, *a, ...]` nine levels deep is a billion nodes once expanded), or a few
hundred nested brackets (a RecursionError in the composer). These checks read ruamel's
event stream, which is flat (no recursion, aliases not expanded), so they answer in
milliseconds with the line of the first thing that goes too far. The limits are far above
any real calendar (the sample: 11 KB, depth 6, no aliases).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

from campaign.errors import Problem

MAX_BYTES = 2_000_000  # a year of a busy campaign is well under 100 KB
MAX_DEPTH = 32  # the sample calendar nests 6 deep
MAX_ALIASES = 200  # `*name` references; the sample uses none
MAX_NODES = 200_000  # keys, values and items once every alias is expanded

#: Explicit tags a calendar may carry: YAML's own types. Anything else (`!!python/object`,
#: `!custom`) asks a loader to build something a calendar never needs.
PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                       ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "binary"))

#: Unicode controls that reorder the text around them ("Trojan Source", CVE-2021-42574):
#: embeddings, overrides and isolates. A name or quote holding one is stamped and posted in
#: an order the manager did not write. (LRM/RLM marks do not reorder and stay allowed.)
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def yaml_limit_problem(text: str, shown: str) -> Problem | None:
    """The first bound the text breaks, as a `file:LINE:` problem; None when it is within all."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return Problem(shown, 1, "", f"the calendar is {size // 1_000_000} MB, more than the {MAX_BYTES // 1_000_000} MB a "
                                     "calendar may be — is this the right file? Split media lists or old moments out")
    depth, aliases, nodes = 0, 0, 0
    sizes: dict[str, int] = {}  # anchor -> nodes it expands to
    open_: list[tuple[str | None, int]] = []  # (anchor, node count when the collection started)
    try:
        for event in _events(text):
            line = event.start_mark.line + 1 if event.start_mark else None
            tag = getattr(event, "tag", None)
            if tag and str(tag) not in PLAIN_TAGS:
                return Problem(shown, line, "", f"YAML tag `{str(tag).replace('tag:yaml.org,2002:', '!!')}` is not allowed in a calendar — remove it; "
                                                "write plain text, numbers, dates, lists and mappings")
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    return Problem(shown, line, "", f"more than {MAX_ALIASES} aliases (*name) — write the values out; "
                                                    "a calendar does not need that many references")
                nodes += sizes.get(event.anchor or "", 1)
            elif isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return Problem(shown, line, "", f"nested more than {MAX_DEPTH} levels deep — check the brackets and "
                                                    "indentation here; a calendar never nests that deep")
                open_.append((event.anchor, nodes))
                nodes += 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
                anchor, started = open_.pop() if open_ else (None, nodes)
                if anchor:
                    sizes[anchor] = nodes - started
            elif isinstance(event, ScalarEvent):
                nodes += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            if nodes > MAX_NODES:
                return Problem(shown, line, "", f"this file expands to more than {MAX_NODES:,} values (aliases repeated "
                                                "inside aliases?) — write the values out without nested *references")
    except YAMLError:
        return None  # a syntax error: the real parser reports it with its line
    return None


def bidi_problems(text: str, shown: str) -> list[Problem]:
    """Every line holding a bidirectional control character, with the character named."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = sorted({c for c in line if c in BIDI_CONTROLS})
        if found:
            names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in found)
            problems.append(Problem(shown, number, "", f"invisible text-direction control ({names}) — it reorders the "
                                                       "text when stamped or posted; delete it (retype the line if unsure); "
                                                       "Arabic and other right-to-left text needs no controls"))
    return problems


def _events(text: str) -> Iterator[Any]:
    yaml = YAML(typ="rt")
    for event in yaml.parse(text):
        yield event


#: What YAML 1.1 reads as a date (ruamel's timestamp rule): a plain scalar starting YYYY-MM-DD.
_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:$|[Tt ]|\s)")


def impossible_dates(text: str, shown: str) -> list[Problem]:
    """Unquoted dates no calendar has (2027-06-31, 2027-13-01, 2027-02-29), each with its line:
    YAML's loader turns them into a ValueError with no line at all."""
    problems = []
    for event in _events(text):
        if not isinstance(event, ScalarEvent) or event.style or not (match := _DATE.match(event.value)):
            continue
        year, month, day = (int(part) for part in match.groups())
        try:
            dt.date(year, month, day)
        except ValueError:
            line = event.start_mark.line + 1 if event.start_mark else None
            if not 1 <= month <= 12:
                why = f"there is no month {month}"
            elif month == 2 and day == 29:
                why = f"{year} is not a leap year: February has 28 days"
            else:
                last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
                why = f"{dt.date(year, month, 1):%B} has {last} days"
            problems.append(Problem(shown, line, "", f"{event.value} is not a date ({why}) — write a day that exists, "
                                                     "as YYYY-MM-DD"))
    return problems

