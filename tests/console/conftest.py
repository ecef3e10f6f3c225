from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testkit.console import Rig, make_rig
from testkit.desk import served


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch):  # type: ignore[no-untyped-def]
    """Argon2 with its default cost takes about a second per hash on a busy 2-core machine; the
    tests use the same code with the smallest cost (the CLI tests' subprocesses keep the default)."""
    from argon2 import PasswordHasher

    import console.accounts

    monkeypatch.setattr(console.accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def rig(tmp_path) -> Rig:
    made = make_rig(tmp_path)
    yield made
    made.store.close()


@pytest.fixture
def app(rig):  # type: ignore[no-untyped-def]
    from console.app import ConsoleConfig
    from console.server import create_app

    return create_app(ConsoleConfig(db=rig.url, calendar=rig.calendar_path, build=rig.build, inbox=rig.inbox),
                      clock=rig.clock, store=rig.store)


@pytest.fixture
def client_for(app):  # type: ignore[no-untyped-def]
    """A fresh browser-like client per call (its own cookie jar)."""
    from starlette.testclient import TestClient

    made = []

    def make() -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def server(app):  # type: ignore[no-untyped-def]
    """The console served by uvicorn on a free local port, in a thread. The brand fonts' subset
    (seconds of CPU, once per process) is made first, outside any page's time-out."""
    from console.app import _fonts_css

    _fonts_css(app.state.console)
    with served(app) as base:
        yield base
