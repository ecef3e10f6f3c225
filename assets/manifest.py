"""`<out>/manifest.json`: which inputs produced each rendered file, so unchanged work is skipped.

An output is up to date when its recorded input key (source hash, brand fingerprint,
subtitle hash, frame, platforms, pipeline version) matches and the file is still there
with the recorded size. Written atomically so a crash never leaves half a manifest, and only
when something changed. Refusals are recorded with their input key too, so the same inputs are
not rendered again only to be refused again: bump PIPELINE_VERSION when a renderer fix could
change an outcome (it forgets every render and refusal).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager

from assets.branding import file_hash

PIPELINE_VERSION = "2"  # bump when a change to the renderer should re-render everything
MANIFEST_NAME = "manifest.json"


def input_key(parts: dict[str, Any]) -> str:
    """One hash of every input an output depends on."""
    return hashlib.sha256(json.dumps({**parts, "pipeline": PIPELINE_VERSION}, sort_keys=True).encode()).hexdigest()


@dataclass
class Manifest:
    path: Path
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # inbox file -> size, mtime_ns, sha256
    #: Outputs that could not be made from their current inputs: output -> input_key, reason, list.
    #: Kept so an unchanged input is not rendered again only to be refused again (a no-op stays a no-op),
    #: and so the planner and the daemon can say why a post's file is not there.
    refused: dict[str, dict[str, Any]] = field(default_factory=dict)
    _saved: str | None = field(default=None, repr=False, compare=False)
    #: Outputs recorded or refused since loading: what `save_merged` carries into a fresher copy.
    _touched: set[str] = field(default_factory=set, repr=False, compare=False)

    @classmethod
    def load(cls, out: Path) -> "Manifest":
        path = out / MANIFEST_NAME
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text)
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return cls(path)  # no or unreadable manifest: everything is rendered again, nothing is lost
        if not isinstance(data, dict) or data.get("pipeline_version") != PIPELINE_VERSION:
            return cls(path)
        return cls(path, dict(data.get("outputs", {})), dict(data.get("sources", {})), dict(data.get("refused", {})), text)

    def is_current(self, output: str, key: str, out: Path) -> bool:
        entry = self.outputs.get(output)
        if not entry or entry.get("input_key") != key:
            return False
        try:
            return (out / output).stat().st_size == entry.get("bytes")
        except FileNotFoundError:
            return False

    def source_hash(self, path: Path) -> str:
        """SHA-256 of an inbox file, reusing the recorded one when size and modification time are unchanged."""
        stat = path.stat()
        known = self.sources.get(path.name)
        if known and known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns:
            return str(known["sha256"])
        digest = file_hash(path)
        self.sources[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        return digest

    def record(self, output: str, entry: dict[str, Any]) -> None:
        self.outputs[output] = entry
        self.refused.pop(output, None)
        self._touched.add(output)

    def refuse(self, output: str, key: str | None, reason: str, listed_as: str) -> None:
        """Forget a previous render of `output` and remember why its current inputs give none.

        The caller deletes the file: an old render must never be published in place of one
        that was refused (a new photo too small for a frame must not leave the old photo there).
        """
        self.outputs.pop(output, None)
        self.refused[output] = {"input_key": key, "reason": reason, "listed_as": listed_as}
        self._touched.add(output)

    def refusal(self, output: str, key: str | None = None) -> dict[str, Any] | None:
        """The recorded refusal of `output` (only if it was for `key`, when given)."""
        entry = self.refused.get(output)
        if entry is None or (key is not None and entry.get("input_key") != key):
            return None
        return entry

    def save(self) -> None:
        """Write atomically, and only when something changed: a no-op run leaves the file alone."""
        data = {"pipeline_version": PIPELINE_VERSION, "outputs": dict(sorted(self.outputs.items())),
                "sources": dict(sorted(self.sources.items())), "refused": dict(sorted(self.refused.items()))}
        text = json.dumps(data, indent=1, ensure_ascii=False)
        if text == self._saved:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest.", suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the team reads the manifest
        os.replace(temp, self.path)
        self._saved = text


    def save_merged(self, lock: ContextManager[Any]) -> None:
        """Save what this copy changed into the manifest as it is now on disk, inside `lock`.

        Render workers on several machines write one manifest: each holds the lock (held across
        read, merge and write) and carries over only its own outputs and the source hashes, so
        no worker's record is lost to another's older copy.
        """
        with lock:
            fresh = Manifest.load(self.path.parent)
            fresh.sources.update(self.sources)
            for output in self._touched:
                for mine, theirs in ((self.outputs, fresh.outputs), (self.refused, fresh.refused)):
                    if output in mine:
                        theirs[output] = mine[output]
                    else:
                        theirs.pop(output, None)
            fresh.save()
        self.outputs, self.refused, self.sources = fresh.outputs, fresh.refused, fresh.sources
        self._saved, self._touched = fresh._saved, set()


def refusal_reason(out: Path, output: str) -> str | None:
    """Why the pipeline refused to make `output` from its current inputs (None if it did not)."""
    entry = Manifest.load(Path(out)).refusal(output)
    return str(entry["reason"]) if entry else None
