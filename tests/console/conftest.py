from __future__ import annotations

import sys
from pathlib import Path

import pytest

from testkit.console import Rig, cheap_password_hashes, make_rig  # noqa: F401 (cheap_password_hashes: autouse)
from testkit.desk import served


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
