"""`/api/v1/channels/{id}/connect` and `/api/v1/connections`: connect a channel with its
platform's OAuth flow from a script (admins).

`GET /channels/{id}/connect` answers `{"authorize_url": ...}` (with `state` and, where the platform
supports it, a PKCE `code_challenge`); open it in a browser where you are logged in to the console
as the same person: the platform sends you back to the console's `/connections/callback`, which
stores the tokens. The state is single-use and lives 15 minutes.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel

from console.api.auth import Admin
from console.api.errors import COMMON_RESPONSES, ApiError
from console.connections import callback_url, channel_overview, settings_of
from scheduler.connections.connect import ConnectError, binding_of_api, start
from scheduler.connections.keys import TokenKeyMissing
from scheduler.connections.vault import Vault

router = APIRouter(tags=["connections"], responses=COMMON_RESPONSES)


class AuthorizeUrl(BaseModel):
    authorize_url: str


class ConnectionOut(BaseModel):
    channel_id: str
    platform: str
    connection: str
    account: str | None
    scopes: list[str]
    expires_at: dt.datetime | None
    renews_itself: bool
    stops_at: dt.datetime | None
    reconnect: str | None


@router.get("/channels/{channel_id}/connect", response_model=AuthorizeUrl)
def connect_channel(channel_id: str, request: Request, me: Admin) -> AuthorizeUrl:
    """The platform's authorize URL for this channel; the console's callback finishes the connection."""
    console = request.app.state.console
    calendar = console.calendar()
    if calendar is None:
        raise ApiError(409, "the calendar cannot be read: fix it first")
    if channel_id not in {c.id for c in calendar.channels}:
        raise ApiError(404, f"no channel {channel_id} in the calendar")
    try:
        url = start(Vault(console.store), calendar, channel_id, settings_of(console), redirect_uri=callback_url(request),
                    bound_to=binding_of_api(me.name), by=me.name, now=console.clock.now())
    except (ConnectError, TokenKeyMissing) as error:
        raise ApiError(409, str(error)) from None
    return AuthorizeUrl(authorize_url=url)


@router.get("/connections", response_model=list[ConnectionOut])
def list_connections(request: Request, me: Admin) -> list[ConnectionOut]:
    """Each channel's connection: account, scopes granted, access expiry, whether it renews itself, when it stops."""
    return [ConnectionOut(channel_id=r.channel_id, platform=r.platform, connection=r.how, account=r.account,
                          scopes=list(r.scopes), expires_at=r.expires_at, renews_itself=r.renews, stops_at=r.stops_at,
                          reconnect=r.reconnect)
            for r in channel_overview(request.app.state.console)]
