"""One publisher per channel, built on first use (real accounts, or the sandbox's emulators)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from campaign.calendar.models import Calendar, Channel
from scheduler.connections.credentials import resolve
from scheduler.connections.vault import Vault
from scheduler.media_links import MediaLinks, links_for, sandbox_links
from scheduler.platforms.base import Publisher
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.registry import credentials_for, publisher_for, resolve_api


class PublisherPool:
    """Callable `pool(channel_id) -> Publisher`; `forget(channel_id)` after re-authorisation.

    Each publisher is kept with the channel it was built from: when a reloaded calendar (SIGHUP,
    a save in the console) changes the channel (its `api:` base_url, video_base_url, version),
    the next call builds a new one. The old one may still be publishing on a worker thread, so
    it is closed with the pool, not at once."""

    def __init__(self, calendar: Callable[[], Calendar], *, sandbox: Any | None = None,
                 outbox_dir: Path = Path("outbox"), timeout: float = 30.0, clock: Any | None = None,
                 options: dict[str, Any] | None = None, vault: Vault | None = None) -> None:
        """`vault`: channels connected in the console publish with the store's tokens (renewed by
        any daemon on the store); None: the environment, the secrets file or the sandbox only."""
        self._calendar = calendar
        self.vault = vault
        #: run before each read of a vault token (the figures' pool: `Renewer.ensure_fresh`), or None
        self.before_use: Callable[[str], None] | None = None
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
        credentials = self.credentials(channel.id)
        return publisher_for(channel, credentials=credentials, outbox_dir=self._outbox_dir,
                             api_overrides=self._overrides(channel.id), timeout=self._timeout, **self._extra)

    def _overrides(self, channel_id: str) -> dict[str, str] | None:
        return self._sandbox.overrides(channel_id) if self._sandbox is not None else None

    def static_credentials(self, channel_id: str, required: tuple[str, ...] | None = None) -> Credentials:
        """What the environment, the secrets file or the sandbox give the channel (its app's client id and
        secret, a pasted token), never the vault's."""
        channel = self._calendar().channel(channel_id)
        if self._sandbox is not None:
            return Credentials(channel_id, channel.platform.value, self._sandbox.credentials(channel_id), "sandbox")
        return credentials_for(channel_id, channel.platform.value, required=required)

    def credentials(self, channel_id: str) -> Credentials:
        """The channel's credentials, the vault's token first."""
        channel = self._calendar().channel(channel_id)
        return resolve(channel_id, channel.platform.value, self.vault,
                       static=lambda required: self.static_credentials(channel_id, required),
                       before_use=lambda cid: self.before_use(cid) if self.before_use is not None else None)

    def api_settings(self, channel_id: str) -> dict[str, str | None]:
        """The channel's API settings as its publisher gets them (the sandbox's endpoints included)."""
        return resolve_api(self._calendar().channel(channel_id), self._overrides(channel_id))

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
