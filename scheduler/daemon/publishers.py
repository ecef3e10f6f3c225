"""One publisher per channel, built on first use (real accounts, or the sandbox's emulators)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from campaign.calendar.models import Calendar
from scheduler.platforms.base import Publisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, publisher_for


class PublisherPool:
    """Callable `pool(channel_id) -> Publisher`; `forget(channel_id)` after re-authorisation."""

    def __init__(self, calendar: Callable[[], Calendar], *, sandbox: Any | None = None,
                 outbox_dir: Path = Path("outbox"), timeout: float = 30.0, clock: Any | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self._calendar = calendar
        self._sandbox = sandbox
        self._outbox_dir = outbox_dir
        self._timeout = timeout
        self._extra = {**({"clock": clock} if clock is not None else {}), **(options or {})}
        self._cache: dict[str, Publisher] = {}
        self._lock = threading.Lock()

    def __call__(self, channel_id: str) -> Publisher:
        with self._lock:
            if channel_id not in self._cache:
                self._cache[channel_id] = self._build(channel_id)
            return self._cache[channel_id]

    def _build(self, channel_id: str) -> Publisher:
        channel = self._calendar().channel(channel_id)
        if self._sandbox is not None:
            credentials = Credentials(channel_id, channel.platform.value, self._sandbox.credentials(channel_id), "sandbox")
            return publisher_for(channel, credentials=credentials, outbox_dir=self._outbox_dir,
                                 api_overrides=self._sandbox.overrides(channel_id), timeout=self._timeout, **self._extra)
        credentials = credentials_for(channel_id, channel.platform.value)
        return publisher_for(channel, credentials=credentials, outbox_dir=self._outbox_dir, timeout=self._timeout,
                             **self._extra)

    def media_base_url(self, channel_id: str) -> str | None:
        """Where platforms that fetch media by URL find it (the sandbox serves the build folder)."""
        if self._sandbox is not None:
            return self._sandbox.overrides(channel_id).get("media_base_url")
        return self._calendar().channel(channel_id).api.media_base_url

    def forget(self, channel_id: str | None = None) -> None:
        with self._lock:
            for cid in [channel_id] if channel_id else list(self._cache):
                publisher = self._cache.pop(cid, None) if cid else None
                if publisher is not None:
                    publisher.close()

    def close(self) -> None:
        self.forget(None)
