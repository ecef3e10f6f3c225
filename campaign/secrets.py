"""Every secret the tool was configured with, and one `scrub` that removes them from any text.

Publishers scrub what they raise, but a server that echoes a request (a Bluesky `error`
field holding the app password) or an exception nobody anticipated can still carry a secret
towards a log line, the store or a page. So the edges scrub too, whatever the platform:
the log handler, every text the store writes, `status` and the preview. The values are the
channel credentials from the environment (`CAMPAIGN_<CHANNEL>_<NAME>`) and from the secrets
file, the password of the store's URL, and anything shaped like a token (JWTs, bearer
values, `access_token=` parameters, `user:password@` in URLs), in the forms a server may
echo them (as written, URL-encoded, JSON-escaped).
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import quote, quote_plus

SECRETS_FILE = Path("~/.config/embracing-openness/secrets.toml")
MASK = "***"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words; no real token is that short

#: CAMPAIGN_* variables that configure the tool and hold no credential.
NOT_SECRET = re.compile(r"^CAMPAIGN_(CLOCK_\w+|REQUIRE_\w+|TEST_\w+|DB_URL|SECRETS_FILE|LOG\w*)$")

#: Credential names that identify rather than authenticate (a handle is on every public post).
PUBLIC_NAME = re.compile(r"(IDENTIFIER|HANDLE|USER(NAME)?|ACCOUNT|EMAIL|DID|URL|ID)$", re.IGNORECASE)

#: Token shapes, anywhere in a text: (pattern, group to keep before the mask).
TOKEN_SHAPES = (
    re.compile(r"((?<![\w-])(?:access_token|token|api[_-]?key|apikey|key|password|passwd|secret|client_secret|sig|signature)=)"
               r"[^&\s\"'<>#]+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"(\"(?:accessJwt|refreshJwt|access_token|refresh_token|password|token|appPassword)\"\s*:\s*\")[^\"]*",
               re.IGNORECASE),
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s\"'<>]+:)[^@/\s\"'<>]+(?=@)", re.IGNORECASE),  # user:password@host
    re.compile(r"()\beyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]+"),  # a JWT (Bluesky sessions, OAuth)
    re.compile(r"()\b(?:EAA[A-Za-z0-9]{30,}|ghp_\w{20,}|xox[abp]-[\w-]{10,}|sk-[A-Za-z0-9]{20,})"),
    re.compile(r"(OAuth\s+)[A-Za-z0-9._~+/=:-]{8,}", re.IGNORECASE),  # Meta's upload API: Authorization: OAuth <token>
)

#: Per shape, text it cannot match without (each group: one of these, lower case): a page of
#: a megabyte skips the shapes it has no hint of instead of running every pattern over it.
SHAPE_HINTS = (
    (("token=", "key=", "password=", "passwd=", "secret=", "sig=", "signature="),),
    (("bearer",),),
    (('"accessjwt"', '"refreshjwt"', '"access_token"', '"refresh_token"', '"password"', '"token"', '"apppassword"'),),
    (("://",), ("@",)),
    (("eyj",),),
    (("eaa", "ghp_", "xox", "sk-"),),
    (("oauth",),),
)


#: Secrets this process learnt at run time (tokens read from the store's vault), by name: a
#: renewed token replaces the one before it, so the list stays as short as the channels.
_REMEMBERED: dict[str, tuple[str, ...]] = {}


def remember_secret(name: str, value: str | None) -> None:
    """Scrub `value` from every log line, stored text and page from now on (a token read from
    the store); `name` (e.g. "be-x:access") replaces the value remembered before under it."""
    if value:
        _REMEMBERED[name] = _forms([value])
    else:
        _REMEMBERED.pop(name, None)


def configured_secrets(env: Mapping[str, str] | None = None, secrets_file: Path | None = None) -> tuple[str, ...]:
    """Every configured secret value (and the forms a server may echo it in), longest first."""
    if _REMEMBERED:
        learnt = tuple(form for forms in list(_REMEMBERED.values()) for form in forms)
        return tuple(sorted(_configured(env, secrets_file) + learnt, key=len, reverse=True))
    return _configured(env, secrets_file)


def _configured(env: Mapping[str, str] | None, secrets_file: Path | None) -> tuple[str, ...]:
    env = os.environ if env is None else env
    path = Path(secrets_file or env.get("CAMPAIGN_SECRETS_FILE") or SECRETS_FILE).expanduser()
    try:
        status = path.stat()
        signature: tuple = (status.st_mtime_ns, status.st_size)
    except OSError:
        signature = ()
    relevant = tuple(sorted((k, v) for k, v in env.items() if k.startswith("CAMPAIGN_")))
    return _secrets(relevant, str(path), signature)


@lru_cache(maxsize=8)
def _secrets(env_items: tuple[tuple[str, str], ...], path: str, _signature: tuple) -> tuple[str, ...]:
    values: set[str] = set()
    for key, value in env_items:
        if key == "CAMPAIGN_DB_URL":
            values.add(_url_password(value) or "")
        elif not NOT_SECRET.match(key) and not PUBLIC_NAME.search(key):
            values.add(value)
    values |= set(_file_values(Path(path)))
    return _forms(values)


def _forms(values: Iterable[str]) -> tuple[str, ...]:
    """Each value in every form a server, a page or a JSON answer may carry it, longest first:
    as written, URL-encoded, JSON-escaped (ASCII-only, UTF-8, and with <>& escaped as JSON
    meant for HTML does), and each of those HTML-escaped (`&quot;`/`&#x27;` as Python's
    html.escape writes quotes, `&#34;`/`&#39;` as Jinja2's markupsafe does, quotes left as
    they are in text outside attributes)."""
    forms: set[str] = set()
    for value in values:
        value = value.strip()
        if len(value) < MIN_SECRET_LENGTH:
            continue
        as_json = json.dumps(value, ensure_ascii=False)[1:-1]
        plain = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1], as_json,
                 as_json.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")}
        for form in plain:
            forms |= {form, html.escape(form), html.escape(form, quote=False),
                      html.escape(form).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")}
    return tuple(sorted(forms, key=len, reverse=True))


def _file_values(path: Path) -> Iterable[str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    found: list[str] = []

    def walk(node: object, name: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, str(key))
        elif isinstance(node, str) and not PUBLIC_NAME.search(name):
            found.append(node)

    walk(data)
    return found


def _url_password(url: str) -> str | None:
    match = re.match(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:([^@/\s]+)@", url, re.IGNORECASE)
    return match.group(1) if match else None


def scrub(text: str, extra: Iterable[str] = (), *, shapes: bool = True) -> str:
    """`text` without any configured secret (or `extra` value) and, with `shapes`, without
    anything shaped like a token (off where text must stay byte-exact, e.g. inline images)."""
    if not text:
        return text
    for secret in (*_forms(extra), *configured_secrets()):
        if secret in text:
            text = text.replace(secret, MASK)
    if shapes:
        lowered = text.lower()
        for pattern, hints in zip(TOKEN_SHAPES, SHAPE_HINTS):
            if all(any(hint in lowered for hint in group) for group in hints):
                text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def token_findings(text: str, configured: tuple[str, ...] | None = None) -> list[str]:
    """What in `text` looks like a credential (for `validate`): a short description of each.
    `configured`: `configured_secrets()` when the caller has read them already."""
    found = []
    names = ("a token in a link parameter", "a bearer token", "a token in JSON", "a user:password in a URL",
             "an access token (JWT)", "an access token")  # the OAuth shape (last) only scrubs: "OAuth login" is prose
    for name, pattern in zip(names, TOKEN_SHAPES):
        match = pattern.search(text)
        if match and not match.group(0).endswith(MASK):
            found.append(name)
    if any(secret in text for secret in (configured_secrets() if configured is None else configured)):
        found.append("one of the configured credentials")
    return found


def secrets_file_warning(path: Path | None = None) -> str | None:
    """A warning when the secrets file can be read or written by others (as ssh warns)."""
    path = Path(path or os.environ.get("CAMPAIGN_SECRETS_FILE") or SECRETS_FILE).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (f"warning: the secrets file {path} can be read by other users (mode {stat.filemode(mode)}) — "
                f"run `chmod 600 {path}` so only you can read the channel credentials")
    return None


def secrets_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("CAMPAIGN_SECRETS_FILE") or SECRETS_FILE).expanduser()


def secret_table(name: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The secrets of `name` (e.g. `notify-email`): the secrets file's `[name]` table, overridden
    by the environment's `CAMPAIGN_<NAME>_<KEY>`; keys in lower case. An unreadable file gives
    nothing from the file (`validate` and `check` say why)."""
    env = os.environ if env is None else env
    found: dict[str, str] = {}
    try:
        table = tomllib.loads(secrets_path(env).read_text(encoding="utf-8")).get(name, {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        table = {}
    if isinstance(table, dict):
        found.update({str(k).lower(): str(v) for k, v in table.items() if isinstance(v, (str, int))})
    prefix = "CAMPAIGN_" + name.upper().replace("-", "_") + "_"
    found.update({k[len(prefix):].lower(): v for k, v in env.items() if k.startswith(prefix) and v})
    return found
