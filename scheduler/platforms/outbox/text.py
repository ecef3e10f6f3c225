"""The outbox (files for a person to post by hand) has no text rules of its own."""

from __future__ import annotations



def check(text: str) -> list[str]:
    return []
