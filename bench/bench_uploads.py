#!/usr/bin/env python3
"""Upload speed and memory of the media desk's tus endpoint, against a bare upload in the same run.

    python -m bench.bench_uploads [--mb 500]

Starts the real console (`python run.py web`) in its own process on a temporary store and
inbox, logs in as a designer, and uploads a generated clip (a sample clip padded with zeros
to --mb, so the inbox accepts it) over loopback with tus: one creation, then one PATCH sent
by curl (a C client, so the figure is the server's, not a Python client's). The baseline is
the same file sent by curl to a bare uvicorn app that writes its body to disk (what this
machine's loopback, uvicorn and disk allow). Prints MB/s for both, their ratio, and the
console process's resident memory before the upload and at its peak while the bytes stream
(flat: the body goes to disk in 4 MB blocks, never held whole), then after the inbox's checks (a broken
clip is uploaded first, so the checks' libraries are loaded before the measured upload).
Goal: at least 100 MB/s for 500 MB, and a streaming peak within 64 MB of the start.
On a loaded machine both figures drop together: read the ratio.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher

import console.accounts
from console.accounts import Accounts
from scheduler.store import Store

ROOT = Path(__file__).resolve().parents[1]

MB = 1024 * 1024
BARE_APP = '''
import os, sys
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    with open(sys.argv[1], "wb") as out:
        while True:
            message = await receive()
            out.write(message.get("body", b""))
            if not message.get("more_body"):
                break
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_up(url: str, process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped ({process.returncode})")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    """The server's resident memory, every 50 ms, while an upload runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        source = work_dir / "james-carter.mp4"
        source.write_bytes((ROOT / "assets" / "samples" / "raw" / "james-carter.mp4").read_bytes())
        with source.open("r+b") as handle:  # real bytes on disk (not sparse), so reading it costs what a file does
            handle.seek(0, os.SEEK_END)
            while handle.tell() < args.mb * MB:
                handle.write(b"\0" * min(8 * MB, args.mb * MB - handle.tell()))
        size = source.stat().st_size
        baseline = bare_upload(source, work_dir)
        console_rate, memory = console_upload(source, work_dir)
    print(f"{size / MB:.0f} MB over loopback")
    print(f"  bare uvicorn app writing the body to disk:         {baseline:6.1f} MB/s")
    print(f"  console tus upload (the inbox's checks included): {console_rate:6.1f} MB/s  "
          f"({console_rate / baseline:.2f}x the bare app; goal >= 100 MB/s)")
    print(f"  console memory: {memory[0]:.0f} MB before, {memory[1]:.0f} MB at the peak while the bytes streamed "
          f"(+{memory[1] - memory[0]:.0f} MB for a {size / MB:.0f} MB file; goal <= 64 MB), {memory[2]:.0f} MB after the checks")


def curl(method: str, url: str, source: Path, headers: dict[str, str]) -> tuple[float, str]:
    """Send `source` as the request body with curl (streamed from disk); (seconds, status line)."""
    command = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", method, "-T", str(source),
               "-H", "Expect:", "-H", "Transfer-Encoding:"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    started = time.perf_counter()
    status = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - started, status


def bare_upload(source: Path, work: Path) -> float:
    port = free_port()
    script = work / "bare.py"
    script.write_text(BARE_APP)
    process = subprocess.Popen([sys.executable, str(script), str(work / "bare.bin"), str(port)])
    try:
        wait_up(f"http://127.0.0.1:{port}/", process)
        took, status = curl("POST", f"http://127.0.0.1:{port}/", source, {})
        assert status == "204", status
    finally:
        process.terminate()
        process.wait(timeout=20)
    (work / "bare.bin").unlink(missing_ok=True)
    return source.stat().st_size / MB / took


def console_upload(source: Path, work: Path) -> tuple[float, tuple[float, float, float]]:
    console.accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    url = f"sqlite:///{work / 'bench.db'}"
    store = Store(url)
    Accounts(store.engine).add("dora", "designer", "designer-pass-123", by="bench", now=dt.datetime.now(dt.timezone.utc))
    store.close()
    port = free_port()
    inbox = work / "inbox"
    inbox.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "web", "--db", url, "--inbox-dir", str(inbox),
                                "--build-dir", str(work / "build"), "--port", str(port),
                                "--calendar", str(ROOT / "calendar.yaml")], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/healthz", process)
        with httpx.Client(base_url=base, timeout=600) as client:
            page = client.get("/login")
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"csrf": token, "name": "dora", "password": "designer-pass-123", "next": "/"})
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/media").text).group(1)  # type: ignore[union-attr]
            tus = {"Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf}
            cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
            # Warm up: a broken clip loads the checks' libraries (PyAV, numpy) once, as any first upload does.
            warm = work / "warm" / source.name
            warm.parent.mkdir()
            warm.write_bytes(b"not a video" * 1000)
            created = client.post("/media/uploads", headers={**tus, "Upload-Length": str(warm.stat().st_size),
                                                             "Upload-Metadata": "filename " + base64.b64encode(source.name.encode()).decode()})
            curl("PATCH", created.headers["Location"], warm, {**tus, "Cookie": cookie, "Upload-Offset": "0",
                                                               "Content-Type": "application/offset+octet-stream"})
            size = source.stat().st_size
            before = rss_mb(process.pid)
            sampler = Sampler(process.pid)
            sampler.start()
            started = time.perf_counter()
            created = client.post("/media/uploads", headers={**tus, "Upload-Length": str(size), "Upload-Metadata":
                                                             "filename " + base64.b64encode(source.name.encode()).decode()})
            upload = created.headers["Location"]
            # Stop sampling the stream just before the last bytes: from then on the inbox's checks run.
            watcher = threading.Thread(target=_stop_near_end, args=(client, upload, tus, size, sampler), daemon=True)
            watcher.start()
            _, status = curl("PATCH", upload, source, {**tus, "Cookie": cookie, "Upload-Offset": "0",
                                                      "Content-Type": "application/offset+octet-stream"})
            took = time.perf_counter() - started
            sampler.stop.set()
            watcher.join()
            assert status == "204", status
            outcome = client.get(upload).json()["outcome"]
            assert outcome["accepted"], outcome
            assert (inbox / source.name).stat().st_size == size
            after = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return size / MB / took, (before, max(sampler.peak, before), after)


def _stop_near_end(client: httpx.Client, upload: str, tus: dict[str, str], size: int, sampler: Sampler) -> None:
    while not sampler.stop.is_set():
        offset = int(client.head(upload, headers=tus).headers.get("Upload-Offset", 0))
        if offset >= size * 0.97:
            sampler.stop.set()
            return
        time.sleep(0.05)


if __name__ == "__main__":
    main()
