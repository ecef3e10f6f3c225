"""Named crash points for the kill tests: `CAMPAIGN_CRASH_AT=point[:n]` SIGKILLs the process
the n-th time (default 1st) it reaches `point`. Points: claimed (intent committed, before the
call), request_sent (an HTTP request of the publish went out), created (the platform answered
with the new post), before_store (the remote id is written but not committed); and a token
renewal's (scheduler.connections.renew.POINTS): renew_before_request (the intent committed),
renew_after_answer (the platform answered, nothing written), renew_after_write (the new pair committed)."""

from __future__ import annotations

import os
import signal
import threading

from requests.adapters import HTTPAdapter

ENV = "CAMPAIGN_CRASH_AT"
POINTS = ("claimed", "request_sent", "created", "before_store")

_counts: dict[str, int] = {}
_lock = threading.Lock()


def _target() -> tuple[str, int] | None:
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return None
    name, _, count = raw.partition(":")
    return name, int(count or 1)


def crash_point(name: str) -> None:
    """Die at once (no cleanup, like a power cut) if this point is the one configured."""
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        if _counts[name] >= target[1]:
            os.kill(os.getpid(), signal.SIGKILL)


def install_http_hook() -> None:
    """Make `request_sent` fire after any HTTP request made through `requests` (publishers)."""
    target = _target()
    if target is None or target[0] != "request_sent":
        return
    original = HTTPAdapter.send
    if getattr(original, "_crash_hooked", False):
        return

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = original(self, request, *args, **kwargs)
        if request.method != "GET" and getattr(self, "publishes", True):  # a token renewal has points of its own
            crash_point("request_sent")
        return response

    send._crash_hooked = True  # type: ignore[attr-defined]
    HTTPAdapter.send = send  # type: ignore[method-assign]
