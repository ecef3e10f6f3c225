"""How long to wait before retrying after a transient error: exponential, capped, jittered."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 60.0
    cap_seconds: float = 3600.0
    #: transient failures before the post is marked failed; None: retry while the grace window lasts
    max_failures: int | None = None

    def delay(self, failures: int, rng: Callable[[], float] = random.random) -> float:
        """Delay after the `failures`-th transient failure (1-based): base * 2^(n-1), capped,
        with "equal jitter" (half fixed, half random) so daemons do not retry in lock step."""
        ceiling = min(self.cap_seconds, self.base_seconds * (2 ** max(0, failures - 1)))
        return ceiling / 2 + rng() * ceiling / 2
