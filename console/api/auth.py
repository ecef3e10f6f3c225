"""Who is calling: `Authorization: Bearer TOKEN` (a personal token) becomes the person's Account.

Endpoints take `me: Caller` (any valid token) or `me: Annotated[Account, Depends(needs("approver"))]`,
and `allowed_channel(me, channel)` before acting on a channel's post or moment. The token is
checked on every call against the account as it is now (role, channels, still there).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Callable, Iterable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from console.accounts import Account
from console.api.errors import ApiError
from console.api.tokens import Tokens

bearer = HTTPBearer(auto_error=False, scheme_name="personalToken",
                    description="A personal token: `python run.py user token NAME` prints one.")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="campaign-console"'}


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Account:
    """The account behind the request's token; 401 without a valid one."""
    console = request.app.state.console
    if credentials is None:
        raise ApiError(401, "send your personal token in the Authorization header, with the Bearer scheme "
                            "(an admin makes one with `python run.py user token NAME`)", headers=_CHALLENGE)
    account = Tokens(console.store.engine).account_for(credentials.credentials, console.accounts, console.clock.now())
    if account is None:
        raise ApiError(401, "this token is not valid (revoked, mistyped, or its account was removed): "
                            "ask an admin for a new one", headers={**_CHALLENGE, "WWW-Authenticate":
                                                                   _CHALLENGE["WWW-Authenticate"] + ', error="invalid_token"'})
    request.state.account = account
    return account


Caller = Annotated[Account, Depends(caller)]


def needs(role: str) -> Callable[[Account], Account]:
    """A dependency: the caller, who must have `role` (or a higher one); 403 otherwise."""

    def check(me: Caller) -> Account:
        if not me.can(role):
            raise ApiError(403, f"only {role}s may do this; {me.name} is a{'n' if me.role[0] in 'aeiou' else ''} {me.role}")
        return me

    check.__name__ = f"needs_{role}"
    return check


Approver = Annotated[Account, Depends(needs("approver"))]
Admin = Annotated[Account, Depends(needs("admin"))]


def allowed_channel(me: Account, channels: str | Iterable[str], what: str = "this") -> None:
    """403 unless the person acts for every one of `channels` (approvers and editors limited to
    some channels; admins and unlimited accounts act for all)."""
    wanted = [channels] if isinstance(channels, str) else list(channels)
    if me.role == "admin" or me.channels is None:
        return
    outside = sorted(set(wanted) - set(me.channels))
    if outside:
        raise ApiError(403, f"{what} is on channel{'s' if len(outside) > 1 else ''} {', '.join(outside)}; "
                            f"{me.name} acts only for {', '.join(me.channels)}")


# -- ETag / If-Match (writes refuse a stale copy) ---------------------------------------------------

def etag(*parts: object) -> str:
    """A strong ETag from what a write would change (state, content, times)."""
    text = "\x1f".join("" if p is None else (p.isoformat() if isinstance(p, dt.datetime) else str(p)) for p in parts)
    return '"' + hashlib.sha256(text.encode("utf-8")).hexdigest()[:24] + '"'


def check_if_match(request: Request, current: str) -> None:
    """412 when the request's If-Match names none of the current ETag (a read gave it; someone
    changed the thing since). No If-Match: the write goes ahead (scripts that do not read first)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    offered = [t.strip() for t in header.split(",") if t.strip()]
    if "*" in offered or current in offered or current in [t.removeprefix("W/") for t in offered]:
        return
    raise ApiError(412, f"it changed since you read it (If-Match {header} is not the current ETag {current}): "
                        "read it again, check, then retry with the new ETag", headers={"ETag": current})
