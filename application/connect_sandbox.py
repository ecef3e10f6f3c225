"""The sandbox's channels connected as a person would connect them: for each channel whose
platform connects with OAuth (X, LinkedIn), the emulator's consent page is approved over HTTP as
the channel's account and the code exchanged by the project's own client; the tokens go into a
vault with a key of the run's own (the rehearsal's store is emptied at each run). So the demo,
`daemon --sandbox` and `check --sandbox` publish with tokens that live as long as on the real
platforms (X: 2 hours) and renew themselves."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import parse_qsl, urlsplit

import requests
from cryptography.fernet import Fernet, MultiFernet

from campaign.calendar.models import Calendar
from emulators import Sandbox
from scheduler.connections.vault import Vault
from scheduler.platforms.oauth import authorize_url, exchange_code, new_verifier
from scheduler.platforms.registry import platform_of, resolve_api
from scheduler.store import Store

#: Where the sandbox's "browser" is sent back (never opened: the code is read from the redirect).
CALLBACK = "http://127.0.0.1/connections/callback"


def sandbox_vault(store: Store) -> Vault:
    """A vault on the rehearsal's store with a key of this run, emptied of earlier runs' tokens."""
    vault = Vault(store, keys=MultiFernet([Fernet(Fernet.generate_key())]))
    for connection in vault.all():
        vault.disconnect(connection.channel_id)
    return vault


def approve(url: str, account: str, *, session: requests.Session | None = None) -> str:
    """Open the consent page at `url` and press Approve as `account`; the callback URL it redirects to."""
    session = session or requests.Session()
    page = session.get(url, timeout=10)
    if page.status_code != 200 or "Approve" not in page.text:
        raise RuntimeError(f"the consent page answered HTTP {page.status_code}: {page.text[:200]}")
    query = dict(parse_qsl(urlsplit(url).query))
    answer = session.post(url.split("?")[0], data={**query, "account": account, "decision": "approve"},
                          allow_redirects=False, timeout=10)
    if answer.status_code != 302:
        raise RuntimeError(f"approving answered HTTP {answer.status_code}: {answer.text[:200]}")
    return answer.headers["Location"]


def connect_sandbox(vault: Vault, box: Sandbox, calendar: Calendar, now: dt.datetime,
                    platforms: tuple[str, ...] | None = None) -> list[str]:
    """Connect every OAuth channel of `calendar` (of `platforms` only, when given) on its emulator;
    the channels connected (the others keep the sandbox's static tokens)."""
    connected = []
    for channel in calendar.channels:
        credentials = box.credentials(channel.id)
        if platform_of(channel.platform).oauth is None or not credentials.get("CLIENT_ID"):
            continue
        if platforms is not None and channel.platform.value not in platforms:
            continue
        api = resolve_api(channel, box.overrides(channel.id))  # the calendar's `api:` too (Google's `oauth_app`)
        connect_channel(vault, channel.id, platform_of(channel.platform).name, channel.account, api,
                        credentials["CLIENT_ID"], credentials.get("CLIENT_SECRET") or None, now)
        connected.append(channel.id)
    return connected


def connect_channel(vault: Vault, channel_id: str, platform: str, account: str, api: dict[str, str], client_id: str,
                    client_secret: str | None, now: dt.datetime, *, by: str = "sandbox") -> None:
    """One channel through its emulator's flow: authorize URL (state, PKCE), Approve as `account`, code exchange."""
    spec = platform_of(platform).oauth
    assert spec is not None
    verifier, state = new_verifier() if spec.pkce else None, secrets.token_urlsafe(16)
    url = authorize_url(spec, api, client_id=client_id, redirect_uri=CALLBACK, state=state, verifier=verifier)
    back = dict(parse_qsl(urlsplit(approve(url, account)).query))
    if back.get("state") != state:
        raise RuntimeError(f"the emulator sent channel {channel_id} back with another state")
    answer = exchange_code(spec, api, client_id=client_id, client_secret=client_secret, code=back["code"],
                           redirect_uri=CALLBACK, verifier=verifier, now=now)
    vault.connect(channel_id, platform, answer, by=by, now=now, account=account)
