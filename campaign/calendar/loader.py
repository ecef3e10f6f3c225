"""Load `calendar.yaml` and report every problem at once as `file:line: where: what — fix`.

ruamel.yaml keeps the line of every key and list item, so a problem found by pydantic
(a path like ``channels.2.timezone``) or by the whole-file checks can be pointed at the
line a manager has to edit. Nothing in here lets a traceback reach the user for a bad
calendar: every failure becomes a `Problem` inside a `CalendarError`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scanner import Scanner
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from campaign.calendar import models
from campaign.calendar.models import Calendar
from campaign.calendar.references import check_references
from campaign.calendar.yaml_limits import MAX_BYTES, LimitBroken, bidi_problems, impossible_dates, limited_parser, size_problem
from campaign.errors import CalendarError, Problem
from campaign.secrets import configured_secrets, token_findings

Path_ = tuple[str | int, ...]

SECRET_KEY = re.compile(
    r"(token|passw(or)?d|secret|api[_-]?key|access[_-]?key|private[_-]?key|bearer|credential|app[_-]?password)",
    re.IGNORECASE,
)
SECRET_VALUE = re.compile(
    r"^(Bearer\s+\S+|eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+|EAA[A-Za-z0-9]{30,}|ghp_\w{20,}|xox[abp]-\S+|sk-[A-Za-z0-9]{20,})$"
)
WHERE_CREDENTIALS_GO = (
    "credentials never live in the calendar: put them in the environment variable "
    "CAMPAIGN_<CHANNEL_ID>_<NAME> or in the secrets file ~/.config/embracing-openness/secrets.toml "
    "(see README, 'Credentials')"
)


@dataclass
class LoadedCalendar:
    """A calendar that passed every check, with where it came from and its warnings."""

    calendar: Calendar
    path: Path
    warnings: list[Problem] = field(default_factory=list)
    lines: dict[Path_, int] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """Folder that relative paths in the calendar (logo, fonts, templates) are taken from."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.root / relative).resolve()


def load_calendar(path: str | Path, today: dt.date | None = None, *, text: str | None = None) -> LoadedCalendar:
    """Load and check a calendar; raise `CalendarError` listing every problem found.

    `text`: check this content as if it were the file at `path` (same messages, same folder for
    brand files and templates): how an edit is checked before it is written.
    """
    path = Path(path)
    shown = path.name if path.parent == Path(".") else str(path)
    raw = _read(path, shown) if text is None else _checked_text(text, shown)
    bound = size_problem(raw, shown)  # the other bounds are checked while parsing (limited_parser)
    if bound is not None:
        raise CalendarError([bound])
    data, lines = _parse(raw, shown)
    problems = bidi_problems(raw, shown) + list(_secrets(data, data, lines, shown))
    secret_paths = {p.where for p in problems}
    try:
        calendar = Calendar.model_validate(data)
    except ValidationError as error:
        problems += [p for p in (_from_pydantic(e, data, lines, shown) for e in error.errors()) if p.where not in secret_paths]
        calendar = _valid_part(data)
    found = check_references(calendar, path.parent, today or dt.date.today(), partial=bool(problems)) if calendar else []
    if calendar is not None and problems:
        # Only part of the file was valid: drop reference errors that name an id whose entry was broken.
        broken = _broken_ids(data, calendar)
        found = [p for p in found if not any(f"`{name}`" in p.message for name in broken)]
    errors = problems + [_located(p, data, lines, shown) for p in found if p.severity == "error"]
    warnings = [_located(p, data, lines, shown) for p in found if p.severity == "warning"]
    if errors:
        raise CalendarError(_sorted(errors), _sorted(warnings))
    assert calendar is not None
    return LoadedCalendar(calendar, path, _sorted(warnings), lines)


def _valid_part(data: Any) -> Calendar | None:
    """The valid entries of a calendar that failed validation, so whole-file checks still run.

    Every problem is reported at once: a typo in one channel must not hide an unknown
    testimonial in a moment. Returns None when the campaign or brand section itself is broken.
    """
    if not isinstance(data, dict):
        return None
    parts: dict[str, Any] = {}
    for name, info in Calendar.model_fields.items():
        value = data.get(name)
        if value is None:
            parts[name] = info.get_default()
            continue
        item_type = info.annotation
        is_list = name in ("channels", "testimonials", "moments", "blackouts")
        if is_list:
            item_type = info.annotation.__args__[0]  # type: ignore[union-attr]
            good = []
            for item in value if isinstance(value, list) else []:
                try:
                    good.append(item_type.model_validate(item))
                except ValidationError:
                    pass
            parts[name] = good
        elif name in ("campaign", "brand"):
            try:
                parts[name] = item_type.model_validate(value)  # type: ignore[union-attr]
            except ValidationError:
                if name == "campaign":
                    return None
                parts[name] = None  # brand checks are skipped, the rest still run
        else:
            parts[name] = value if isinstance(value, str) else info.get_default()
    return Calendar.model_construct(**parts)


def _broken_ids(data: dict[str, Any], calendar: Calendar) -> set[str]:
    broken: set[str] = set()
    for section in ("channels", "testimonials", "moments"):
        valid = {item.id for item in getattr(calendar, section)}
        for item in data.get(section) or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"] not in valid:
                broken.add(item["id"])
    return broken


def _read(path: Path, shown: str) -> str:
    if path.exists() and not path.is_dir() and not path.is_file():  # a FIFO or a device (/dev/zero) never ends
        raise CalendarError([Problem(shown, None, "", "this is not a regular file (a pipe or a device?) — pass the path of calendar.yaml")])
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # never more than the bound, whatever the file claims
        if len(data) > MAX_BYTES:
            raise CalendarError([Problem(shown, 1, "", f"the calendar is larger than the {MAX_BYTES // 1_000_000} MB a calendar "
                                                       "may be — is this the right file?")])
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise CalendarError(
            [Problem(shown, None, "", "the calendar file does not exist — create it (copy the sample calendar.yaml) or pass --calendar PATH")]
        ) from None
    except IsADirectoryError:
        raise CalendarError([Problem(shown, None, "", "this is a folder, not a calendar file — pass the path of calendar.yaml")]) from None
    except PermissionError:
        raise CalendarError([Problem(shown, None, "", "the calendar cannot be read (permission denied) — give this user read access to it")]) from None
    except UnicodeDecodeError as error:
        raise CalendarError(
            [Problem(shown, None, "", f"the file is not UTF-8 text ({error.reason}) — save it as UTF-8")]
        ) from None
    return _checked_text(text, shown)


def _checked_text(text: str, shown: str) -> str:
    if not text.strip() or all(line.lstrip().startswith("#") or not line.strip() for line in text.splitlines()):
        raise CalendarError(
            [Problem(shown, 1, "", "the calendar is empty — add the sections campaign, brand, channels, testimonials and moments (see the sample calendar.yaml)")]
        )
    return text


def _parse(text: str, shown: str) -> tuple[Any, dict[Path_, int]]:
    yaml = YAML(typ="rt")
    yaml.Parser = limited_parser(shown)  # the bounds of yaml_limits, event by event, in this one parse
    # The plain scanner: the round-trip one gathers every comment, which a load never reads (the
    # writer keeps them with its own parse); a third of the parse on a large calendar. Same values,
    # same lines (CommentedMap.lc comes from the nodes' marks), same syntax errors.
    yaml.Scanner = Scanner
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except LimitBroken as broken:
        raise CalendarError([broken.problem]) from None
    except ValueError:  # an impossible date (2027-06-31): ruamel's date() fails without a line
        problems = impossible_dates(text, shown)
        if not problems:
            raise
        raise CalendarError(problems) from None
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        what = (error.problem or str(error)).strip()
        if "duplicate key" in what or "found duplicate key" in str(error):
            what = "a key is written twice in the same block"
            fix = "keep one of them"
        else:
            fix = "check indentation, colons and quotes on this line or the one above (quote text that contains ': ' or '#')"
        raise CalendarError([Problem(shown, line, "", f"YAML syntax error: {what} — {fix}")]) from None
    except YAMLError as error:
        raise CalendarError([Problem(shown, None, "", f"YAML syntax error: {error} — fix the file's syntax")]) from None
    if not isinstance(tree, CommentedMap):
        raise CalendarError(
            [Problem(shown, 1, "", "the calendar must be a mapping of sections (campaign:, brand:, channels:, ...) — start each section at the left margin")]
        )
    lines: dict[Path_, int] = {}
    return _plain(tree, (), lines), lines


def _plain(node: Any, path: Path_, lines: dict[Path_, int]) -> Any:
    """Turn ruamel's nodes into plain Python data, noting the line of every key and item."""
    if isinstance(node, CommentedMap):
        result = {}
        for key in node:
            line, _column = node.lc.key(key)
            lines[path + (str(key),)] = line + 1
            result[str(key)] = _plain(node[key], path + (str(key),), lines)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, item in enumerate(node):
            line, _column = node.lc.item(index)
            lines[path + (index,)] = line + 1
            items.append(_plain(item, path + (index,), lines))
        return items
    if isinstance(node, dt.datetime | dt.date):
        return node
    if isinstance(node, str):
        return str(node)
    return node


def _line_of(path: Path_, lines: dict[Path_, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _where(path: Iterable[str | int], data: Any) -> str:
    """`channels[embassy-tokyo].timezone`: list items named by their id when they have one."""
    text, node = "", data
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = item.get("id") if isinstance(item, dict) else None
            text += f"[{name}]" if isinstance(name, str) and name else f"[{part}]"
            node = item
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text


def _secrets(root: Any, node: Any, lines: dict[Path_, int], shown: str, path: Path_ = (),
             configured: tuple[str, ...] | None = None) -> Iterable[Problem]:
    """Secrets never live in the calendar: flag keys named like them and values shaped like tokens.

    `configured`: the configured secrets, read once for the whole walk (reading them looks at every
    environment variable: seconds over the thousands of values of a large calendar)."""
    if configured is None:
        configured = configured_secrets()
    if isinstance(node, dict):
        for key, value in node.items():
            here = path + (key,)
            if SECRET_KEY.search(key):
                yield Problem(shown, _line_of(here, lines), _where(here, root),
                              f"`{key}` looks like a secret — remove it; {WHERE_CREDENTIALS_GO}")
            else:
                yield from _secrets(root, value, lines, shown, here, configured)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _secrets(root, item, lines, shown, path + (index,), configured)
    elif isinstance(node, str) and SECRET_VALUE.match(node.strip()):
        yield Problem(shown, _line_of(path, lines), _where(path, root),
                      f"this value looks like an access token — remove it; {WHERE_CREDENTIALS_GO}")
    elif isinstance(node, str) and (found := token_findings(node, configured)):
        yield Problem(shown, _line_of(path, lines), _where(path, root),
                      f"this text holds {' and '.join(found)} — remove it (links work without it); {WHERE_CREDENTIALS_GO}")


_HINTS = {
    "missing": "add it",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD, e.g. 2027-06-01",
    "date_parsing": "write dates as YYYY-MM-DD, e.g. 2027-06-01",
    "date_type": "write dates as YYYY-MM-DD, e.g. 2027-06-01",
    "datetime_parsing": "write times as YYYY-MM-DD HH:MM, e.g. 2027-05-26 00:00",
    "datetime_type": "write times as YYYY-MM-DD HH:MM, e.g. 2027-05-26 00:00",
    "datetime_from_date_parsing": "write times as YYYY-MM-DD HH:MM, e.g. 2027-05-26 00:00",
    "string_pattern_mismatch": "ids use lower-case letters, digits and dashes (e.g. embassy-tokyo); hashtags have no '#' or spaces; links start with https://",
    "literal_error": "use one of the values listed",
    "enum": "use one of the values listed",
    "list_type": "write a list, one `- item` per line or [a, b]",
    "dict_type": "write a mapping of `key: value` lines",
    "model_type": "write a mapping of `key: value` lines",
    "too_short": "add at least one entry",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "bool_type": "write true or false",
    "bool_parsing": "write true or false",
    "string_type": "write text (quote it if it looks like a number or a date)",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
    "float_parsing": "write a number",
}


def _from_pydantic(error: dict[str, Any], data: Any, lines: dict[Path_, int], shown: str) -> Problem:
    loc = tuple(part for part in error["loc"] if part != "[key]")
    # pydantic names the member of a union it tried (e.g. "list[...]"); a manager does not care.
    loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1], data)
        guess = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean `{guess[0]}`?" if guess else f"known keys here: {', '.join(known)}" if known else "remove it"
        message = f"unknown key `{loc[-1]}` — {hint}"
    elif kind == "missing":
        message = f"`{loc[-1]}` is missing — add it"
    elif "—" not in message:
        hint = _HINTS.get(kind)
        if kind in ("literal_error", "enum"):
            hint = None
        message = f"{message[0].lower()}{message[1:]}" + (f" — {hint}" if hint else "")
    return Problem(shown, _line_of(loc, lines), _where(loc, data), message)


def _known_keys(model_path: Path_, data: Any) -> list[str]:
    node: type[BaseModel] | None = Calendar
    for part in model_path:
        if node is None or isinstance(part, int):
            continue
        annotation = node.model_fields.get(str(part))
        node = None
        if annotation is not None:
            for candidate in vars(models).values():
                if isinstance(candidate, type) and issubclass(candidate, BaseModel) and candidate.__name__ in str(annotation.annotation):
                    node = candidate
                    break
    return sorted(node.model_fields) if node is not None else []


def _located(problem: Problem, data: Any, lines: dict[Path_, int], shown: str) -> Problem:
    """Reference checks name a path; turn it into the file's line and a readable place."""
    path = _parse_where(problem.where)
    return Problem(shown, _line_of(path, lines), _where(path, data), problem.message, problem.severity)


def _parse_where(where: str) -> Path_:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", where):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.where, p.message))
