"""How a platform's accounts connect and stay connected: one `OAuthSpec` per platform that
uses OAuth 2.0 (its package's `oauth.py`, named in its row of `scheduler/platforms/registry.py`),
and the generic client every platform shares (authorize URL with `state` and PKCE, code
exchange, refresh). Everything platform-specific is a field of the spec; a platform whose
renewal is not RFC 6749's `grant_type=refresh_token` (Threads) gives its own `refresh`.

The machinery that keeps tokens (the vault, renewal, warnings, the console's Connect button)
is generic and lives in `scheduler/connections/`; it never chooses by a platform's name.

Token values never appear in messages: errors carry the platform's error code and
description only, scrubbed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

import requests
from requests import exceptions as rex

from campaign.secrets import scrub
from scheduler.platforms.base import AuthError, TransientError

#: Keys of a channel's API settings (api overrides: the sandbox, tests) that replace a spec's endpoints.
AUTHORIZE_KEY, TOKEN_KEY = "authorize_url", "token_url"


@dataclass(frozen=True)
class TokenAnswer:
    """What a token endpoint gave (expiry instants on the clock the request was made on)."""

    access_token: str
    refresh_token: str | None
    expires_at: dt.datetime | None  # None: the access token does not expire
    refresh_expires_at: dt.datetime | None = None  # None: no refresh token, or no stated end
    scopes: tuple[str, ...] = ()
    account: str | None = None

    def __repr__(self) -> str:  # never the values
        return (f"TokenAnswer(expires_at={self.expires_at}, refresh={'yes' if self.refresh_token else 'no'}, "
                f"refresh_expires_at={self.refresh_expires_at}, scopes={self.scopes})")


@dataclass(frozen=True)
class RefreshRequest:
    """Everything a refresh function needs (the generic one, or a platform's own)."""

    spec: "OAuthSpec"
    token_url: str
    client_id: str
    client_secret: str | None
    access_token: str
    refresh_token: str | None
    now: dt.datetime
    session: requests.Session
    timeout: float = 30.0
    #: The refresh token's end as stored: kept when the platform answers without a new one.
    refresh_expires_at: dt.datetime | None = None
    scopes: tuple[str, ...] = ()


class RefreshRefused(AuthError):
    """The platform refused the refresh token (revoked, already used, expired): renewing again with
    it cannot work; the channel must be connected again by a person."""


Refresh = Callable[[RefreshRequest], TokenAnswer]


@dataclass(frozen=True)
class OAuthSpec:
    """One platform's OAuth 2.0 rules, as its own documentation gives them."""

    authorize_url: str
    token_url: str
    #: Exactly the scopes a channel needs to publish and read its figures, no more.
    scopes: tuple[str, ...]
    #: Seconds an access token lives when the answer has no `expires_in`.
    access_lifetime: float
    #: Authorization code with PKCE (S256).
    pkce: bool = True
    #: Whether the platform issues refresh tokens at all to an ordinary app (LinkedIn: approved partners
    #: only; when one comes all the same, it is used).
    refresh_tokens: bool = True
    #: Single-use refresh tokens: each renewal answers a new one and the old one dies (X).
    rotating: bool = False
    #: Seconds a refresh token lives when the answer does not say (None: no stated end).
    refresh_lifetime: float | None = None
    #: Refresh-token lifetimes a channel's API settings choose, {setting: {value: seconds}}, in place of
    #: `refresh_lifetime` (Google: `api: {oauth_app: testing}`, refresh tokens that die after 7 days).
    refresh_lifetime_by_api: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: How the client authenticates at the token endpoint: "basic" (HTTP Basic, confidential
    #: clients) or "body" (client_id and client_secret in the form).
    client_auth: str = "basic"
    scope_separator: str = " "
    #: More parameters of the authorize URL (Google: access_type=offline, prompt=consent).
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    #: A platform's own renewal (Threads: GET /refresh_access_token with the access token);
    #: None: RFC 6749 section 6 (`refresh_standard`).
    refresh: Refresh | None = None
    #: True when `refresh` renews with the access token itself (no refresh token exists); the code's
    #: token is then renewed once at connect (Threads: its 1-hour token becomes a 60-day one).
    renews_with_access_token: bool = False
    #: What a page says about how this platform's tokens behave (shown on the connections page).
    note: str = ""

    def margin(self, lifetime: float | None) -> float:
        """Seconds before expiry a token is renewed: 10 % of its life, at least 10 minutes, at most half."""
        if not lifetime:
            return 600.0
        return min(max(0.1 * lifetime, 600.0), lifetime / 2)

    def endpoints(self, api: Mapping[str, Any] | None) -> tuple[str, str]:
        """(authorize URL, token URL): the channel's api settings win (the sandbox points them at emulators)."""
        api = api or {}
        return str(api.get(AUTHORIZE_KEY) or self.authorize_url), str(api.get(TOKEN_KEY) or self.token_url)

    def for_channel(self, api: Mapping[str, Any] | None) -> "OAuthSpec":
        """This spec as a channel with these API settings gets it (`refresh_lifetime_by_api` applied)."""
        for key, lifetimes in self.refresh_lifetime_by_api.items():
            chosen = str((api or {}).get(key) or "").lower()
            if chosen in lifetimes:
                return replace(self, refresh_lifetime=lifetimes[chosen])
        return self

    def can_renew(self, has_refresh_token: bool) -> bool:
        return self.renews_with_access_token or has_refresh_token


# -- PKCE and the authorize URL -----------------------------------------------------------------

def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43-128 characters of [A-Za-z0-9-._~])."""
    return secrets.token_urlsafe(64)[:96]


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(spec: OAuthSpec, api: Mapping[str, Any] | None, *, client_id: str, redirect_uri: str, state: str,
                  verifier: str | None) -> str:
    base, _ = spec.endpoints(api)
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": spec.scope_separator.join(spec.scopes), "state": state, **spec.authorize_params}
    if spec.pkce and verifier:
        params.update(code_challenge=challenge_of(verifier), code_challenge_method="S256")
    return base + ("&" if "?" in base else "?") + urlencode(params)


# -- the token endpoint -------------------------------------------------------------------------

def exchange_code(spec: OAuthSpec, api: Mapping[str, Any] | None, *, client_id: str, client_secret: str | None,
                  code: str, redirect_uri: str, verifier: str | None, now: dt.datetime,
                  session: requests.Session | None = None, timeout: float = 30.0) -> TokenAnswer:
    """Trade an authorization code for tokens (RFC 6749 4.1.3, RFC 7636 4.5)."""
    spec = spec.for_channel(api)
    _, token_url = spec.endpoints(api)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if spec.pkce and verifier:
        form["code_verifier"] = verifier
    session = session or requests.Session()
    body = _post(spec, token_url, form, client_id, client_secret, session, timeout, what="the code")
    answer = parse_answer(spec, body, now)
    if spec.renews_with_access_token and spec.refresh is not None:
        # the code's token is the short-lived kind (Threads: 1 hour): renewed at once into the kept one
        answer = spec.refresh(RefreshRequest(spec, token_url, client_id, client_secret, answer.access_token, None, now,
                                             session, timeout, None, answer.scopes))
    return answer


def refresh_standard(request: RefreshRequest) -> TokenAnswer:
    """RFC 6749 section 6: `grant_type=refresh_token`."""
    if not request.refresh_token:
        raise RefreshRefused("there is no refresh token to renew with")
    form = {"grant_type": "refresh_token", "refresh_token": request.refresh_token}
    body = _post(request.spec, request.token_url, form, request.client_id, request.client_secret, request.session,
                 request.timeout, what="the refresh token")
    return parse_answer(request.spec, body, request.now, previous_refresh=request.refresh_token,
                        previous_refresh_end=request.refresh_expires_at, previous_scopes=request.scopes)


def renew(request: RefreshRequest) -> TokenAnswer:
    """Renew with the platform's own function, or the standard one."""
    return (request.spec.refresh or refresh_standard)(request)


def parse_answer(spec: OAuthSpec, body: Mapping[str, Any], now: dt.datetime, *, previous_refresh: str | None = None,
                 previous_refresh_end: dt.datetime | None = None, previous_scopes: tuple[str, ...] = ()) -> TokenAnswer:
    """A token answer (RFC 6749 5.1) as a TokenAnswer. A refresh answer without a refresh token
    keeps the one used (Google, LinkedIn), with its end."""
    access = body.get("access_token")
    if not access:
        raise TransientError("the token endpoint answered without an access_token")
    expires_in = body.get("expires_in", spec.access_lifetime)
    expires_at = now + dt.timedelta(seconds=float(expires_in)) if expires_in else None
    refresh = body.get("refresh_token")
    if refresh and refresh != previous_refresh:
        stated = body.get("refresh_token_expires_in") or spec.refresh_lifetime
        refresh_end = now + dt.timedelta(seconds=float(stated)) if stated else None
    else:
        refresh, refresh_end = previous_refresh, previous_refresh_end
    scope = body.get("scope")
    scopes = tuple(s for s in str(scope).replace(",", " ").split() if s) if scope else previous_scopes or spec.scopes
    return TokenAnswer(str(access), str(refresh) if refresh else None, expires_at, refresh_end, scopes)


def _post(spec: OAuthSpec, url: str, form: dict[str, str], client_id: str, client_secret: str | None,
          session: requests.Session, timeout: float, *, what: str) -> dict[str, Any]:
    auth = None
    if spec.client_auth == "basic" and client_secret:
        auth = (client_id, client_secret)
    else:
        form = {**form, "client_id": client_id, **({"client_secret": client_secret} if client_secret else {})}
    try:
        response = session.post(url, data=form, auth=auth, timeout=timeout, headers={"Accept": "application/json"})
    except rex.RequestException as exc:
        raise TransientError(f"the token endpoint could not be reached ({type(exc).__name__}) — retried later") from None
    return answer_of(response, what=what)


def answer_of(response: requests.Response, *, what: str) -> dict[str, Any]:
    """The JSON of a token endpoint's answer; RefreshRefused for `invalid_grant` (the grant is dead),
    TransientError for 5xx and 429, AuthError for the rest (wrong client, wrong redirect)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code < 400 and body:
        return body
    error = body.get("error")
    if isinstance(error, dict):  # Meta's Graph shape {"error": {"message", "type", "code"}}
        code, description = str(error.get("type") or error.get("code")), str(error.get("message", ""))
    else:
        code, description = str(error or f"HTTP {response.status_code}"), str(body.get("error_description") or "")
    said = scrub(f"{code}{': ' + description if description else ''}")[:300]
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"the token endpoint had a temporary problem (HTTP {response.status_code}, {said}) — retried later")
    # RFC 6749's invalid_grant; X says invalid_request "Value passed for the token was invalid."; Meta's OAuthException
    dead = code in ("invalid_grant", "OAuthException") or (code == "invalid_request" and "token" in description.lower())
    if dead or response.status_code == 400 and "expired" in description.lower():
        raise RefreshRefused(f"{what} was refused: {said}")
    raise AuthError(f"the token endpoint refused the request (HTTP {response.status_code}, {said}) — check the "
                    f"channel's CLIENT_ID and CLIENT_SECRET and the app's callback URL")
