"""`<out>/manifest.json`: which inputs produced each rendered file, so unchanged work is skipped.

An output is up to date when its recorded input key (source hash, brand fingerprint,
subtitle hash, frame, platforms, pipeline version) matches and the file is still there
with the recorded size. Written atomically so a crash never leaves half a manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    @classmethod
    def load(cls, out: Path) -> "Manifest":
        path = out / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return cls(path)  # no or unreadable manifest: everything is rendered again, nothing is lost
        if not isinstance(data, dict) or data.get("pipeline_version") != PIPELINE_VERSION:
            return cls(path)
        return cls(path, dict(data.get("outputs", {})), dict(data.get("sources", {})))

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
        from assets.branding import file_hash

        stat = path.stat()
        known = self.sources.get(path.name)
        if known and known.get("size") == stat.st_size and known.get("mtime_ns") == stat.st_mtime_ns:
            return str(known["sha256"])
        digest = file_hash(path)
        self.sources[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        return digest

    def record(self, output: str, entry: dict[str, Any]) -> None:
        self.outputs[output] = entry

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"pipeline_version": PIPELINE_VERSION, "outputs": dict(sorted(self.outputs.items())), "sources": dict(sorted(self.sources.items()))}
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".manifest.", suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, ensure_ascii=False)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the team reads the manifest
        os.replace(temp, self.path)
