"""Run a calendar's emulators in a process of their own (the fault harness), on the campaign
clock the daemons share (`CAMPAIGN_CLOCK_FILE`), with a small control server for faults.

    python -m emulators.serve --calendar calendar.yaml --build build --state emulators.json

It writes `--state` (JSON): each channel's API overrides and sandbox credentials, which
`daemon --emulators emulators.json` publishes with, and the control server's URL:
`POST /inject {"platform", "fault", "count", "params"}` adds a fault, `GET /published` and
`GET /refusals` return what each emulator created and every duplicate it refused, `GET /faults`
the faults that have not fired yet.
Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from campaign.calendar import load_calendar
from campaign.clock import ClockSettingError, make_clock
from emulators.registry import EMULATORS
from emulators.sandbox import Sandbox


class RemoteSandbox:
    """What the daemon's publisher pool needs from a sandbox (`overrides`, `credentials`),
    read from the state file of emulators running in another process."""

    def __init__(self, state_file: Path) -> None:
        self.state = json.loads(Path(state_file).read_text(encoding="utf-8"))

    def overrides(self, channel_id: str) -> dict[str, str]:
        return dict(self.state["channels"].get(channel_id, {}).get("overrides", {}))

    @property
    def media_base_url(self) -> str:
        return str(self.state["media"]["base_url"])

    @property
    def media_key(self) -> str:
        return str(self.state["media"]["key"])

    def credentials(self, channel_id: str) -> dict[str, str]:
        entry = self.state["channels"].get(channel_id)
        return dict(entry["credentials"]) if entry is not None else {}

    def stop(self) -> None:
        pass


def _control(sandbox: Sandbox) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, body: Any, status: int = 200) -> None:
            payload = json.dumps(body, default=str).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802
            platforms = {c.platform.value for c in sandbox.calendar.channels} & set(EMULATORS)
            if self.path == "/published":
                self._answer({p: sandbox.emulator(p).published for p in sorted(platforms)})
            elif self.path == "/faults":  # faults injected that have not fired yet
                self._answer({p: sandbox.emulator(p).pending_faults() for p in sorted(platforms)})
            elif self.path == "/refusals":
                self._answer({p: sandbox.emulator(p).duplicate_refusals for p in sorted(platforms)})
            else:
                self._answer({"error": "unknown path"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            order = json.loads(self.rfile.read(length) or b"{}")
            try:
                sandbox.emulator(order["platform"]).inject(order["fault"], int(order.get("count", 1)),
                                                           **order.get("params", {}))
            except (KeyError, ValueError) as error:
                self._answer({"error": str(error)}, 400)
                return
            self._answer({"ok": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calendar", type=Path, required=True)
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--state", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        clock = make_clock()
    except ClockSettingError as error:
        parser.exit(2, f"{error}\n")
    loaded = load_calendar(args.calendar, today=clock.now().date())
    sandbox = Sandbox(loaded.calendar, args.build, clock=clock)
    control = _control(sandbox)
    channels = {}
    for channel in loaded.calendar.channels:
        if channel.platform.value not in EMULATORS:
            continue
        channels[channel.id] = {"platform": channel.platform.value, "overrides": sandbox.overrides(channel.id),
                                "credentials": sandbox.credentials(channel.id)}
    host, port = control.server_address[:2]
    state = {"control_url": f"http://{host}:{port}", "pid": os.getpid(), "channels": channels,
             "media": {"base_url": sandbox.media_base_url, "key": sandbox.media_key},
             "started": dt.datetime.now(dt.timezone.utc).isoformat()}
    tmp = args.state.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(args.state)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    control.shutdown()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
