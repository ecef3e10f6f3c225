"""Threads' OAuth 2.0 (Meta's "Threads API: Get Access Tokens and Permissions", "Long-Lived Access
Tokens"): the authorization window at threads.net, the code traded at graph.threads.net for a
short-lived token (1 hour), which `GET /access_token?grant_type=th_exchange_token&client_secret=`
turns into a long-lived one (60 days); a long-lived token at least 24 hours old renews itself
with `GET /refresh_access_token?grant_type=th_refresh_token&access_token=` for another 60 days.
There are no refresh tokens: the access token renews itself (`renews_with_access_token`), so the
generic renewal (scheduler/connections/renew.py) calls `refresh` below before the token lapses."""

from __future__ import annotations

import requests

from scheduler.platforms.base import TransientError
from scheduler.platforms.oauth import OAuthSpec, RefreshRequest, TokenAnswer, answer_of, parse_answer


def _get(request: RefreshRequest, path: str, params: dict[str, str], *, what: str) -> requests.Response:
    base = request.token_url.split("/oauth/")[0]
    try:
        return request.session.get(f"{base}/{path}", params=params, timeout=request.timeout)
    except requests.RequestException as exc:
        raise TransientError(f"Threads could not be reached to renew {what} ({type(exc).__name__}) — retried later") from None


def refresh(request: RefreshRequest) -> TokenAnswer:
    """Renew a long-lived token; a short-lived one (just connected) is exchanged for a long-lived one."""
    answer = _get(request, "refresh_access_token", {"grant_type": "th_refresh_token", "access_token": request.access_token},
                  what="the long-lived token")
    if answer.status_code >= 400 and answer.status_code < 500 and request.client_secret:
        answer = _get(request, "access_token", {"grant_type": "th_exchange_token", "client_secret": request.client_secret,
                                                "access_token": request.access_token}, what="the short-lived token")
    body = answer_of(answer, what="the Threads token")
    return parse_answer(OAUTH, body, request.now, previous_scopes=request.scopes)


OAUTH = OAuthSpec(
    authorize_url="https://threads.net/oauth/authorize",
    token_url="https://graph.threads.net/oauth/access_token",
    scopes=("threads_basic", "threads_content_publish", "threads_manage_insights"),
    access_lifetime=3600,  # the code's token: short-lived; the first renewal makes it long-lived
    pkce=False,  # Meta documents no PKCE for Threads
    refresh_tokens=False,
    client_auth="body",
    scope_separator=",",
    refresh=refresh,
    renews_with_access_token=True,
    note="long-lived tokens last 60 days and renew themselves after 24 hours",
)
