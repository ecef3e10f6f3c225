"""Processes opening one new PostgreSQL store at the same moment (two render workers started together on
a fresh database): every one opens it. Referee: the real PostgreSQL server (its catalogue refuses a
second CREATE TABLE of the same name made concurrently)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from testkit.scheduler import drop_pg_schema, pg_schema
from testkit.render_queue import REPO

pytestmark = pytest.mark.slow  # processes on the real PostgreSQL server

OPEN = "import sys; from scheduler.store import Store; Store(sys.argv[1], schema=sys.argv[2]).close()"
# What `web` and the daemon open besides the posts: the console's accounts and API tokens, media
# approvals, the notification outbox; each makes its own tables on first use.
OPEN_ALL = """import sys
from console.accounts import Accounts
from console.api.tokens import Tokens
from scheduler.notify.outbox import Outbox
from scheduler.store import Store
from scheduler.store.media_approvals import MediaApprovals
store = Store(sys.argv[1], schema=sys.argv[2])
Accounts(store.engine); Tokens(store.engine); MediaApprovals(store.engine); Outbox(store)
store.close()
"""


@pytest.mark.parametrize("program", [OPEN, OPEN_ALL], ids=["posts", "every table"])
def test_processes_opening_a_new_store_at_once_all_open_it(program: str) -> None:
    for _ in range(3):  # the race is a matter of milliseconds: a few fresh stores, six processes each
        url, schema = pg_schema()
        try:
            opening = [subprocess.Popen([sys.executable, "-c", program, url, schema], cwd=REPO, stderr=subprocess.PIPE, text=True)
                       for _ in range(6)]
            failed = [error for process in opening if (error := process.communicate(timeout=120)[1]) and process.returncode != 0]
            assert failed == [], [line for line in failed[0].splitlines() if "Error" in line][-2:]
        finally:
            drop_pg_schema(schema)
