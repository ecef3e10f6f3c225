"""Local emulators of the platforms' publishing APIs on 127.0.0.1, for tests, the sandbox mode
and the demo. Each follows its platform's documented contract and imports nothing from the
publishers it judges (an emulator that shares code with what it judges agrees with its
mistakes). `start_emulator(platform)` starts one (the table is `registry.py`); `Sandbox(calendar,
media_root)` starts all a calendar needs."""

from __future__ import annotations

from emulators.base import FAULTS, Emulator
from emulators.registry import EMULATORS, start_emulator
from emulators.sandbox import Sandbox, StaticServer

__all__ = ["FAULTS", "Emulator", "Sandbox", "StaticServer", "start_emulator", "EMULATORS"]
