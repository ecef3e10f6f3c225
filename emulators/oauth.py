"""The authorization server of an emulator: authorize (a consent page with an Approve button)
and token endpoints on oauthlib's `WebApplicationServer` (RFC 6749 authorization code and
refresh grants, RFC 7636 PKCE S256), so the client is judged by code written elsewhere.

Each platform gives its rules (`TokenRules`): access-token lifetime on the emulator's clock,
whether refresh tokens are issued (and which scope asks for one: X's `offline.access`),
whether they are single-use (X rotates them), their lifetime. Access tokens it issued are
accepted by the platform's API until they expire (`Emulator.token_state`); expired ones are
refused with the platform's own error. `revoke_refresh_tokens()` plays a user removing the app.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

from oauthlib.oauth2 import OAuth2Error, RequestValidator, WebApplicationServer

from campaign.clock import Clock
from emulators.wire import Reject, Reply, Request

#: Real seconds an authorization code stays usable (RFC 6749 recommends at most 10 minutes).
CODE_SECONDS = 600.0


@dataclass(frozen=True)
class TokenRules:
    authorize_path: str
    token_path: str
    scopes: tuple[str, ...]  # the scopes the platform knows
    access_lifetime: float  # seconds, on the emulator's clock
    refresh: bool = True  # refresh tokens issued at all
    refresh_scope: str | None = None  # the scope that asks for one (X: offline.access)
    rotating: bool = False  # single-use refresh tokens
    refresh_lifetime: float | None = None  # seconds on the emulator's clock; None: no end
    state_refresh_lifetime: bool = False  # the answer says `refresh_token_expires_in` (LinkedIn, Google)
    pkce_required: bool = True
    revoke_path: str | None = None


@dataclass
class Grant:
    """An issued token: who it acts as, for which scopes, until when, and whether it still works."""

    account: str
    client_id: str
    scopes: list[str]
    expires_at: dt.datetime | None
    revoked: bool = False
    used: bool = False  # a single-use refresh token that was spent
    generation: int = 0  # renewals since the person approved (0: from the authorization code)


class OAuthServer:
    def __init__(self, rules: TokenRules, clock: Clock, accounts: Callable[[], list[str]]) -> None:
        self.rules = rules
        self.clock = clock
        self.accounts = accounts
        self._lock = threading.RLock()
        self.clients: dict[str, str | None] = {}  # client id -> secret (None: a public client)
        self.codes: dict[str, dict[str, Any]] = {}
        self.access: dict[str, Grant] = {}
        self.refresh: dict[str, Grant] = {}
        #: every refresh request answered: (refresh token's grant account, ok) — tests count renewals
        self.refreshes: list[tuple[str, bool]] = []
        self.server = WebApplicationServer(_Validator(self), token_expires_in=int(rules.access_lifetime),
                                           token_generator=lambda _request: secrets.token_urlsafe(32),
                                           refresh_token_generator=lambda _request: secrets.token_urlsafe(40))
        self.client_id, self.client_secret = self.add_client()

    # ---- for tests and the sandbox ------------------------------------------------------------
    def add_client(self, *, public: bool = False) -> tuple[str, str | None]:
        client_id = "client-" + secrets.token_urlsafe(8)
        secret = None if public else secrets.token_urlsafe(24)
        with self._lock:
            self.clients[client_id] = secret
        return client_id, secret

    def revoke_refresh_tokens(self, account: str | None = None) -> int:
        """The user removed the app (or an admin revoked it): every refresh token (of `account`) dies."""
        with self._lock:
            hit = [g for g in self.refresh.values() if account in (None, g.account) and not g.revoked]
            for grant in hit:
                grant.revoked = True
        return len(hit)

    def state_of(self, token: str | None) -> tuple[str, str | None]:
        """("ok", account), ("expired", account) or ("unknown", None) for an access token."""
        with self._lock:
            grant = self.access.get(token or "")
        if grant is None or grant.revoked:
            return "unknown", None
        if grant.expires_at is not None and self.clock.now() >= grant.expires_at:
            return "expired", grant.account
        return "ok", grant.account

    def generation_of(self, token: str | None) -> int | None:
        """How many renewals gave this access token (0: the code exchange), None: not one this server issued."""
        with self._lock:
            grant = self.access.get(token or "")
        return grant.generation if grant is not None else None

    def live_refresh_tokens(self, account: str | None = None) -> int:
        now = self.clock.now()
        with self._lock:
            return sum(1 for g in self.refresh.values() if account in (None, g.account) and not g.revoked and not g.used
                       and (g.expires_at is None or g.expires_at > now))

    # ---- HTTP ---------------------------------------------------------------------------------
    def handles(self, request: Request) -> bool:
        return request.path in (self.rules.authorize_path, self.rules.token_path, self.rules.revoke_path)

    def serve(self, request: Request, base_url: str) -> Reply:
        try:
            return self._serve(request, base_url)
        except OAuth2Error as error:  # a bad authorize request: the page says what is wrong
            return Reply(error.status_code, {"error": error.error, "error_description": error.description or ""})

    def _serve(self, request: Request, base_url: str) -> Reply:
        uri = base_url + request.path + (("?" + urlencode(request.query)) if request.query else "")
        headers = {k.title(): v for k, v in request.headers.items()}
        if request.path == self.rules.token_path and request.method == "POST":
            out_headers, body, status = self.server.create_token_response(uri, "POST", request.body.decode("utf-8"), headers)
            return Reply(status, json.loads(body) if body else {}, headers={k: v for k, v in out_headers.items()
                                                                            if k.lower() != "content-type"})
        if request.path == self.rules.revoke_path and request.method == "POST":
            token = (parse_qs(request.body.decode("utf-8")).get("token") or [""])[0]
            with self._lock:
                for table in (self.refresh, self.access):
                    if token in table:
                        table[token].revoked = True
            return Reply(200, {"revoked": True})
        if request.path == self.rules.authorize_path and request.method == "GET":
            return self._consent_page(uri, request)
        if request.path == self.rules.authorize_path and request.method == "POST":
            return self._approve(base_url, request)
        raise Reject(405, f"{request.method} is not allowed on {request.path}")

    def _consent_page(self, uri: str, request: Request) -> Reply:
        scopes, info = self.server.validate_authorization_request(uri, "GET", None, {})  # raises OAuth2Error subclasses
        fields = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in request.query.items())
        options = "".join(f'<option value="{html.escape(a)}">{html.escape(a)}</option>' for a in self.accounts())
        listed = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        page = (f"<!doctype html><html><head><title>Authorize app</title></head><body><h1>Authorize access</h1>"
                f"<p>The app <code>{html.escape(info['client_id'])}</code> asks to act as your account:</p><ul>{listed}</ul>"
                f'<form method="post" action="{html.escape(self.rules.authorize_path)}">{fields}'
                f'<label>Account <select name="account">{options}</select></label> '
                f'<button type="submit" name="decision" value="approve">Approve</button> '
                f'<button type="submit" name="decision" value="deny">Cancel</button></form></body></html>')
        return Reply(200, page.encode("utf-8"), content_type="text/html; charset=utf-8")

    def _approve(self, base_url: str, request: Request) -> Reply:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}
        decision, account = form.pop("decision", "deny"), form.pop("account", "")
        uri = base_url + request.path + "?" + urlencode(form)
        scopes, _info = self.server.validate_authorization_request(uri, "GET", None, {})
        if decision != "approve":
            target = form.get("redirect_uri", "")
            return Reply(302, None, headers={"Location": target + ("&" if "?" in target else "?")
                                             + urlencode({"error": "access_denied", "state": form.get("state", "")})})
        if account not in self.accounts():
            raise Reject(400, f"no account {account!r} on this emulator")
        out_headers, _body, status = self.server.create_authorization_response(uri, "GET", None, {}, scopes,
                                                                               credentials={"account": account})
        return Reply(status, None, headers=dict(out_headers))


class _Validator(RequestValidator):
    """oauthlib asks; the emulator's tables answer."""

    def __init__(self, owner: OAuthServer) -> None:
        self.o = owner

    # clients
    def _basic(self, request: Any) -> tuple[str, str] | None:
        value = (request.headers or {}).get("Authorization", "")
        if not value.lower().startswith("basic "):
            return None
        try:
            client_id, _, secret = base64.b64decode(value[6:]).decode("utf-8").partition(":")
        except ValueError:
            return None
        return client_id, secret

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        basic = self._basic(request)
        client_id = basic[0] if basic else request.client_id
        return self.o.clients.get(client_id) is not None

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        basic = self._basic(request)
        client_id, secret = basic if basic else (request.client_id, request.client_secret)
        expected = self.o.clients.get(client_id or "")
        if expected is None or not secret or not secrets.compare_digest(expected, secret):
            return False
        request.client_id = client_id
        request.client = type("Client", (), {"client_id": client_id})()
        return True

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        if client_id in self.o.clients and self.o.clients[client_id] is None:
            request.client = type("Client", (), {"client_id": client_id})()
            return True
        return False

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return client_id in self.o.clients

    # redirect URIs: any callback on this machine (the console's), as a registered app's would be
    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return redirect_uri.startswith(("http://127.0.0.1", "http://localhost", "https://"))

    def get_default_redirect_uri(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> str | None:
        return None

    def confirm_redirect_uri(self, client_id: str, code: str, redirect_uri: str, client: Any, request: Any,
                             *args: Any, **kwargs: Any) -> bool:
        found = self.o.codes.get(code)
        return found is not None and found["redirect_uri"] == redirect_uri

    # scopes, grants
    def validate_response_type(self, client_id: str, response_type: str, client: Any, request: Any, *args: Any,
                               **kwargs: Any) -> bool:
        return response_type == "code"

    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        return bool(scopes) and set(scopes) <= set(self.o.rules.scopes)

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def validate_grant_type(self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any,
                            **kwargs: Any) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        return self.o.rules.pkce_required

    # codes
    def save_authorization_code(self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any) -> None:
        with self.o._lock:
            self.o.codes[code["code"]] = {"client_id": client_id, "scopes": list(request.scopes),
                                          "redirect_uri": request.redirect_uri, "account": request.account,
                                          "challenge": request.code_challenge,
                                          "method": request.code_challenge_method,
                                          "until": time.monotonic() + CODE_SECONDS}

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        found = self.o.codes.get(code)
        if found is None or found["client_id"] != client_id or time.monotonic() > found["until"]:
            return False
        request.scopes, request.user = found["scopes"], found["account"]
        return True

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        return (self.o.codes.get(code) or {}).get("challenge")

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        return (self.o.codes.get(code) or {}).get("method")

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any) -> None:
        with self.o._lock:
            self.o.codes.pop(code, None)

    # refresh tokens
    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        with self.o._lock:
            grant = self.o.refresh.get(refresh_token)
            now = self.o.clock.now()
            ok = (grant is not None and not grant.revoked and not grant.used and grant.client_id == client.client_id
                  and (grant.expires_at is None or now < grant.expires_at))
            self.o.refreshes.append((grant.account if grant else "?", ok))
            if ok:
                assert grant is not None
                request.user = grant.account
            return ok

    def get_original_scopes(self, refresh_token: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return list(self.o.refresh[refresh_token].scopes)

    def rotate_refresh_token(self, request: Any) -> bool:
        return self.o.rules.rotating

    # tokens
    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        rules, now = self.o.rules, self.o.clock.now()
        scopes = list(request.scopes or [])
        account = request.user
        with self.o._lock:
            old = request.refresh_token if request.grant_type == "refresh_token" else None
            generation = self.o.refresh[old].generation + 1 if old in self.o.refresh else 0
            self.o.access[token["access_token"]] = Grant(account, request.client_id, scopes,
                                                         now + dt.timedelta(seconds=rules.access_lifetime),
                                                         generation=generation)
            wants_refresh = rules.refresh and (rules.refresh_scope is None or rules.refresh_scope in scopes)
            new = token.get("refresh_token")
            if not wants_refresh:
                token.pop("refresh_token", None)
            elif new and new != old:
                if old and old in self.o.refresh:
                    self.o.refresh[old].used = True  # single-use: spent
                end = now + dt.timedelta(seconds=rules.refresh_lifetime) if rules.refresh_lifetime else None
                self.o.refresh[new] = Grant(account, request.client_id, scopes, end, generation=generation)
            if wants_refresh and rules.state_refresh_lifetime and token.get("refresh_token"):
                grant = self.o.refresh[token["refresh_token"]]
                if grant.expires_at is not None:
                    token["refresh_token_expires_in"] = max(0, int((grant.expires_at - now).total_seconds()))
