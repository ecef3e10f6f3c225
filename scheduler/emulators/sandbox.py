"""The sandbox: one emulator per platform a calendar uses, plus a static file server that
plays the public host Instagram fetches media from. The daemon's sandbox mode and the demo
publish through it with fake credentials, so a manager can rehearse a whole campaign."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from campaign.calendar.models import Calendar
from scheduler.channels.credentials import Credentials
from scheduler.emulators.base import Emulator


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer:
    """Serves `root` over HTTP on 127.0.0.1 (Instagram's media_base_url in the sandbox)."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(_QuietFiles, directory=str(Path(root).resolve()))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="sandbox-media",
                         daemon=True).start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Sandbox:
    def __init__(self, calendar: Calendar, media_root: Path, **emulator_options: Any) -> None:
        from scheduler.emulators import start_emulator

        self.calendar = calendar
        self._emulators: dict[str, Emulator] = {}
        self.media = StaticServer(media_root)
        try:
            for channel in calendar.channels:
                platform = channel.platform.value
                if platform != "outbox" and platform not in self._emulators:
                    self._emulators[platform] = start_emulator(platform, **emulator_options)
        except Exception:
            self.stop()
            raise

    def emulator(self, platform: str) -> Emulator:
        return self._emulators[getattr(platform, "value", platform)]

    def overrides(self, channel_id: str) -> dict[str, str]:
        channel = self.calendar.channel(channel_id)
        platform = channel.platform.value
        if platform == "outbox":
            return {}
        base = self._emulators[platform].base_url
        overrides = {"base_url": self._emulators[platform].api_url}
        if platform in ("facebook", "bluesky"):
            overrides["video_base_url"] = base
        if platform == "instagram":
            overrides["media_base_url"] = self.media.base_url
        return overrides

    def credentials(self, channel_id: str) -> Credentials:
        channel = self.calendar.channel(channel_id)
        platform = channel.platform.value
        if platform == "outbox":
            return Credentials(channel_id, platform, {}, "sandbox")
        emulator = self._emulators[platform]
        if platform == "bluesky":
            values = {"IDENTIFIER": emulator.identifier, "PASSWORD": emulator.password}  # type: ignore[attr-defined]
        else:
            values = {"TOKEN": emulator.token}
        return Credentials(channel_id, platform, values, "sandbox")

    def stop(self) -> None:
        for emulator in self._emulators.values():
            emulator.stop()
        self._emulators = {}
        self.media.stop()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
