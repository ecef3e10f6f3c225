"""What an emulator's HTTP exchange is made of, shared by every emulator and the metrics endpoints:
the parsed `Request` (JSON, forms, multipart `Part`s), the `Reply`, and `Reject`, raised inside
a handler to answer with the platform's error shape (`require` raises it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs

DROP = object()  # close the connection without answering


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    _form: tuple[dict[str, list[str]], dict[str, Part]] | None = None
    #: every value of a repeated query parameter (`?uris=a&uris=b`); `query` keeps the last
    query_lists: dict[str, list[str]] = field(default_factory=dict)

    def query_all(self, name: str) -> list[str]:
        """Every value of query parameter `name`, in order (XRPC repeats array parameters)."""
        if name in self.query_lists:
            return list(self.query_lists[name])
        return [self.query[name]] if name in self.query else []

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        if self.content_type != "application/json":
            raise Reject(415, f"expected Content-Type application/json, got {self.content_type or 'none'}")
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            raise Reject(400, "the body is not valid JSON") from None

    def form(self) -> tuple[dict[str, list[str]], dict[str, Part]]:
        """(fields, files) from urlencoded or multipart bodies; query parameters count as fields."""
        if self._form is None:
            fields: dict[str, list[str]] = {k: [v] for k, v in self.query.items()}
            files: dict[str, Part] = {}
            if self.content_type == "multipart/form-data":
                for part in parse_multipart(self.body, self.headers.get("content-type", "")):
                    if part.filename is not None:
                        files[part.name] = part
                    else:
                        fields.setdefault(part.name, []).append(part.data.decode("utf-8"))
            elif self.content_type == "application/x-www-form-urlencoded":
                for key, values in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items():
                    fields.setdefault(key, []).extend(values)
            self._form = (fields, files)
        return self._form

    def field(self, name: str, default: str | None = None) -> str | None:
        values = self.form()[0].get(name)
        return values[-1] if values else default

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:].strip() if value.lower().startswith("bearer ") else None


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    boundary = None
    for piece in content_type.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise Reject(400, "multipart body without a boundary")
    parts: list[Part] = []
    delimiter = b"--" + boundary.encode()
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        params = {}
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            params[key.lower()] = value.strip('"')
        parts.append(Part(params.get("name", ""), params.get("filename"), headers.get("content-type"), data))
    return parts


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class Reject(Exception):
    """Raised inside a handler to answer with the platform's error shape."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra



def require(condition: Any, message: str, status: int = 400, **extra: Any) -> None:
    if not condition:
        raise Reject(status, message, **extra)



Route = Callable[[Request], Reply]
