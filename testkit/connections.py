"""Test kit for connected channels: an emulator's consent page approved over HTTP (what a person
does in the browser), a vault with a throw-away key, and a Renewer wired to an emulator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from cryptography.fernet import Fernet, MultiFernet

from campaign.clock import FakeClock
from emulators.base import Emulator
from emulators.registry import start_emulator
from scheduler.connections.renew import Renewer
from scheduler.connections.vault import Vault
from scheduler.daemon.logs import EventLog
from scheduler.platforms.credentials import Credentials
from scheduler.platforms.oauth import authorize_url, exchange_code, new_verifier
from scheduler.platforms.registry import platform_of
from scheduler.store import Store

UTC = dt.timezone.utc
START = dt.datetime(2027, 5, 1, 6, 0, tzinfo=UTC)
CALLBACK = "http://127.0.0.1:8080/connections/callback"


def test_keys() -> MultiFernet:
    return MultiFernet([Fernet(Fernet.generate_key())])


def approve(url: str, account: str, *, session: requests.Session | None = None) -> str:
    """Open the consent page at `url` and press Approve as `account`; the callback URL it redirects to."""
    session = session or requests.Session()
    page = session.get(url, timeout=10)
    assert page.status_code == 200 and "Approve" in page.text, page.text[:300]
    query = dict(parse_qsl(urlsplit(url).query))
    answer = session.post(url.split("?")[0], data={**query, "account": account, "decision": "approve"},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"]


def connect(vault: Vault, emulator: Emulator, channel_id: str, account: str, now: dt.datetime, *,
            by: str = "admin") -> None:
    """Connect `channel_id` as `account` through the emulator's own flow (our client, its consent page)."""
    spec = platform_of(emulator.platform).oauth
    assert spec is not None and emulator.oauth is not None
    api = emulator.overrides("")
    verifier, state = new_verifier(), "s-" + channel_id
    url = authorize_url(spec, api, client_id=emulator.oauth.client_id, redirect_uri=CALLBACK, state=state, verifier=verifier)
    back = dict(parse_qsl(urlsplit(approve(url, account)).query))
    assert back["state"] == state
    answer = exchange_code(spec, api, client_id=emulator.oauth.client_id, client_secret=emulator.oauth.client_secret,
                           code=back["code"], redirect_uri=CALLBACK, verifier=verifier, now=now)
    vault.connect(channel_id, emulator.platform, answer, by=by, now=now, account=account)


@dataclass
class TokenRig:
    clock: FakeClock
    emulator: Emulator
    store: Store
    vault: Vault
    log_lines: list[dict[str, Any]]

    def renewer(self, *, worker: str | None = None, log: EventLog | None = None, store: Store | None = None) -> Renewer:
        emulator = self.emulator
        store = store or self.store
        vault = Vault(store, keys=self.vault.keys) if store is not self.store else self.vault
        return Renewer(vault, store, self.clock,
                       credentials=lambda c: Credentials(c, emulator.platform, emulator.credentials_of(emulator.account, emulator.token)),
                       api=lambda _c: emulator.overrides(""), calendar=lambda: None, log=log, worker=worker)

    def close(self) -> None:
        self.emulator.stop()
        self.store.close()


def token_rig(tmp_path: Path, platform: str = "x", *, url: str | None = None, schema: str | None = None,
              **emulator_options: Any) -> TokenRig:
    clock = FakeClock(START)
    emulator = start_emulator(platform, clock=clock, account="belgium", **emulator_options)
    store = Store(url or f"sqlite:///{tmp_path / 'campaign.db'}", schema=schema)
    return TokenRig(clock, emulator, store, Vault(store, keys=test_keys()), [])
