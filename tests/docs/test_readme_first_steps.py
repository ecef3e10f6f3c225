"""A newcomer runs the README's first code block as it stands, top to bottom: the virtualenv
comes before the first `pip install` (it was in a sentence after the block, issue 23, 3)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_first_code_block_makes_the_virtualenv_before_pip_installs() -> None:
    block = re.search(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    commands = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    first_pip = next(i for i, line in enumerate(commands) if "pip install" in line)
    before = " ".join(commands[:first_pip])
    assert "python3 -m venv .venv" in before and ". .venv/bin/activate" in before, commands
