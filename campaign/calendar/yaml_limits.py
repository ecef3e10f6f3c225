"""Bounds a calendar's YAML must stay within before it is built into Python objects.

A hostile or careless file can make a YAML loader use unbounded memory or recursion: an
alias bomb (`b: [*a, *a, ...]` nine levels deep is a billion nodes once expanded), or a few
hundred nested brackets (a RecursionError in the composer). These checks read ruamel's
event stream, which is flat (no recursion, aliases not expanded), as the loader's own parse
takes it (`limited_parser`), and stop it with the line of the first thing that goes too far. The limits are far above
any real calendar (the sample: 11 KB, depth 6, no aliases).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.parser import RoundTripParser
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


def size_problem(text: str, shown: str) -> Problem | None:
    """The size bound, checked before anything is parsed."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return Problem(shown, 1, "", f"the calendar is {size // 1_000_000} MB, more than the {MAX_BYTES // 1_000_000} MB a "
                                     "calendar may be — is this the right file? Split media lists or old moments out")
    return None


class EventLimits:
    """The bounds of the event stream, checked one event at a time, in the order the parser gives them."""

    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.depth, self.aliases, self.nodes = 0, 0, 0
        self.sizes: dict[str, int] = {}  # anchor -> nodes it expands to
        self.open: list[tuple[str | None, int]] = []  # (anchor, node count when the collection started)

    def feed(self, event: Any) -> Problem | None:
        """The first bound this event breaks (None: within all so far)."""
        shown = self.shown
        line = event.start_mark.line + 1 if event.start_mark else None
        tag = getattr(event, "tag", None)
        if tag and str(tag) not in PLAIN_TAGS:
            return Problem(shown, line, "", f"YAML tag `{str(tag).replace('tag:yaml.org,2002:', '!!')}` is not allowed in a calendar — remove it; "
                                            "write plain text, numbers, dates, lists and mappings")
        if isinstance(event, AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                return Problem(shown, line, "", f"more than {MAX_ALIASES} aliases (*name) — write the values out; "
                                                "a calendar does not need that many references")
            self.nodes += self.sizes.get(event.anchor or "", 1)
        elif isinstance(event, CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                return Problem(shown, line, "", f"nested more than {MAX_DEPTH} levels deep — check the brackets and "
                                                "indentation here; a calendar never nests that deep")
            self.open.append((event.anchor, self.nodes))
            self.nodes += 1
        elif isinstance(event, CollectionEndEvent):
            self.depth -= 1
            anchor, started = self.open.pop() if self.open else (None, self.nodes)
            if anchor:
                self.sizes[anchor] = self.nodes - started
        elif isinstance(event, ScalarEvent):
            self.nodes += 1
            if event.anchor:
                self.sizes[event.anchor] = 1
        if self.nodes > MAX_NODES:
            return Problem(shown, line, "", f"this file expands to more than {MAX_NODES:,} values (aliases repeated "
                                            "inside aliases?) — write the values out without nested *references")
        return None


class LimitBroken(Exception):
    """Raised by `limited_parser`'s parser at the first event past a bound: the load stops there."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def limited_parser(shown: str) -> type[RoundTripParser]:
    """A round-trip parser class that checks every event against the bounds as the loader takes it.

    One pass instead of two: the composer takes each event once, and takes a collection's start
    before it goes one level deeper, so the load stops (LimitBroken) before an alias bomb is counted
    out or a deep nesting recurses, exactly where a separate scan of the events before loading would have stopped. On a
    calendar of 5,000 posts this saves a whole parse (about 2 s of the load's 5 s).
    """
    limits = EventLimits(shown)

    class LimitedParser(RoundTripParser):
        def get_event(self) -> Any:
            event = super().get_event()
            problem = limits.feed(event)
            if problem is not None:
                raise LimitBroken(problem)
            return event

    return LimitedParser


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

