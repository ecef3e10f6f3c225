"""Write changes back into `calendar.yaml` so that the file stays the reviewed truth.

A person (the console, the API, the designers' desk assigning an uploaded file) changes a
few values; the file must still read as the manager wrote it: comments, key order, quoting,
flow lists and blank lines stay, and every line the change does not touch stays byte for
byte (a new title is a one-line `git diff`). ruamel.yaml's round trip does most of it; two
guards do the rest:

- values are merged into the existing nodes in place (`Draft.set`): an unchanged value keeps
  its node, so its quoting and comments; a new string takes the quoting of its old value or
  of its siblings; blank lines that close a block move to the block's new last line;
- after dumping, every changed run of lines that does not change the data (ruamel
  re-indenting a block the manager indented their own way, re-spacing a comment) is put back
  as it was (`minimal_text`), so the diff holds only lines whose data changed.

`save` checks the new text with the loader, as `validate` does (`file:LINE` messages; a text
that does not validate writes nothing), refuses a save made on a stale copy (the file's hash
when the form was opened), and replaces the file atomically (temporary file, fsync, rename)
under a lock on the folder, so two saves cannot interleave.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fcntl
import hashlib
import io
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from campaign.calendar.loader import LoadedCalendar, load_calendar
from campaign.errors import CalendarError, CampaignError, Problem

#: Where a value sits: section and key names, list items by their `id` (or index).
Where = Sequence[str | int]

#: The order keys take when a form adds one an entry did not have (the README's order).
KEY_ORDER = {
    "channels": ("id", "platform", "account", "name", "country", "languages", "timezone", "slots", "min_spacing",
                 "daily_cap", "approval", "grace", "variants", "api", "results"),
    "testimonials": ("id", "name", "country", "country_names", "spoken_language", "pillar", "quote", "photo", "clip",
                     "subtitles", "consent_until", "focus", "alt_text"),
    "moments": ("id", "title", "titles", "date", "start", "end", "recurrence", "pillar", "channels", "languages",
                "testimonials", "media", "template", "hashtags", "link"),
    "blackouts": ("start", "end", "timezone", "reason", "channels"),
}
SECTION_ORDER = ("campaign", "brand", "notifications", "channels", "testimonials", "moments", "blackouts", "overrides")


class StaleCalendar(CampaignError):
    """The file changed since the copy an edit started from: the edit is not written.

    `current` is the file as it is now, `diff` what changed meanwhile (from the copy the
    person saw, when known), so the console can show it and keep the person's input."""

    def __init__(self, path: Path, expected: str, current: str, base_text: str | None = None) -> None:
        self.path, self.expected, self.current_text = path, expected, current
        self.current_hash = text_hash(current)
        self.diff = unified_diff(base_text, current, path.name) if base_text is not None else ""
        super().__init__(f"{path.name} changed since you opened it (someone saved, or the file was edited or pulled) — "
                         "look at what changed, then apply your change again on the current version")


def text_hash(text: str | bytes) -> str:
    """The file's identity for stale-copy checks and ETags: SHA-256 of its bytes."""
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


def unified_diff(old: str, new: str, name: str = "calendar.yaml") -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))


def read_text(path: Path) -> str:
    with Path(path).open("rb") as handle:
        return handle.read().decode("utf-8")


# -- the draft: a parsed copy of the file that changes are made to --------------------------------

@dataclass
class Draft:
    """The file as read (`original`, `base_hash`) and its round-trip tree, changed in memory."""

    path: Path
    original: str
    tree: CommentedMap
    base_hash: str
    _yaml: YAML = field(repr=False)

    @classmethod
    def open(cls, path: str | Path, text: str | None = None) -> "Draft":
        """Parse the calendar (or `text`, a copy of it). A file that is not YAML raises
        CalendarError with its line, as `validate` reports it."""
        path = Path(path)
        original = read_text(path) if text is None else text
        yaml = _yaml_for(original)
        try:
            tree = yaml.load(original)
        except YAMLError:
            load_calendar(path, text=original)  # raises with file:LINE
            raise
        if not isinstance(tree, CommentedMap):
            load_calendar(path, text=original)
            raise CalendarError([Problem(path.name, 1, "", "the calendar must be a mapping of sections")])
        return cls(path, original, tree, text_hash(original), yaml)

    # -- reading ------------------------------------------------------------------------------

    def node(self, where: Where) -> Any:
        """The node at `where`, e.g. ("moments", "europe-day", "titles"); KeyError if absent."""
        node: Any = self.tree
        for part in where:
            node = _child(node, part)
        return node

    def get(self, where: Where, default: Any = None) -> Any:
        """Plain Python data at `where` (dicts, lists, str, dates), or `default`."""
        try:
            return plain(self.node(where))
        except (KeyError, IndexError, TypeError):
            return default

    def ids(self, section: str) -> list[str]:
        return [str(item.get("id")) for item in self.tree.get(section) or [] if isinstance(item, dict)]

    # -- changing -----------------------------------------------------------------------------

    def set(self, where: Where, value: Any) -> None:
        """Make the value at `where` equal `value`; parents that do not exist yet are created.

        A mapping or list is merged into the node in place (a whole moment from a form):
        changed keys are set, keys `value` lacks are removed, new keys go where the README's
        order puts them, and what did not change keeps its node (quoting, comments)."""
        *parents, last = where
        parent: Any = self.tree
        walked: list[str | int] = []
        for part in parents:
            try:
                parent = _child(parent, part)
            except KeyError:
                if not isinstance(parent, CommentedMap) or not isinstance(part, str):
                    raise
                _insert_key(parent, part, CommentedMap(), _order_for(walked))
                parent = parent[part]
            walked.append(part)
        order = KEY_ORDER.get(str(walked[0]), ()) if len(walked) == 1 else ()  # a whole entry of a section
        if isinstance(parent, CommentedSeq):
            index = _index(parent, last)
            parent[index] = _merged(parent[index], value, order)
        elif last in parent:
            parent[last] = _merged(parent[last], value, order)
        else:
            _insert_key(parent, str(last), _node(value, _sibling(parent)), _order_for(walked))

    def delete(self, where: Where) -> None:
        """Remove the key or list item at `where` (KeyError if absent)."""
        *parents, last = where
        parent = self.node(parents)
        index = _index(parent, last) if isinstance(parent, CommentedSeq) else last
        if index not in (range(len(parent)) if isinstance(parent, CommentedSeq) else parent):
            raise KeyError(last)
        keys = list(range(len(parent))) if isinstance(parent, CommentedSeq) else list(parent)
        gap = _take_gap(parent) if index == keys[-1] and len(keys) > 1 else None
        heading = _heading(parent, index)
        del parent[index]
        if gap:
            _give_gap(parent, gap)
        if isinstance(parent, CommentedSeq) and 0 < index < len(parent):
            _no_double_blank(parent, index)
        if heading and isinstance(parent, CommentedSeq) and index < len(parent):
            entry = parent.ca.items.setdefault(index, [None, None, None, None])
            entry[1] = heading + [t for t in entry[1] or [] if t.value.strip()]
        if not parent and parents:  # an empty section or mapping goes with its last entry
            self.delete(parents)

    def append(self, section: str, entry: dict[str, Any]) -> None:
        """Add an entry at the end of a section (created if missing), separated as its siblings are."""
        if section not in self.tree or self.tree[section] is None:
            _insert_key(self.tree, section, CommentedSeq(), SECTION_ORDER)
        seq = self.tree[section]
        order = KEY_ORDER.get(section, ())
        entry = dict(sorted(entry.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        new = _node(entry, seq[-1] if len(seq) else None)
        spaced = _separated_by_blank_lines(seq, self.original.splitlines())
        gap = _take_gap(seq) if len(seq) else None
        seq.append(new)
        if gap:
            _give_gap(seq, gap)
        if spaced and len(seq) > 1:
            _give_blank_line(seq, len(seq) - 2)

    # -- the result -------------------------------------------------------------------------------

    def text(self) -> str:
        """The changed file: ruamel's round trip with every data-neutral hunk put back as it was."""
        stream = io.StringIO()
        self._yaml.dump(self.tree, stream)
        produced = stream.getvalue()
        if "\r\n" in self.original:
            produced = produced.replace("\r\n", "\n").replace("\n", "\r\n")
        return minimal_text(self.original, produced)

    def changed(self) -> bool:
        return self.text() != self.original

    def diff(self) -> str:
        return unified_diff(self.original, self.text(), self.path.name)


# -- saving ---------------------------------------------------------------------------------------

Check = Callable[[LoadedCalendar], list[Problem | str]]


@dataclass(frozen=True)
class Saved:
    path: Path
    old_hash: str
    new_hash: str
    loaded: LoadedCalendar
    diff: str
    changed: bool


def check_text(path: Path, text: str, *, today: dt.date | None = None, checks: Sequence[Check] = ()) -> LoadedCalendar:
    """What `validate` says about `text` as the file at `path`: CalendarError with every
    problem (`file:LINE: where: what — fix`), else the loaded calendar. `checks` add the
    higher layers' checks (every caption template rendered), as `validate` runs them."""
    loaded = load_calendar(path, today=today, text=text)
    found: list[Problem] = []
    for check in checks:
        for problem in check(loaded):
            found.append(problem if isinstance(problem, Problem) else _problem_from_line(str(problem)))
    if found:
        raise CalendarError(found, loaded.warnings)
    return loaded


def save_text(path: str | Path, text: str, *, expected_hash: str | None, base_text: str | None = None,
              today: dt.date | None = None, checks: Sequence[Check] = (),
              after_write: Callable[[Saved], None] | None = None) -> Saved:
    """Check `text` and write it over `path` if the file is still the copy `expected_hash`
    names (None: whatever it is). Raises StaleCalendar or CalendarError and writes nothing.

    `after_write` runs while the folder is still locked (a git commit of exactly this text)."""
    path = Path(path)
    with folder_lock(path.parent):
        current = read_text(path) if path.exists() else ""
        if expected_hash is not None and text_hash(current) != expected_hash:
            raise StaleCalendar(path, expected_hash, current, base_text)
        loaded = check_text(path, text, today=today, checks=checks)
        changed = text != current
        if changed:
            write_atomic(path, text)
        saved = Saved(path, text_hash(current), text_hash(text), loaded, unified_diff(current, text, path.name), changed)
        if after_write is not None and changed:
            after_write(saved)
    return saved


def save(draft: Draft, *, expected_hash: str | None = None, today: dt.date | None = None,
         checks: Sequence[Check] = (), after_write: Callable[[Saved], None] | None = None) -> Saved:
    """Write a draft: stale when the file moved on since `expected_hash` (default: since the
    draft was read)."""
    return save_text(draft.path, draft.text(), expected_hash=expected_hash or draft.base_hash,
                     base_text=draft.original if (expected_hash or draft.base_hash) == draft.base_hash else None,
                     today=today, checks=checks, after_write=after_write)


def write_atomic(path: Path, text: str) -> None:
    """Replace the file in one rename: a reader (the daemon) sees the old or the new file, never
    half of one; the file keeps its permissions."""
    path = Path(path)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(str(path.parent), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the calendar's folder (flock on the directory itself: no lock file
    appears in the manager's repository), held by one save at a time across processes."""
    handle = os.open(str(folder), os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _problem_from_line(line: str) -> Problem:
    found = re.match(r"^(?P<file>[^:]+):(?P<line>\d+):\s*(?P<rest>.*)$", line, re.S)
    if not found:
        return Problem("", None, "", line)
    return Problem(found["file"], int(found["line"]), "", found["rest"])


# -- keeping the diff minimal ---------------------------------------------------------------------

def minimal_text(original: str, produced: str) -> str:
    """`produced`, except where text does not change the data: those parts stay as `original`
    wrote them (formatting the dumper chose, not the person). First whole sections and list
    entries whose data is unchanged, then each changed run of lines that is data-neutral."""
    if produced == original:
        return original
    target = _data(produced)
    if target is _UNPARSABLE:
        return produced
    spliced = _splice_unchanged(original, produced, _data(original), target)
    if spliced != produced and _data(spliced) != target:
        spliced = produced
    old, new = original.splitlines(keepends=True), spliced.splitlines(keepends=True)
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    take_new = [tag != "equal" for tag, *_ in opcodes]

    def build() -> str:
        return "".join("".join(new[j1:j2]) if use else "".join(old[i1:i2])
                       for use, (_tag, i1, i2, j1, j2) in zip(take_new, opcodes))

    for index, (tag, *_rest) in enumerate(opcodes):
        if tag == "equal":
            continue
        take_new[index] = False
        if _data(build()) != target:
            take_new[index] = True
    return build()


def _splice_unchanged(original: str, produced: str, before: Any, after: Any) -> str:
    """Sections whose data did not change, and entries of changed lists that did not change,
    as the original text has them."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return produced
    old_parts, new_parts = _pieces(original, _TOP), _pieces(produced, _TOP)
    old_by_key = {key: text for key, text in old_parts}
    out = []
    for key, text in new_parts:
        if key is None or key not in old_by_key or key not in before or key not in after:
            out.append(old_by_key.get(key, text) if key is None else text)
        elif before[key] == after[key]:
            out.append(old_by_key[key])
        elif isinstance(before[key], list) and isinstance(after[key], list):
            out.append(_splice_entries(old_by_key[key], text, before[key], after[key]))
        else:
            out.append(text)
    return "".join(out)


def _splice_entries(old_text: str, new_text: str, before: list, after: list) -> str:
    old_head, old_entries = _entries(old_text)
    new_head, new_entries = _entries(new_text)
    if len(old_entries) != len(before) or len(new_entries) != len(after):
        return new_text
    keys = [repr(item) for item in before], [repr(item) for item in after]
    shift = _dash_column(old_entries) - _dash_column(new_entries)
    out = [old_head]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, *keys, autojunk=False).get_opcodes():
        out += old_entries[i1:i2] if tag == "equal" else [_shifted(e, shift) for e in new_entries[j1:j2]]
    return "".join(out)


def _dash_column(entries: list[str]) -> int:
    for entry in entries:
        found = re.search(r"^( *)- ", entry, re.M)
        if found:
            return len(found.group(1))
    return 0


def _shifted(text: str, shift: int) -> str:
    """An entry moved `shift` columns (the file's own list indentation, not the dumper's)."""
    if shift == 0:
        return text
    lines = text.splitlines(keepends=True)
    if shift > 0:
        return "".join(" " * shift + line if line.strip() else line for line in lines)
    cut = -shift
    return "".join(line[cut:] if line[:cut].strip() == "" else line for line in lines)


_TOP = re.compile(r"^[^\s#-][^\n]*:")


def _pieces(text: str, start: re.Pattern[str]) -> list[tuple[str | None, str]]:
    """The text cut before each line `start` matches, each piece named by its key."""
    pieces: list[tuple[str | None, str]] = [(None, "")]
    for line in text.splitlines(keepends=True):
        if start.match(line):
            pieces.append((line.split(":", 1)[0].strip().strip("'\""), line))
        else:
            key, body = pieces[-1]
            pieces[-1] = (key, body + line)
    return pieces


def _entries(section: str) -> tuple[str, list[str]]:
    """A list section cut into its head (the key line, comments) and one text per entry."""
    lines = section.splitlines(keepends=True)
    dash = next((re.match(r"^( *)- ", line) for line in lines[1:] if re.match(r"^ *- ", line)), None)
    if dash is None:
        return section, []
    marker = re.compile("^" + dash.group(1) + r"- ")
    head, entries = "", []
    pending = ""  # comment lines at the entries' column head the next entry
    for line in lines:
        if marker.match(line):
            entries.append(pending + line)
            pending = ""
        elif not entries:
            head += line
        elif line.strip().startswith("#") and line.startswith(dash.group(1) + "#"):
            pending += line
        else:
            entries[-1] += pending + line
            pending = ""
    if pending:
        entries[-1] += pending
    # comment lines before the first entry belong to it, as ruamel keeps them
    return head, entries


_UNPARSABLE = object()
_SAFE = YAML(typ="safe")


def _data(text: str) -> Any:
    try:
        return _SAFE.load(text)
    except YAMLError:
        return _UNPARSABLE


# -- ruamel nodes ----------------------------------------------------------------------------------

def _yaml_for(text: str) -> YAML:
    """A round-trip dumper set to the file's own indentation (mapping, sequence, dash offset)."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 4096  # never wrap a long title or quote onto a second line
    mapping, offset = 2, 2
    found = re.search(r"^[A-Za-z_][^\n:]*:[ \t]*\n(?:[ \t]*(?:#[^\n]*)?\n)*( +)[^\s#-]", text, re.M)
    if found:
        mapping = len(found.group(1))
    dash = re.search(r"^( *)[A-Za-z_][^\n:]*:[ \t]*(?:#[^\n]*)?\n(?:[ \t]*(?:#[^\n]*)?\n)*( *)- ", text, re.M)
    if dash:
        offset = len(dash.group(2)) - len(dash.group(1))
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def plain(node: Any) -> Any:
    """ruamel's nodes as plain Python data."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, ScalarString):
        return str(node)
    return node


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, CommentedSeq):
        return node[_index(node, part)]
    if isinstance(node, CommentedMap):
        return node[part]
    raise KeyError(part)


def _index(seq: CommentedSeq, part: str | int) -> int:
    if isinstance(part, int):
        if not -len(seq) <= part < len(seq):
            raise KeyError(part)
        return part % len(seq)
    for index, item in enumerate(seq):
        if isinstance(item, dict) and str(item.get("id")) == part:
            return index
    raise KeyError(part)


def _order_for(walked: Sequence[str | int]) -> Sequence[str]:
    if not walked:
        return SECTION_ORDER
    if len(walked) == 2 and str(walked[0]) in KEY_ORDER:
        return KEY_ORDER[str(walked[0])]
    return ()


def _insert_key(mapping: CommentedMap, key: str, value: Any, order: Sequence[str]) -> None:
    """Put a new key where `order` says (after the last present key that comes before it);
    the end otherwise, taking over the blank line that closed the mapping."""
    keys = list(mapping)
    position = len(keys)
    if key in order:
        rank = order.index(key)
        before = [i for i, k in enumerate(keys) if k in order and order.index(k) < rank]
        after = [i for i, k in enumerate(keys) if k in order and order.index(k) > rank]
        if after:
            position = (before[-1] + 1) if before else after[0]
    if position >= len(keys):
        gap = _take_gap(mapping) if keys else None
        mapping[key] = value
        if gap:
            _give_gap(mapping, gap)
    else:
        mapping.insert(position, key, value)


def _merged(old: Any, new: Any, order: Sequence[str] = ()) -> Any:
    """`new` as a node that keeps as much of `old` as holds: the same node when equal, the
    mapping or list merged key by key, a string in the old string's quoting."""
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            gap = _take_gap(old) if key == list(old)[-1] and len(old) > 1 else None
            del old[key]
            if gap:
                _give_gap(old, gap)
        for key, value in new.items():
            if key in old:
                old[key] = _merged(old[key], value)
            else:
                _insert_key(old, key, _node(value, _sibling(old)), order)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        if plain(old) == new:
            return old
        sample = old[0] if len(old) else None
        for index, value in enumerate(new):
            if index < len(old):
                old[index] = _merged(old[index], value)
            else:
                gap = _take_gap(old) if len(old) else None
                old.append(_node(value, sample))
                if gap:
                    _give_gap(old, gap)
        while len(old) > len(new):
            gap = _take_gap(old) if len(old) > 1 else None
            del old[len(old) - 1]
            if gap:
                _give_gap(old, gap)
        return old
    if _same(old, new):
        return old
    return _node(new, old)


def _same(old: Any, new: Any) -> bool:
    """Equal as data and of the same kind (a form's "3" is not the file's 3; True is not 1)."""
    return _kind(old) == _kind(new) and plain(old) == plain(new)


def _kind(value: Any) -> str:
    for kind in (bool, int, float, str, dt.datetime, dt.date):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _node(value: Any, like: Any) -> Any:
    """A ruamel node for plain `value`, styled like `like` (the value it replaces, or a sibling):
    the same quotes for strings, flow style for a list or mapping written flow."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, item in value.items():
            mapping[key] = _node(item, like.get(key) if isinstance(like, dict) else None)
        if _flow(like):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq()
        sample = like[0] if isinstance(like, list) and len(like) else None
        for item in value:
            seq.append(_node(item, sample))
        if _flow(like) or (like is None and all(not isinstance(v, (dict, list)) for v in value)):
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and not isinstance(value, ScalarString):
        if isinstance(like, DoubleQuotedScalarString):
            return DoubleQuotedScalarString(value)
        if isinstance(like, SingleQuotedScalarString):
            return SingleQuotedScalarString(value) if "'" not in value else DoubleQuotedScalarString(value)
        if isinstance(like, ScalarString):
            return type(like)(value)
    return value


def _sibling(mapping: CommentedMap) -> Any:
    """A string value of the mapping, whose quoting a new string key takes (a new `ja:` quote
    written like the other quotes)."""
    return next((v for v in mapping.values() if isinstance(v, str)), None)


def _flow(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq)) and bool(node.fa.flow_style())


# Blank lines that close a block are stored by ruamel as a comment after the block's deepest
# last value; when that value stops being last (a key appended, the last item deleted), the
# blank lines move to the new last value, so they still close the block.

def _last_slot(node: Any) -> tuple[Any, Any] | None:
    container, key = None, None
    while isinstance(node, (CommentedMap, CommentedSeq)) and len(node) and not _flow(node):
        container = node
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        node = node[key]
    return (container, key) if container is not None else None


def _slot_token(container: Any, key: Any) -> tuple[list, int] | None:
    entry = container.ca.items.get(key)
    position = 2 if isinstance(container, CommentedMap) else 0
    if entry and len(entry) > position and isinstance(entry[position], CommentToken):
        return entry, position
    return None


def _take_gap(node: Any) -> str | None:
    """Remove and return the blank lines after the last value of `node` (comments stay)."""
    slot = _last_slot(node)
    if slot is None:
        return None
    found = _slot_token(*slot)
    if found is None:
        return None
    entry, position = found
    value = entry[position].value
    stripped = value.rstrip("\n")
    gap = value[len(stripped):]
    if gap.count("\n") < 2:
        return None
    keep = stripped + "\n"
    if keep == "\n":
        entry[position] = None
    else:
        entry[position].value = keep
    return gap[1:]


def _give_gap(node: Any, gap: str) -> None:
    """Blank lines (`gap`: one "\\n" per blank line) after the last value of `node`."""
    slot = _last_slot(node)
    if slot is not None:
        _add_to_slot(*slot, gap)


def _give_blank_line(seq: CommentedSeq, index: int) -> None:
    """One blank line after the entry seq[index], unless it has one."""
    item = seq[index]
    slot = _last_slot(item) if isinstance(item, (CommentedMap, CommentedSeq)) else None
    container, key = slot if slot is not None else (seq, index)
    found = _slot_token(container, key)
    if found is None or not found[0][found[1]].value.endswith("\n\n"):
        _add_to_slot(container, key, "\n")


def _add_to_slot(container: Any, key: Any, gap: str) -> None:
    """Blank lines (`gap`) after the value at container[key], after any comment it has."""
    found = _slot_token(container, key)
    if found is not None:
        entry, position = found
        entry[position].value = entry[position].value.rstrip("\n") + "\n" + gap
        return
    position = 2 if isinstance(container, CommentedMap) else 0
    entry = container.ca.items.setdefault(key, [None, None, None, None] if position == 2 else [None, None])
    while len(entry) <= position:
        entry.append(None)
    entry[position] = CommentToken("\n" + gap, CommentMark(0), None)


def _heading(parent: Any, index: Any) -> list | None:
    """The comment lines written above a list entry ("# Embassies, in their host country's
    language"): they head a group, so they stay for the next entry when this one goes."""
    if not isinstance(parent, CommentedSeq):
        return None
    entry = parent.ca.items.get(index)
    before = entry[1] if entry and len(entry) > 1 else None
    return list(before) if before and any(token.value.strip() for token in before) else None


def _no_double_blank(seq: CommentedSeq, index: int) -> None:
    """After deleting the entry before seq[index]: the blank line that closed the entry before
    it and the one kept before seq[index] (ruamel keeps it there after a flow list) would make
    two; keep one."""
    entry = seq.ca.items.get(index)
    before = entry[1] if entry and len(entry) > 1 else None
    if not before or any(token.value.strip() for token in before):
        return
    previous = seq[index - 1]
    slot = _last_slot(previous) if isinstance(previous, (CommentedMap, CommentedSeq)) else (seq, index - 1)
    found = _slot_token(*slot) if slot is not None else None
    if found is not None and found[0][found[1]].value.endswith("\n\n"):
        entry[1] = None


def _separated_by_blank_lines(seq: CommentedSeq, lines: list[str]) -> bool:
    """Whether the file writes a list's entries with a blank line between them (the sample's
    moments), judged by the line before each entry after the first."""
    before = []
    for index in range(1, len(seq)):
        try:
            line, _column = seq.lc.item(index)
        except (KeyError, TypeError, AttributeError):
            continue  # an entry added in this draft: no line yet
        if 0 < line <= len(lines):
            before.append(not lines[line - 1].strip())
    return bool(before) and all(before)
