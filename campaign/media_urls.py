"""Signed, expiring addresses for the media that platforms fetch by URL (Instagram, Threads).

A platform that fetches media by URL needs the file on a public address. Plain addresses under
the build folder are predictable (anyone could read a post's image before it goes out), so the
tool hands out signed ones instead: `<base>/signed/<token>/<file name>`, where the token names one
file of the build folder and the moment it stops working, signed with a key that lives in the
secrets file or the environment, never in the repository. The web process (`python run.py web`,
console/media.py) and the sandbox's media server check the token and serve the file.

Low in the layers on purpose: the daemon signs (scheduler/media_links.py), the console and the
emulators' sandbox check, and both only import campaign/.

Lifetimes run on the clock they are given; the daemon and the web process use the real clock
(a platform fetches in real time, also during a fast rehearsal).
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import secrets as random
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer

from campaign.clock import Clock, SystemClock
from campaign.secrets import secret_table

#: The secrets file's table (`[media-urls] key = "..."`) or `CAMPAIGN_MEDIA_URLS_KEY`.
KEY_TABLE = "media-urls"
KEY_ENV = "CAMPAIGN_MEDIA_URLS_KEY"
#: How long a signed address works when the calendar does not say (the container / fetch window).
DEFAULT_LIFETIME = 3600.0
#: The path every signed address starts with on the web process.
ROUTE = "signed"
#: What a probe token answers: `check` compares it, so a reply from another server does not pass.
PROBE_BODY = "embracing-openness media URL check {nonce}\n"
MIN_KEY_LENGTH = 32

_SALT = "embracing-openness.media-url.v1"


class MediaUrlError(Exception):
    """A signed media address cannot be made (no key, a path outside the build folder)."""


class MediaKeyMissing(MediaUrlError):
    """No signing key is configured."""


@dataclass(frozen=True)
class Refused(Exception):
    """A request for a signed address that must not be served: `status` is the HTTP answer
    (403 tampered or for another file, 410 expired, 404 the file is gone)."""

    status: int
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Served:
    """What a valid token gives: a file of the build folder, or a probe's fixed body."""

    path: Path | None
    content_type: str
    probe_body: str | None = None


def load_key(env: Mapping[str, str] | None = None) -> str:
    """The signing key from `CAMPAIGN_MEDIA_URLS_KEY` or the secrets file's `[media-urls] key`
    (MediaKeyMissing names both when neither has one; a short key is refused)."""
    env = os.environ if env is None else env
    key = env.get(KEY_ENV) or secret_table(KEY_TABLE, env).get("key")
    if not key:
        raise MediaKeyMissing(
            f"no key to sign media addresses: set {KEY_ENV} or `key` in the secrets file's [{KEY_TABLE}] table "
            f"(a random string of {MIN_KEY_LENGTH}+ characters, e.g. from `python -c \"import secrets; "
            "print(secrets.token_urlsafe(32))\"`); the daemon and the web process need the same key")
    if len(key) < MIN_KEY_LENGTH:
        raise MediaKeyMissing(f"the media address key is {len(key)} characters; use at least {MIN_KEY_LENGTH} random ones")
    return key


def new_key() -> str:
    """A fresh random key (the sandbox makes one per run)."""
    return random.token_urlsafe(32)


def clean_relative(relative_path: str) -> str:
    """`relative_path` as a path inside the build folder, or MediaUrlError (absolute, `..`, empty)."""
    text = str(relative_path).replace("\\", "/")
    normal = posixpath.normpath(text)
    if not text or text.startswith("/") or normal.startswith("..") or normal in (".", "") or "\x00" in text:
        raise MediaUrlError(f"{relative_path!r} is not a file inside the build folder")
    return normal


class MediaSigner:
    """Makes and checks signed media tokens with one key. `lifetime` seconds from `clock.now()`."""

    def __init__(self, key: str, *, clock: Clock | None = None, lifetime: float = DEFAULT_LIFETIME) -> None:
        if not key:
            raise MediaKeyMissing("an empty key cannot sign media addresses")
        self._serializer = URLSafeSerializer(key, salt=_SALT)
        self.clock = clock or SystemClock()
        self.lifetime = float(lifetime)

    def _expiry(self, lifetime: float | None) -> int:
        return int(self.clock.now().timestamp() + (self.lifetime if lifetime is None else lifetime))

    def token(self, relative_path: str, *, lifetime: float | None = None) -> str:
        """A token for one file of the build folder, valid for `lifetime` seconds (default: the signer's)."""
        return self._serializer.dumps({"p": clean_relative(relative_path), "e": self._expiry(lifetime)})

    def url(self, base_url: str, relative_path: str, *, lifetime: float | None = None) -> str:
        """`<base>/signed/<token>/<file name>`: the file name keeps the extension some fetchers look at."""
        name = posixpath.basename(clean_relative(relative_path))
        return f"{base_url.rstrip('/')}/{ROUTE}/{self.token(relative_path, lifetime=lifetime)}/{quote(name)}"

    def probe_url(self, base_url: str, *, lifetime: float = 300.0) -> tuple[str, str]:
        """(address, expected body) of a signed test address no post uses: proves that the public
        address reaches a server holding the same key."""
        nonce = random.token_hex(8)
        token = self._serializer.dumps({"probe": nonce, "e": self._expiry(lifetime)})
        return f"{base_url.rstrip('/')}/{ROUTE}/{token}/check.txt", PROBE_BODY.format(nonce=nonce)

    def open(self, token: str, name: str, build_dir: Path) -> Served:
        """What `token` (with the file name the address ends in) gives, or `Refused`."""
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise Refused(403, "this media address is not valid (its signature does not match)") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
            raise Refused(403, "this media address is not valid")
        if self.clock.now().timestamp() > payload["e"]:
            raise Refused(410, "this media address has expired")
        if "probe" in payload:
            return Served(None, "text/plain; charset=utf-8", PROBE_BODY.format(nonce=payload["probe"]))
        try:
            relative = clean_relative(str(payload.get("p", "")))
        except MediaUrlError:
            raise Refused(403, "this media address is not valid") from None
        if name != posixpath.basename(relative):
            raise Refused(403, "this media address is for another file")
        root = Path(build_dir).resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):  # a symlink out of the build folder
            raise Refused(403, "this media address is for a file outside the build folder")
        if not path.is_file():
            raise Refused(404, "the file of this media address is no longer there")
        return Served(path, mimetypes.guess_type(path.name)[0] or "application/octet-stream")
