"""AT Protocol TIDs (record keys): 64-bit integers, top bit 0, 53 bits of microseconds since
the epoch, 10 bits of clock id, written as 13 base32-sortable characters.

`tid_for(scheduled_at, key)` is deterministic: the same post always gets the same record
key, so a retried createRecord conflicts with the first instead of publishing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_PATTERN = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_MAX_MICROS = (1 << 53) - 1


def encode_tid(micros: int, clock_id: int) -> str:
    if not 0 <= clock_id < 1024:
        raise ValueError("clock id must be in 0..1023")
    value = ((micros & _MAX_MICROS) << 10) | clock_id
    return "".join(ALPHABET[(value >> (5 * (12 - i))) & 31] for i in range(13))


def decode_tid(tid: str) -> tuple[int, int]:
    """(microseconds, clock id) of a valid TID; ValueError otherwise."""
    if not is_tid(tid):
        raise ValueError(f"{tid!r} is not a TID")
    value = 0
    for char in tid:
        value = (value << 5) | ALPHABET.index(char)
    return value >> 10, value & 1023


def is_tid(value: str) -> bool:
    return bool(TID_PATTERN.match(value))


def tid_for(scheduled_at: dt.datetime | None, key: str) -> str:
    """Deterministic TID from the post's scheduled time and a clock id taken from the key's hash."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    clock_id = int.from_bytes(digest[:2], "big") % 1024
    if scheduled_at is not None:
        if scheduled_at.tzinfo is None:
            scheduled_at = scheduled_at.replace(tzinfo=dt.timezone.utc)
        micros = int(scheduled_at.timestamp() * 1_000_000) + int.from_bytes(digest[2:4], "big") % 1000
    else:  # still deterministic: a time in 2023-2026 picked by the key
        micros = 1_672_531_200_000_000 + int.from_bytes(digest[2:10], "big") % (4 * 365 * 86400 * 1_000_000)
    return encode_tid(micros, clock_id)
