"""Test kit for connected channels: an emulator's consent page approved over HTTP (what a person
does in the browser), a vault with a throw-away key, and a Renewer wired to an emulator."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, MultiFernet

from application.connect_sandbox import approve, connect_channel  # noqa: F401 - approve: the tests' consent page click
from campaign.clock import FakeClock
from emulators.base import Emulator
from emulators.registry import start_emulator
from scheduler.connections.renew import Renewer
from scheduler.connections.vault import Vault
from scheduler.daemon.logs import EventLog
from scheduler.platforms.credentials import Credentials
from scheduler.store import Store

UTC = dt.timezone.utc
START = dt.datetime(2027, 5, 1, 6, 0, tzinfo=UTC)
CALLBACK = "http://127.0.0.1:8080/connections/callback"  # a console's callback, as the tests' clients give it


def test_keys() -> MultiFernet:
    return MultiFernet([Fernet(Fernet.generate_key())])


def connect(vault: Vault, emulator: Emulator, channel_id: str, account: str, now: dt.datetime, *,
            by: str = "admin", api: dict[str, str] | None = None) -> None:
    """Connect `channel_id` as `account` through the emulator's own flow (our client, its consent page);
    `api`: more of the channel's API settings (`oauth_app`)."""
    assert emulator.oauth is not None
    connect_channel(vault, channel_id, emulator.platform, account, {**emulator.overrides(""), **(api or {})},
                    emulator.oauth.client_id,
                    emulator.oauth.client_secret, now, by=by)


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
              account: str = "belgium", **emulator_options: Any) -> TokenRig:
    """`account`: the emulator's first account (LinkedIn posts as an organization: `testkit.channels.ACCOUNTS`)."""
    clock = FakeClock(START)
    emulator = start_emulator(platform, clock=clock, account=account, **emulator_options)
    store = Store(url or f"sqlite:///{tmp_path / 'campaign.db'}", schema=schema)
    return TokenRig(clock, emulator, store, Vault(store, keys=test_keys()), [])


def race(*calls: Any) -> None:
    """Run `calls` at the same instant on threads of their own (daemons, or one daemon's jobs, racing)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> None:
        barrier.wait()
        call()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
