"""The calendar's history where its folder is a git repository: one commit per save, a log,
and the text a revert gives.

The git command itself does the work (no library reimplements it as faithfully, and the
people reviewing the calendar use it too): `git commit` of the calendar file only, with the
console user as author; `git log` of that file; `git merge-file` for a revert, a three-way
merge computed in temporary files, so nothing touches the working tree until the reverted
text has been validated and saved like any other edit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from campaign.errors import CampaignError

#: Who commits (the author is the person; the committer is the tool, as with a bot account).
COMMITTER = ("campaign console", "console@campaign.invalid")
TIMEOUT = 20


class HistoryError(CampaignError):
    """git could not do what was asked; the message says why."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    date: str  # ISO 8601, as git gives it
    subject: str


def repository(path: Path) -> Path | None:
    """The top folder of the git repository holding `path`, or None (not a repository, or no git)."""
    if shutil.which("git") is None:
        return None
    found = _git(path.parent, "rev-parse", "--show-toplevel", check=False)
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def commit(path: Path, message: str, author: str) -> str:
    """Commit the calendar file alone (whatever else is staged stays staged), `author` as author."""
    name = path.name
    _git(path.parent, "add", "--", name)
    env = {"GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{_email_part(author)}@campaign.invalid"}
    _git(path.parent, "commit", "--quiet", "--no-verify", "-m", message, "--", name, env=env)
    return _git(path.parent, "rev-parse", "HEAD").stdout.strip()


def log(path: Path, limit: int = 50) -> list[Commit]:
    found = _git(path.parent, "log", f"-{limit}", "--format=%H%x1f%an%x1f%aI%x1f%s", "--", path.name, check=False)
    if found.returncode != 0:
        return []
    return [Commit(*line.split("\x1f", 3)) for line in found.stdout.splitlines() if line.count("\x1f") == 3]


def show(path: Path, sha: str) -> str:
    """The commit's change to the calendar, as `git show` prints it."""
    _known(path, sha)
    return _git(path.parent, "show", "--format=%an, %aI%n%n    %s%n", sha, "--", path.name).stdout


def reverted_text(path: Path, sha: str, current: str) -> str:
    """`current` with the change of commit `sha` undone (what `git revert` would write), or
    HistoryError when later changes touched the same lines."""
    _known(path, sha)
    relative = _relative(path)
    after = _blob(path, f"{sha}:{relative}")
    before = _blob(path, f"{sha}^:{relative}", missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="calendar-revert-") as folder:
        ours, base, theirs = (Path(folder) / n for n in ("current", "commit", "parent"))
        ours.write_text(current, encoding="utf-8")
        base.write_text(after, encoding="utf-8")
        theirs.write_text(before, encoding="utf-8")
        merged = _git(path.parent, "merge-file", "-p", "-L", "current", "-L", sha[:8], "-L", "before",
                      str(ours), str(base), str(theirs), check=False)
    if merged.returncode != 0:
        raise HistoryError(f"commit {sha[:8]} cannot be reverted as it is: later saves changed the same lines — "
                           "edit those lines by hand instead")
    return merged.stdout


def subject(path: Path, sha: str) -> str:
    return _git(path.parent, "log", "-1", "--format=%s", sha).stdout.strip()


def _known(path: Path, sha: str) -> None:
    if not sha or any(c not in "0123456789abcdef" for c in sha.lower()) or not 4 <= len(sha) <= 64:
        raise HistoryError(f"{sha!r} is not a commit id")
    if sha not in {c.sha for c in log(path, 1000)} and not any(c.sha.startswith(sha) for c in log(path, 1000)):
        raise HistoryError(f"commit {sha[:12]} did not change {path.name} — pick one from the history page")


def _relative(path: Path) -> str:
    top = repository(path)
    if top is None:
        raise HistoryError(f"{path.parent} is not a git repository")
    return path.resolve().relative_to(top.resolve()).as_posix()


def _blob(path: Path, spec: str, missing_ok: bool = False) -> str:
    found = _git(path.parent, "show", spec, check=False)
    if found.returncode != 0:
        if missing_ok:
            return ""
        raise HistoryError(f"git cannot read {spec}: {found.stderr.strip()[:200]}")
    return found.stdout


def _email_part(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "-" for c in name) or "someone"


def _git(folder: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "GIT_COMMITTER_NAME": COMMITTER[0], "GIT_COMMITTER_EMAIL": COMMITTER[1],
                "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, encoding="utf-8",
                              env=full_env, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HistoryError(f"git did not answer ({error})") from None
    if check and done.returncode != 0:
        raise HistoryError(f"git {args[0]} failed: {(done.stderr or done.stdout).strip()[:300]}")
    return done
