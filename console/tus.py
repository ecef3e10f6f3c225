"""A tus 1.0.0 server (resumable uploads) as an ASGI app the console and the API mount.

Written against the protocol text (tus.io/protocols/resumable-upload, version 1.0.0): the
core protocol (HEAD, PATCH, OPTIONS, `X-HTTP-Method-Override`) and the `creation`,
`creation-with-upload`, `expiration` and `termination` extensions. The page uses the
official tus-js-client (vendored in console/static) and the tests use tuspy, the official
Python client, so both ends of the protocol are judged by code written elsewhere. (The
Python tus servers on PyPI are FastAPI routers or unmaintained; this one is ~300 lines.)

Each upload is a folder `<root>/<id>/` with `data` (the bytes received so far; its size *is*
the offset, so a crash never leaves an offset that lies) and `info.json` (length, metadata,
owner, expiry, and the outcome once complete). Bytes go from the socket to the file in
blocks of at most BLOCK bytes, written by a worker thread: memory stays flat whatever the
file's size, and the event loop never waits on the disk. A PATCH holds an exclusive lock on
the upload's data file (flock), so two requests on one upload never interleave (the second
gets 423 Locked and tus clients retry); an interrupted PATCH keeps every byte it received.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Awaitable, Callable

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from campaign.clock import Clock, SystemClock

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,expiration,termination"
OFFSET_TYPE = "application/offset+octet-stream"
BLOCK = 4 * 1024 * 1024  # bytes gathered before a write: large enough for full disk speed, small enough to stay flat
#: A PATCH whose body stops arriving for this long is ended (tus: "a timeout SHOULD be handled by
#: closing the underlying connection"): what arrived is kept and the upload is free for the resume.
IDLE_SECONDS = 10.0
SWEEP_EVERY = dt.timedelta(minutes=10)  # how often a new upload first removes the expired ones
_ID = re.compile(r"^[0-9a-f]{32}$")


class Refused(Exception):
    """An upload is refused before any byte is stored (too large, wrong type, bad name): status and reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class UploadInfo:
    id: str
    length: int
    metadata: dict[str, str]
    owner: str
    created: str
    expires: str
    outcome: dict[str, Any] | None = None  # what the file became, once complete
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.metadata.get("filename") or self.metadata.get("name") or ""


#: who is uploading (an account name) or a response refusing the request (401/403)
Authorize = Callable[[Request], Awaitable["str | Response"]]
#: may this upload start? raise Refused(status, reason) if not
CheckCreation = Callable[[int, dict[str, str], str], None]
#: the upload is complete: take the file at `path` (it may be moved) and say what it became
OnComplete = Callable[[UploadInfo, Path], dict[str, Any]]


class UploadFolder:
    """The uploads on disk: one folder per upload, under a root on the inbox's file system."""

    def __init__(self, root: Path, *, lifetime: dt.timedelta = dt.timedelta(hours=24)) -> None:
        self.root = Path(root)
        self.lifetime = lifetime

    def folder(self, upload_id: str) -> Path:
        if not _ID.match(upload_id):
            raise KeyError(upload_id)
        return self.root / upload_id

    def data(self, upload_id: str) -> Path:
        return self.folder(upload_id) / "data"

    def create(self, length: int, metadata: dict[str, str], owner: str, now: dt.datetime) -> UploadInfo:
        upload_id = secrets.token_hex(16)
        folder = self.folder(upload_id)
        folder.mkdir(parents=True)
        (folder / "data").touch()
        info = UploadInfo(upload_id, length, metadata, owner, now.isoformat(), (now + self.lifetime).isoformat())
        self.save(info)
        return info

    def get(self, upload_id: str) -> UploadInfo | None:
        try:
            text = (self.folder(upload_id) / "info.json").read_text(encoding="utf-8")
        except (KeyError, OSError):
            return None
        return UploadInfo(**json.loads(text))

    def save(self, info: UploadInfo) -> None:
        folder = self.folder(info.id)
        temp = folder / "info.json.tmp"
        temp.write_text(json.dumps(asdict(info)), encoding="utf-8")
        os.replace(temp, folder / "info.json")

    def offset(self, info: UploadInfo) -> int:
        """Bytes received: the data file's size (the whole length once the upload is complete and moved on)."""
        if info.outcome is not None:
            return info.length
        try:
            return self.data(info.id).stat().st_size
        except OSError:
            return 0

    def delete(self, upload_id: str) -> None:
        shutil.rmtree(self.folder(upload_id), ignore_errors=True)

    def expire(self, now: dt.datetime) -> list[str]:
        """Remove uploads past their expiry (unfinished ones, and the records of finished ones)."""
        removed = []
        if not self.root.is_dir():
            return removed
        for folder in self.root.iterdir():
            if not _ID.match(folder.name):
                continue
            info = self.get(folder.name)
            if info is None or dt.datetime.fromisoformat(info.expires) < now:
                self.delete(folder.name)
                removed.append(folder.name)
        return removed


class TusServer:
    """The ASGI app behind `routes(prefix)`: POST at the creation URL, HEAD/PATCH/DELETE/GET at `<prefix>/<id>`."""

    def __init__(self, uploads: UploadFolder, *, authorize: Authorize, check_creation: CheckCreation,
                 on_complete: OnComplete, max_size: int, clock: Clock | None = None) -> None:
        self.uploads = uploads
        self.authorize = authorize
        self.check_creation = check_creation
        self.on_complete = on_complete
        self.max_size = max_size
        self.clock = clock or SystemClock()
        self._swept: dt.datetime | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        method = request.headers.get("x-http-method-override", request.method).upper()
        tail = self._tail(request)
        who = await self.authorize(request)  # first: nothing, not even the server's limits, without a login
        if isinstance(who, Response):
            who.headers["Tus-Resumable"] = TUS_VERSION
            return who
        if method == "OPTIONS":
            return self._options()
        if method != "GET" and request.headers.get("tus-resumable") != TUS_VERSION:
            return self._reply(412, "this server speaks tus 1.0.0 (send Tus-Resumable: 1.0.0)", {"Tus-Version": TUS_VERSION})
        if not tail:
            if method == "POST":
                return await self._create(request, who)
            return self._reply(405, "POST here to start an upload", {"Allow": "POST, OPTIONS"})
        info = self.uploads.get(tail)
        if info is None or info.owner != who:
            return self._reply(404, "no such upload (it finished long ago, expired or was never started) — start again")
        if info.outcome is None and dt.datetime.fromisoformat(info.expires) < self.clock.now():
            self.uploads.delete(info.id)
            return self._reply(410, "this upload expired before it finished — start it again")
        if method == "HEAD":
            return self._head(info)
        if method == "PATCH":
            return await self._patch(request, info)
        if method == "DELETE":
            self.uploads.delete(info.id)
            return self._reply(204)
        if method == "GET":
            return await self._outcome(info)
        return self._reply(405, f"{method} is not part of this server's tus protocol", {"Allow": "HEAD, PATCH, DELETE, GET"})

    # -- requests ----------------------------------------------------------------------------

    def _options(self) -> Response:
        return Response(status_code=204, headers={"Tus-Resumable": TUS_VERSION, "Tus-Version": TUS_VERSION,
                                                  "Tus-Extension": EXTENSIONS, "Tus-Max-Size": str(self.max_size)})

    async def _create(self, request: Request, who: str) -> Response:
        if request.headers.get("upload-defer-length") is not None:
            return self._reply(400, "the length of an upload must be known when it starts (Upload-Defer-Length is not supported)")
        length = _non_negative(request.headers.get("upload-length"))
        if length is None:
            return self._reply(400, "Upload-Length must be the whole file's size in bytes")
        if length > self.max_size:
            return self._reply(413, f"the file is larger than the {self.max_size} bytes this server takes")
        try:
            metadata = parse_metadata(request.headers.get("upload-metadata", ""))
        except ValueError as error:
            return self._reply(400, f"Upload-Metadata: {error}")
        try:
            self.check_creation(length, metadata, who)
        except Refused as refused:
            return self._reply(refused.status, str(refused))
        now = self.clock.now()
        if self._swept is None or now - self._swept > SWEEP_EVERY:  # abandoned uploads do not fill the disk
            self._swept = now
            await run_in_threadpool(self.uploads.expire, now)
        info = self.uploads.create(length, metadata, who, now)
        location = str(request.url.replace(query="", fragment="")).rstrip("/") + "/" + info.id
        headers = {"Location": location, "Upload-Expires": _http_date(info.expires)}
        if request.headers.get("content-type") == OFFSET_TYPE:  # creation-with-upload
            written, problem = await self._receive(request, info, 0)
            headers["Upload-Offset"] = str(written)
            if problem:
                return self._reply(problem[0], problem[1], headers)
            done = await self._finish_if_complete(info, written)
            headers.update(done)
        return self._reply(201, headers=headers)

    def _head(self, info: UploadInfo) -> Response:
        headers = {"Upload-Offset": str(self.uploads.offset(info)), "Upload-Length": str(info.length),
                   "Cache-Control": "no-store"}
        if info.metadata:
            headers["Upload-Metadata"] = format_metadata(info.metadata)
        if info.outcome is None:
            headers["Upload-Expires"] = _http_date(info.expires)
        return self._reply(200, headers=headers)

    async def _patch(self, request: Request, info: UploadInfo) -> Response:
        if request.headers.get("content-type") != OFFSET_TYPE:
            return self._reply(415, f"a PATCH carries Content-Type: {OFFSET_TYPE}")
        offset = _non_negative(request.headers.get("upload-offset"))
        if offset is None:
            return self._reply(400, "Upload-Offset must be a byte offset")
        if info.outcome is not None:
            return self._reply(409, "this upload is complete already", {"Upload-Offset": str(info.length)})
        written, problem = await self._receive(request, info, offset)
        headers = {"Upload-Offset": str(written), "Upload-Expires": _http_date(info.expires)}
        if problem:
            return self._reply(problem[0], problem[1], headers)
        headers.update(await self._finish_if_complete(info, written))
        return self._reply(204, headers=headers)

    async def _outcome(self, info: UploadInfo) -> Response:
        """Not tus: what a complete upload became (finishing it if a crash came between its last byte and now)."""
        offset = self.uploads.offset(info)
        if info.outcome is None and offset == info.length:
            await self._finish_if_complete(info, offset)
        return JSONResponse({"id": info.id, "name": info.name, "length": info.length, "offset": self.uploads.offset(info),
                             "complete": info.outcome is not None, "outcome": info.outcome},
                            headers={"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"})

    # -- the bytes ---------------------------------------------------------------------------

    async def _receive(self, request: Request, info: UploadInfo, offset: int) -> tuple[int, tuple[int, str] | None]:
        """Append the request body at `offset`; (offset after, None) or (offset, (status, reason))."""
        path = self.uploads.data(info.id)
        try:
            handle = open(path, "ab")  # noqa: SIM115 - closed in the finally below, across awaits
        except OSError:
            return offset, (404, "this upload is gone — start again")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return self.uploads.offset(info), (423, "another request is writing to this upload — retry in a moment")
            current = os.fstat(handle.fileno()).st_size
            if offset != current:
                return current, (409, f"Upload-Offset {offset} is not where this upload stands ({current}): ask with HEAD")
            room = info.length - current
            declared = _non_negative(request.headers.get("content-length"))
            if declared is not None and declared > room:
                return current, (413, f"the request carries {declared} bytes; only {room} remain of this upload's length")
            written, overflow = await _stream_to(handle, request, room)
            if overflow:
                return current + written, (413, f"more bytes arrived than this upload's length ({info.length}); the rest was dropped")
            return current + written, None
        finally:
            handle.close()  # releases the lock too

    async def _finish_if_complete(self, info: UploadInfo, offset: int) -> dict[str, str]:
        if offset != info.length or info.outcome is not None:
            return {}
        path = self.uploads.data(info.id)
        with open(path, "rb") as handle:  # one completion at a time: the same lock as the PATCHes
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return {}
            fresh = self.uploads.get(info.id)
            if fresh is None or fresh.outcome is not None:
                return {}
            outcome = await run_in_threadpool(self.on_complete, fresh, path)
            fresh.outcome = outcome
            fresh.expires = (self.clock.now() + self.uploads.lifetime).isoformat()
            self.uploads.save(fresh)
            info.outcome = outcome
        return {"Upload-Outcome": "accepted" if outcome.get("accepted") else "refused"}

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _tail(request: Request) -> str:
        """The upload id in the URL ('' at the creation URL): mount with `routes(prefix)`."""
        return str(request.path_params.get("upload_id", ""))

    def routes(self, prefix: str) -> list[Route]:
        """The creation URL and the upload URLs under it (no trailing-slash redirect: clients
        drop headers such as Cookie when they follow one)."""
        every = ["HEAD", "PATCH", "DELETE", "GET", "OPTIONS", "POST"]  # POST: X-HTTP-Method-Override
        return [Route(prefix, self, methods=["POST", "OPTIONS"]), Route(prefix + "/{upload_id}", self, methods=every)]

    @staticmethod
    def _reply(status: int, message: str = "", headers: dict[str, str] | None = None) -> Response:
        merged = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **(headers or {})}
        if status in (204, 304) or not message:
            return Response(status_code=status, headers=merged)
        return PlainTextResponse(message, status_code=status, headers=merged)


async def _stream_to(handle: Any, request: Request, room: int) -> tuple[int, bool]:
    """Write the body to `handle` in blocks on a worker thread; (bytes written, whether it overflowed).

    One block is written while the next one arrives (the socket is read again at once), so the
    network and the disk work at the same time. A client that goes away mid-request leaves
    every byte that arrived written (the tus rule: store as much as possible), so the next HEAD
    resumes from there.
    """
    loop = asyncio.get_running_loop()
    written = 0
    overflow = False
    block = bytearray()
    pending: asyncio.Future | None = None  # the block being written
    pending_size = 0

    async def settle() -> None:
        nonlocal pending, pending_size, written
        if pending is not None:
            await pending
            written += pending_size
            pending, pending_size = None, 0

    async def flush() -> None:
        nonlocal block, pending, pending_size
        await settle()
        if block:
            data, block = block, bytearray()
            pending, pending_size = loop.run_in_executor(None, _write_all, handle, data), len(data)

    chunks = request.stream().__aiter__()
    try:
        while True:
            chunk = None
            with anyio.move_on_after(IDLE_SECONDS):  # a connection gone silent: keep what came, free the upload
                chunk = await chunks.__anext__()
            if chunk is None:
                break
            if not chunk:
                continue
            take = room - written - pending_size - len(block)
            if len(chunk) > take:
                chunk, overflow = chunk[:max(0, take)], True
            block += chunk
            if len(block) >= BLOCK:
                await flush()
            if overflow:
                break
    except (ClientDisconnect, StopAsyncIteration):
        pass
    finally:
        with anyio.CancelScope(shield=True):  # even when the request is cancelled: keep what arrived
            await flush()
            await settle()
    return written, overflow


def _write_all(handle: Any, data: bytes) -> None:
    handle.write(data)
    handle.flush()


def parse_metadata(header: str) -> dict[str, str]:
    """`key base64,key2 base64` (tus Upload-Metadata) to a dict of text values."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, value = pair.partition(" ")
        if not key or " " in value.strip() or key in found:
            raise ValueError(f"{pair!r} is not `key base64-value` (keys unique, no spaces)")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8") if value.strip() else ""
        except (binascii.Error, UnicodeDecodeError):
            raise ValueError(f"the value of {key!r} is not base64 of UTF-8 text") from None
    return found


def format_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode('utf-8')).decode('ascii')}" if v else k for k, v in metadata.items())


def _non_negative(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _http_date(iso: str) -> str:
    return format_datetime(dt.datetime.fromisoformat(iso).astimezone(dt.timezone.utc), usegmt=True)
