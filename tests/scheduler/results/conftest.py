from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "channels"))

from chanrig import media_dir, media_server, rigs  # noqa: E402,F401
from resultskit import world  # noqa: E402,F401
