"""The sandbox: one emulator per platform a calendar uses, plus a media server that plays the
tool's web process for platforms that fetch media by URL (Instagram, Threads): it serves the
build folder only through signed, expiring addresses (campaign/media_urls.py), with a key of
its own made at start. The daemon's sandbox mode and the demo
publish through it with fake credentials, so a manager can rehearse a whole campaign.

Each channel is its own account on its platform's emulator (named by the channel's
`account`, with its own token), so two channels on one platform behave like two real
accounts: one account's duplicate or quota never touches the other."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from campaign.calendar.models import Calendar
from campaign.media_urls import ROUTE, MediaSigner, Refused, new_key
from emulators.base import Emulator
from emulators.registry import EMULATORS, start_emulator


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


class SignedMediaServer(StaticServer):
    """Serves `root` on 127.0.0.1 only at `/signed/<token>/<file>` addresses signed with `key`
    (as `python run.py web` does): 403 for a bad or tampered token, 410 for an expired one."""

    def __init__(self, root: Path, key: str) -> None:
        signer, folder = MediaSigner(key), Path(root)

        class Handler(_QuietFiles):
            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 3 or parts[0] != ROUTE:
                    self.send_error(404, "not a media address")
                    return
                try:
                    served = signer.open(parts[1], parts[2], folder)
                except Refused as refused:
                    self.send_error(refused.status, refused.reason)
                    return
                body = served.probe_body.encode() if served.probe_body is not None else served.path.read_bytes()  # type: ignore[union-attr]
                self.send_response(200)
                self.send_header("Content-Type", served.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="sandbox-signed-media",
                         daemon=True).start()


class Sandbox:
    """The emulators of every platform a calendar's channels use (a channel on a platform with no
    emulator, the outbox, needs none), one account per channel."""

    def __init__(self, calendar: Calendar, media_root: Path, **emulator_options: Any) -> None:
        self.calendar = calendar
        # LinkedIn plays an approved partner app here (refresh tokens): its channels renew through the
        # rehearsal's year; an ordinary app's 60 days without renewal are tested apart.
        emulator_options.setdefault("refresh_tokens", True)
        self._emulators: dict[str, Emulator] = {}
        self._tokens: dict[str, str] = {}  # channel id -> the token of its account
        #: the key of the sandbox's signed media addresses (the daemon's publisher pool signs with it)
        self.media_key = new_key()
        self.media = SignedMediaServer(media_root, self.media_key)
        try:
            for channel in calendar.channels:
                platform = channel.platform.value
                if platform not in EMULATORS:
                    continue
                if platform not in self._emulators:
                    self._emulators[platform] = start_emulator(platform, account=channel.account, **emulator_options)
                    self._tokens[channel.id] = self._emulators[platform].token
                else:
                    self._tokens[channel.id] = self._emulators[platform].add_account(channel.account)
        except Exception:
            self.stop()
            raise

    @property
    def media_base_url(self) -> str:
        """The public base of the sandbox's media server (what `media_urls.base_url` is in production)."""
        return self.media.base_url

    def emulator(self, platform: str) -> Emulator:
        return self._emulators[getattr(platform, "value", platform)]

    def _emulator_of(self, channel_id: str) -> Emulator | None:
        return self._emulators.get(self.calendar.channel(channel_id).platform.value) if channel_id in self._tokens else None

    def overrides(self, channel_id: str) -> dict[str, str]:
        """The API settings that point the channel's publisher at its emulator (none for the outbox)."""
        emulator = self._emulator_of(channel_id)
        return emulator.overrides(self.media.base_url) if emulator is not None else {}

    def credentials(self, channel_id: str) -> dict[str, str]:
        """The secrets the channel's publisher acts with on its emulator (none for the outbox)."""
        emulator = self._emulator_of(channel_id)
        if emulator is None:
            return {}
        return emulator.credentials_of(self.calendar.channel(channel_id).account, self._tokens[channel_id])

    def received(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """What the emulators accepted for one channel or all (channels in calendar order, each
        oldest first): each `Emulator.published` entry plus its `platform` and `channel_id`.
        Two channels naming the same account on one platform share it, and its posts."""
        entries: list[dict[str, Any]] = []
        for channel in self.calendar.channels:
            if channel.id not in self._tokens or channel_id not in (None, channel.id):
                continue
            platform = channel.platform.value
            for entry in self._emulators[platform].published_by(channel.account):
                entries.append({**entry, "platform": platform, "channel_id": channel.id})
        return entries

    def stop(self) -> None:
        for emulator in self._emulators.values():
            emulator.stop()
        self._emulators = {}
        self.media.stop()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
