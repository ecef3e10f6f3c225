"""What every platform emulator shares: a threaded HTTP server on 127.0.0.1 (requests and replies
in `wire.py`), fault injection, processing jobs, the accounts (each
known by its token, as on the real platforms: two channels are two accounts) and the list
of what each account published (thread-safe), so tests and the sandbox can read posts back.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from campaign.clock import Clock, SystemClock
from emulators.oauth import OAuthServer, TokenRules
from emulators.wire import DROP, Reject, Reply, Request

FAULTS = ("rate_limit", "server_error", "timeout", "slow_processing", "processing_failed", "expired_token",
          "quota_exhausted", "drop_after_create", "cut_upload")



@dataclass
class Job:
    """Asynchronous media processing: in progress for `polls` status checks (or, with
    `ready_at`, until that time on the emulator's clock), then done or failed."""

    polls: int
    fails: bool = False
    reason: str = "the media could not be processed"
    ready_at: dt.datetime | None = None
    clock: Clock | None = None

    def _waiting(self) -> bool:
        if self.ready_at is not None and self.clock is not None:
            return self.clock.now() < self.ready_at
        return self.polls > 0

    def step(self) -> str:
        if self.ready_at is None and self.polls > 0:
            self.polls -= 1
            return "processing"
        if self._waiting():
            return "processing"
        return "failed" if self.fails else "done"

    @property
    def state(self) -> str:
        return "processing" if self._waiting() else ("failed" if self.fails else "done")


class Emulator:
    """Base of the platform emulators. Subclasses implement `route(request)` and the
    platform's shapes for errors (`error_reply`), rate limits and expired tokens.

    Accounts: the token a request carries says which account acts (`account_for`), so
    duplicate checks, quotas and listings are per account, as on the real APIs. The first
    account (`account`, `token`) is made at start; `add_account` adds more.
    """

    platform = ""
    #: path the publisher's `base_url` ends with on the real host (LinkedIn: "/rest")
    api_root = ""
    #: name of the first account when none is given
    default_account = "campaign"
    #: the platform's OAuth 2.0 authorization server (authorize, token endpoints, lifetimes), or None
    oauth_rules: TokenRules | None = None
    #: typical lifetime impressions of one post on the platform (emulators.metrics grows figures to it)
    audience = 5_000

    def __init__(self, *, clock: Clock | None = None, token: str | None = None, account: str | None = None,
                 processing_polls: int = 1, timeout_seconds: float = 2.0, host: str = "127.0.0.1", port: int = 0,
                 **options: Any) -> None:
        self.clock = clock or SystemClock()
        self.processing_polls = processing_polls
        self.timeout_seconds = timeout_seconds
        self.options = options
        self._lock = threading.RLock()
        self._request = threading.local()
        #: tokens issued through the platform's OAuth flow (`emulators/oauth.py`), beside the static ones
        self.oauth: OAuthServer | None = (OAuthServer(self.tune_oauth(self.oauth_rules, options), self.clock,
                                                      lambda: self.accounts) if self.oauth_rules else None)
        self._tokens: dict[str, str] = {}  # token -> account name
        #: the first account's name and token (what single-account tests use)
        self.account = account or self.default_account
        self.token = self.add_account(self.account, token=token)
        self._faults: list[tuple[str, list[int], dict[str, Any]]] = []
        self._published: list[dict[str, Any]] = []
        #: every create the emulator refused as a repeat of an earlier post (X 403, Facebook 506,
        #: LinkedIn 422 DUPLICATE_POST): a test of "never twice" requires this to stay empty,
        #: so no test passes because an emulator refused a duplicate.
        self.duplicate_refusals: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=f"{self.platform}-emulator", daemon=True)
        self._thread.start()

    # ---- public API ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """What to give the publisher as `base_url` (api overrides)."""
        return self.base_url + self.api_root

    def add_account(self, name: str, *, token: str | None = None) -> str:
        """Open an account (one channel's identity on the platform); returns the token that acts as it.
        Several tokens may act as one account; one token never acts as two."""
        token = token or f"sandbox-{self.platform}-{secrets.token_urlsafe(12)}"
        with self._lock:
            if self._tokens.get(token, name) != name:
                raise ValueError(f"this token already belongs to another {self.platform} account")
            self._tokens[token] = name
        return token

    def credentials_of(self, account: str, token: str) -> dict[str, str]:
        """What a publisher needs to act as `account` here (the sandbox hands it out as the channel's
        secrets): the static token, and the OAuth app's client id and secret where the platform has OAuth."""
        if self.oauth is None:
            return {"TOKEN": token}
        return {"TOKEN": token, "CLIENT_ID": self.oauth.client_id, "CLIENT_SECRET": self.oauth.client_secret or ""}

    def overrides(self, media_base_url: str) -> dict[str, str]:
        """The API settings that point a publisher at this emulator (`media_base_url`: where the
        sandbox serves the build folder, for platforms that fetch media by URL), and its OAuth endpoints."""
        found = {"base_url": self.api_url}
        if self.oauth is not None:
            found.update(authorize_url=self.base_url + self.oauth.rules.authorize_path,
                         token_url=self.base_url + self.oauth.rules.token_path)
        return found

    def tune_oauth(self, rules: TokenRules, options: dict[str, Any]) -> TokenRules:
        """The platform's rules with this emulator's options (LinkedIn: refresh tokens for partner apps)."""
        return rules

    def account_for(self, token: str | None) -> str | None:
        """The account a token acts as, or None when the platform would not know the token (or it expired)."""
        state, account = self.token_state(token)
        return account if state == "ok" else None

    def token_state(self, token: str | None) -> tuple[str, str | None]:
        """("ok", account), ("expired", account) for an OAuth token past its end, or ("unknown", None)."""
        with self._lock:
            account = self._tokens.get(token or "")
        if account is not None:
            return "ok", account
        return self.oauth.state_of(token) if self.oauth is not None else ("unknown", None)

    def oauth_reply(self, reply: Reply) -> Reply:
        """The token endpoint's answer in the platform's own words (oauthlib answers as RFC 6749 says)."""
        return reply

    @property
    def accounts(self) -> list[str]:
        """Every account's name, in the order they were opened."""
        with self._lock:
            return list(dict.fromkeys(self._tokens.values()))

    @property
    def published(self) -> list[dict[str, Any]]:
        """Every post the emulator accepted, oldest first: dicts with at least `id`, `url`,
        `account`, `text`, `language`, `languages`, `alt_texts`, `media` (one `MediaInfo.as_dict()`
        each) and `received_at` (ISO 8601 on the emulator's clock: the post's creation time)."""
        with self._lock:
            return [dict(p) for p in self._published]

    def published_by(self, account: str) -> list[dict[str, Any]]:
        """What one account published, oldest first (same dicts as `published`)."""
        return [p for p in self.published if p["account"] == account]

    def inject(self, fault: str, count: int = 1, **params: Any) -> None:
        """Make the next `count` matching requests fail. `on=` limits it to one action
        (e.g. "create", "upload", "status"), `after=n` spares the first n matching requests; other params
        tune the fault (retry_after, polls, seconds;
        `slow_processing` with `seconds=` processes for that long on the emulator's clock)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
        with self._lock:
            self._faults.append((fault, [count], params))

    def pending_faults(self) -> list[dict[str, Any]]:
        """Injected faults that have not fired yet (a test can require that every planned fault did)."""
        with self._lock:
            return [{"fault": name, "remaining": remaining[0], **params} for name, remaining, params in self._faults
                    if remaining[0] > 0]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- for subclasses ----------------------------------------------------------------
    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def now(self) -> dt.datetime:
        return self.clock.now()

    def take(self, fault: str, action: str | None = None) -> dict[str, Any] | None:
        """Consume one pending `fault` that applies to `action` (None: any); its params, or None."""
        with self._lock:
            for name, remaining, params in self._faults:
                if name != fault or remaining[0] <= 0:
                    continue
                target = params.get("on")
                if target is not None and target != action:
                    continue
                if params.get("after", 0) > 0:  # let the first `after` matching requests through
                    params["after"] -= 1
                    continue
                remaining[0] -= 1
                return params
        return None

    def new_job(self) -> Job:
        slow = self.take("slow_processing")
        failed = self.take("processing_failed")
        polls = int(slow.get("polls", 3)) if slow else self.processing_polls
        ready_at = self.now() + dt.timedelta(seconds=float(slow["seconds"])) if slow and "seconds" in slow else None
        return Job(polls=polls, fails=failed is not None, reason=(failed or {}).get("reason", "the media could not be processed"),
                   ready_at=ready_at, clock=self.clock)

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep a created post; `entry` names its `account` (the acting account's name)."""
        if not entry.get("account"):
            raise ValueError("an emulator record must name its account")
        if self.oauth is not None:  # which token published it: None a static one, n the n-th renewal's (0: the first)
            entry.setdefault("token_generation", self.oauth.generation_of(getattr(self._request, "token", None)))
        entry.setdefault("received_at", self.now().isoformat())
        with self._lock:
            self._published.append(entry)
        return entry

    def action_of(self, request: Request) -> str:
        return "other"

    def refuse_duplicate(self, account: str, text: str, existing: dict[str, Any], status: int, message: str,
                         **extra: Any) -> None:
        """Refuse a create as the platform does for a repeated post, and count the refusal."""
        with self._lock:
            self.duplicate_refusals.append({"account": account, "text": text, "existing": existing.get("id"),
                                            "at": self.now().isoformat()})
        raise Reject(status, message, **extra)

    def route(self, request: Request) -> Reply | object:  # pragma: no cover - abstract
        raise NotImplementedError

    def serves_figures(self, request: Request) -> bool:
        """True when `request` asks for a post's figures (results read them; counted as the `metrics` action)."""
        return False

    def figures(self, request: Request) -> Reply:  # pragma: no cover - every platform with figures overrides it
        """The platform's figures endpoint, in its real shape (see `emulators.metrics`)."""
        raise Reject(404, "this platform serves no figures")

    def error_reply(self, status: int, message: str, **extra: Any) -> Reply:
        return Reply(status, {"error": message})

    def rate_limit_reply(self, retry_after: float, params: dict[str, Any]) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def server_error_reply(self) -> Reply:
        return self.error_reply(500, "internal server error")

    # ---- dispatch ------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Reply | object:
        self._request.token = request.bearer()  # this thread's request (`record` names the token's generation)
        with self._lock:
            self.requests.append((request.method, request.path))
        oauth = self.oauth is not None and self.oauth.handles(request)
        action = "token" if oauth else "metrics" if self.serves_figures(request) else self.action_of(request)
        timeout = self.take("timeout", action)
        if timeout is not None:
            time.sleep(float(timeout.get("seconds", self.timeout_seconds)))
            return DROP
        if self.take("server_error", action) is not None:
            return self.server_error_reply()
        limited = self.take("rate_limit", action)
        if limited is not None:
            return self.rate_limit_reply(float(limited.get("retry_after", 60)), limited)
        if oauth:
            assert self.oauth is not None
            return self.oauth_reply(self.oauth.serve(request, self.base_url))
        try:
            return self.figures(request) if action == "metrics" else self.route(request)
        except Reject as exc:
            return self.error_reply(exc.status, exc.message, **exc.extra)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # headers and body go out in separate writes: avoid Nagle/delayed-ACK stalls
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: tokens may sit in URLs
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                lists = parse_qs(parts.query, keep_blank_values=True)
                query = {k: v[-1] for k, v in lists.items()}
                request = Request(self.command, parts.path, query, {k.lower(): v for k, v in self.headers.items()}, body,
                                  query_lists=lists)
                try:
                    reply = emulator.dispatch(request)
                except Exception as exc:  # noqa: BLE001 - a bug in an emulator answers 500, never hangs
                    reply = emulator.error_reply(500, f"emulator error: {type(exc).__name__}: {exc}")
                if reply is DROP:
                    self.close_connection = True
                    return
                assert isinstance(reply, Reply)
                if isinstance(reply.body, (bytes, bytearray)):
                    payload = bytes(reply.body)
                elif reply.body is None:
                    payload = b""
                else:
                    payload = json.dumps(reply.body).encode("utf-8")
                self.send_response(reply.status)
                if payload or reply.body is not None:
                    self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        return Handler



def epoch_in(clock: Clock, seconds: float) -> int:
    return int(clock.now().timestamp() + seconds + 0.999)


