from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgcluster import PrivatePostgres  # noqa: E402


@pytest.fixture(scope="module")
def private_pg():
    """A PostgreSQL server of our own (the tests restart it); the queue and the progress store live in it."""
    server = PrivatePostgres()
    server.start()
    yield server
    server.close()
