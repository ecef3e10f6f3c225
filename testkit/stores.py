from __future__ import annotations

import pytest

from testkit.scheduler import drop_pg_schema, pg_schema
from scheduler.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_spec(request, tmp_path):
    """(url, schema) of an empty store on each backend; the PostgreSQL schema is dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaign.db'}", None
        return
    url, schema = pg_schema()
    yield url, schema
    drop_pg_schema(schema)


@pytest.fixture
def store(store_spec):
    url, schema = store_spec
    opened = Store(url, schema=schema)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path):
    opened = Store(f"sqlite:///{tmp_path / 'campaign.db'}")
    yield opened
    opened.close()
