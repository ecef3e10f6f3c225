from __future__ import annotations

from testkit.stores import *  # noqa: F401,F403
