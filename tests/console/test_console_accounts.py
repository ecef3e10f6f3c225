"""Accounts and the login throttle live in the store: the same on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from console.accounts import MAX_FAILURES, AccountError, Accounts
from testkit.stores import store, store_spec  # noqa: F401

NOW = dt.datetime(2027, 1, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_accounts_roles_scope_and_sessions(store) -> None:  # noqa: F811
    accounts = Accounts(store.engine)
    admin = accounts.add("ines", "admin", "correct horse 1", by="t", now=NOW)
    kenji = accounts.add("kenji", "approver", "correct horse 2", by="t", now=NOW, channels=["embassy-tokyo"])
    viewer = accounts.add("sam", "viewer", "correct horse 3", by="t", now=NOW)
    assert admin.approves("be-x") and admin.scope is None and admin.can("admin")
    assert kenji.approves("embassy-tokyo") and not kenji.approves("be-x") and not kenji.can("admin")
    assert kenji.scope == ("embassy-tokyo",)
    assert not viewer.approves("be-x") and viewer.can("viewer") and not viewer.can("approver")
    assert accounts.verify("kenji", "correct horse 2") == kenji
    assert accounts.verify("kenji", "wrong") is None and accounts.verify("nobody", "correct horse 2") is None
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("kenji", "viewer", "correct horse 4", by="t", now=NOW)
    first = accounts.get("kenji").session_key
    accounts.end_sessions("kenji")
    second = accounts.get("kenji").session_key
    accounts.set_password("kenji", "a new horse 55")
    assert accounts.verify("kenji", "correct horse 2") is None
    assert len({first, second, accounts.get("kenji").session_key}) == 3 and len(first) >= 32
    assert accounts.get("kenji").uid == kenji.uid != admin.uid  # for the account's whole life
    assert accounts.remove("sam") and accounts.get("sam") is None
    # one signing key per store, whichever console asks first
    assert Accounts(store.engine).signing_key() == accounts.signing_key()


def test_the_login_throttle_counts_per_key_within_the_window(store) -> None:  # noqa: F811
    accounts = Accounts(store.engine)
    keys = ["name:ines", "addr:10.0.0.1"]
    for i in range(MAX_FAILURES - 1):
        accounts.record_failure(keys, NOW + dt.timedelta(seconds=i))
    assert accounts.blocked_for(keys, NOW + dt.timedelta(minutes=1)) is None
    accounts.record_failure(["addr:10.0.0.1"], NOW + dt.timedelta(minutes=1))
    wait = accounts.blocked_for(["name:someone-else", "addr:10.0.0.1"], NOW + dt.timedelta(minutes=2))
    assert wait is not None and dt.timedelta(minutes=12) < wait <= dt.timedelta(minutes=13)
    assert accounts.blocked_for(keys, NOW + dt.timedelta(minutes=16)) is None
