"""One publisher per channel, built on first use (real accounts, or the sandbox's emulators)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from campaign.calendar.models import Calendar, Channel
from scheduler.media_links import MediaLinks, links_for, sandbox_links
from scheduler.platforms.base import Publisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, publisher_for


class PublisherPool:
    """Callable `pool(channel_id) -> Publisher`; `forget(channel_id)` after re-authorisation.

    Each publisher is kept with the channel it was built from: when a reloaded calendar (SIGHUP,
    a save in the console) changes the channel (its `api:` base_url, video_base_url, version),
    the next call builds a new one. The old one may still be publishing on a worker thread, so
    it is closed with the pool, not at once."""

    def __init__(self, calendar: Callable[[], Calendar], *, sandbox: Any | None = None,
                 outbox_dir: Path = Path("outbox"), timeout: float = 30.0, clock: Any | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self._calendar = calendar
        self._sandbox = sandbox
        self._outbox_dir = outbox_dir
        self._timeout = timeout
        self._extra = {**({"clock": clock} if clock is not None else {}), **(options or {})}
        self._cache: dict[str, tuple[Channel, Publisher]] = {}
        self._retired: list[Publisher] = []  # built from an older calendar; closed with the pool
        self._lock = threading.Lock()

    def __call__(self, channel_id: str) -> Publisher:
        channel = next((c for c in self._calendar().channels if c.id == channel_id), None)
        with self._lock:
            cached = self._cache.get(channel_id)
            if cached is not None and (channel is None or cached[0] == channel):  # gone from the calendar: as it was
                return cached[1]
            if cached is not None:
                self._retired.append(cached[1])
            if channel is None:
                raise KeyError(f"channel {channel_id} is not in the calendar")
            publisher = self._build(channel)
            self._cache[channel_id] = (channel, publisher)
            return publisher

    def _build(self, channel: Channel) -> Publisher:
        channel_id = channel.id
        if self._sandbox is not None:
            credentials = Credentials(channel_id, channel.platform.value, self._sandbox.credentials(channel_id), "sandbox")
            return publisher_for(channel, credentials=credentials, outbox_dir=self._outbox_dir,
                                 api_overrides=self._sandbox.overrides(channel_id), timeout=self._timeout, **self._extra)
        credentials = credentials_for(channel_id, channel.platform.value)
        return publisher_for(channel, credentials=credentials, outbox_dir=self._outbox_dir, timeout=self._timeout,
                             **self._extra)

    def media_links(self, channel_id: str) -> MediaLinks | None:
        """Where platforms that fetch media by URL find it: the sandbox's signed media server, or
        the calendar's `media_urls:` (a channel's plain `api.media_base_url` before it)."""
        channel = self._calendar().channel(channel_id)
        if self._sandbox is not None:
            return sandbox_links(channel, self._sandbox.media_base_url, self._sandbox.media_key)
        return links_for(self._calendar(), channel)

    def forget(self, channel_id: str | None = None) -> None:
        with self._lock:
            for cid in [channel_id] if channel_id else list(self._cache):
                cached = self._cache.pop(cid, None) if cid else None
                if cached is not None:
                    cached[1].close()

    def close(self) -> None:
        self.forget(None)
        with self._lock:
            retired, self._retired = self._retired, []
        for publisher in retired:
            publisher.close()
