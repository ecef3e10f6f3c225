"""What the console checks on every request and every answer, whatever route serves it.

- `ScrubAnswers`: every HTML, JSON and text answer goes out through the project's one scrub
  (`campaign.secrets.scrub`) as the client will receive it, so a secret is masked in every
  encoding a page or JSON answer can carry (as typed, HTML-escaped, URL-encoded,
  JSON-escaped; `campaign.secrets` lists the forms). Scrubbing the values before a template
  escapes them missed `Pa&amp;ss&lt;w&gt;rd`.
- `FormLimit`: a form body larger than `MAX_FORM_BYTES` is refused (413) before it is read;
  the actions bound each comment and reason (`scheduler.actions.MAX_COMMENT`).
- `same_origin`: a POST whose `Origin` (or, without one, `Referer`) names another site is
  refused, beside the CSRF token (as Django and OWASP advise: browsers send `Origin` on every
  cross-site POST).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request

from campaign.secrets import scrub
from console.offload import off_loop

#: The largest urlencoded form the console reads (a comment is at most 4,000 characters;
#: uploads are multipart or tus and have their own limits).
MAX_FORM_BYTES = 1024 * 1024

SCRUBBED_TYPES = (b"text/html", b"application/json", b"text/plain", b"application/problem+json",
                  b"application/xml", b"text/xml", b"text/csv")


def same_origin(request: Request) -> bool:
    """Did this request come from a page of the console itself? The `Origin` header (or the
    `Referer`, when a browser sends no Origin) must name the host the request was sent to.
    Neither header: not a browser posting from another site (scripts, the CLI's tests), and
    the CSRF token still decides."""
    host = request.headers.get("host", "").lower()
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and _netloc(origin) == host
    referer = request.headers.get("referer")
    if referer:
        return _netloc(referer) == host
    return True


def _netloc(url: str) -> str:
    try:
        return urlsplit(url.strip()).netloc.lower()
    except ValueError:
        return "\0"  # not a URL: matches no host


class ScrubAnswers:
    """ASGI middleware: every textual answer, scrubbed as a whole once it is complete."""

    #: Big answers scrubbed lately, by their digest: the same calendar sent to many people is
    #: scrubbed once (a 500 KB page takes about 25 ms; its digest 1 ms), for a few seconds (a
    #: credential configured meanwhile is scrubbed from the next answers).
    REMEMBERED, REMEMBER_SECONDS = 8, 5.0

    def __init__(self, app: Any, secrets: tuple[str, ...] = ()) -> None:
        self.app = app
        self.secrets = secrets
        self._done: OrderedDict[bytes, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def scrubbing(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip().lower()
                if kind in SCRUBBED_TYPES:
                    start = message
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                # a big page takes milliseconds to scrub: in a worker thread, never on the event loop
                body = await off_loop(self._scrub_big, body) if len(body) > 16_384 else self._scrub(body)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, scrubbing)

    def _scrub_big(self, body: bytes) -> bytes:
        digest = hashlib.blake2b(body, digest_size=32).digest()
        with self._lock:
            seen = self._done.get(digest)
            if seen is not None and time.monotonic() - seen[0] < self.REMEMBER_SECONDS:
                return seen[1]
        done = self._scrub(body)
        with self._lock:
            self._done[digest] = (time.monotonic(), done)
            self._done.move_to_end(digest)
            while len(self._done) > self.REMEMBERED:
                self._done.popitem(last=False)
        return done

    def _scrub(self, body: bytes) -> bytes:
        try:
            return scrub(body.decode("utf-8"), self.secrets).encode("utf-8")
        except UnicodeDecodeError:  # not UTF-8: scrub byte for byte
            return scrub(body.decode("latin-1"), self.secrets).encode("latin-1")


class FormLimit:
    """ASGI middleware: 413 for an urlencoded body over `limit` bytes, by its Content-Length or
    as it streams in (a client may send none)."""

    def __init__(self, app: Any, limit: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/x-www-form-urlencoded":
            await self.app(scope, receive, send)
            return
        try:
            declared = int(headers.get(b"content-length", b"0"))
        except ValueError:
            declared = self.limit + 1
        if declared > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counting() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:  # raised where the form is read: Starlette answers it
                    raise HTTPException(413, _TOO_LARGE.format(self.limit // 1024))
            return message

        await self.app(scope, counting, send)


_TOO_LARGE = "This form is larger than the console accepts ({} KB)."


async def _too_large(send: Any, limit: int) -> None:
    body = _TOO_LARGE.format(limit // 1024).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
