from __future__ import annotations

import pytest

from testkit.pgcluster import PrivatePostgres


@pytest.fixture(scope="module")
def private_pg():
    """A PostgreSQL server of our own (the tests restart it); the queue and the progress store live in it."""
    server = PrivatePostgres()
    server.start()
    yield server
    server.close()
