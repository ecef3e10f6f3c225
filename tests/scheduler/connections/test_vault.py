"""The token vault: encrypted at rest with a key outside the store, rotating keys, a clear error
without a key, credentials resolved vault first, tokens kept out of logs and repr."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import text

from campaign.secrets import scrub
from scheduler.connections.credentials import STORE_SOURCE, resolve
from scheduler.connections.keys import ENV_KEY, TokenKeyMissing, TokenKeyWrong, load_keys
from scheduler.connections.vault import Vault
from scheduler.daemon.logs import EventLog, configure
from scheduler.platforms.oauth import TokenAnswer
from testkit.connections import START

ACCESS, REFRESH = "access-" + "a" * 30, "refresh-" + "r" * 30


def answer(access: str = ACCESS, refresh: str | None = REFRESH) -> TokenAnswer:
    return TokenAnswer(access, refresh, START + dt.timedelta(hours=2), None, ("tweet.write", "offline.access"))


def test_tokens_are_encrypted_at_rest_and_read_back_with_the_key(store):
    key = MultiFernet([Fernet(Fernet.generate_key())])
    vault = Vault(store, keys=key)
    vault.connect("be-x", "x", answer(), by="admin", now=START, account="belgium")
    with store.engine.connect() as conn:
        raw = " ".join(str(v) for v in conn.execute(text("SELECT * FROM channel_tokens")).one())
    assert ACCESS not in raw and REFRESH not in raw and "belgium" in raw
    found = Vault(store, keys=key).get("be-x")
    assert (found.access_token, found.refresh_token, found.expires_at) == (ACCESS, REFRESH, START + dt.timedelta(hours=2))
    assert ACCESS not in repr(found) and found.scopes == ("tweet.write", "offline.access")
    assert Vault(store, keys=key).all()[0].access_token is None  # listing decrypts nothing


def test_a_new_key_goes_first_and_the_old_one_still_reads(sqlite_store):
    old, new = Fernet.generate_key(), Fernet.generate_key()
    Vault(sqlite_store, keys=load_keys({ENV_KEY: old.decode()})).connect("be-x", "x", answer(), by="a", now=START)
    rotated = Vault(sqlite_store, keys=load_keys({ENV_KEY: f"{new.decode()},{old.decode()}"}))
    assert rotated.get("be-x").access_token == ACCESS
    with pytest.raises(TokenKeyWrong, match=ENV_KEY):
        Vault(sqlite_store, keys=load_keys({ENV_KEY: new.decode()})).get("be-x")


def test_without_a_key_the_error_says_where_to_put_one(tmp_path):
    with pytest.raises(TokenKeyMissing) as caught:
        load_keys({"CAMPAIGN_SECRETS_FILE": str(tmp_path / "none.toml")})
    message = str(caught.value)
    assert ENV_KEY in message and "token_key" in message and str(tmp_path / "none.toml") in message
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'token_key = "{Fernet.generate_key().decode()}"\n')
    assert load_keys({"CAMPAIGN_SECRETS_FILE": str(secrets)}) is not None


def test_credentials_come_from_the_vault_first_then_the_environment(sqlite_store, monkeypatch, tmp_path):
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CAMPAIGN_BE_X_TOKEN", "pasted-token-123456")
    monkeypatch.setenv("CAMPAIGN_BE_X_CLIENT_ID", "client-1")
    vault = Vault(sqlite_store, keys=MultiFernet([Fernet(Fernet.generate_key())]))
    assert resolve("be-x", "x", vault).require("TOKEN") == "pasted-token-123456"  # not connected: as today
    vault.connect("be-x", "x", answer(), by="admin", now=START)
    creds = resolve("be-x", "x", vault)
    assert creds.require("TOKEN") == ACCESS and creds.get("CLIENT_ID") == "client-1" and creds.source == STORE_SOURCE
    assert ACCESS not in repr(creds)
    vault.connect("be-x", "x", answer(access="renewed-" + "b" * 30), by="admin", now=START)
    assert creds.require("TOKEN") == "renewed-" + "b" * 30  # read at each use: a renewal is seen at once
    monkeypatch.delenv("CAMPAIGN_BE_X_TOKEN")
    assert resolve("be-x", "x", vault).require("TOKEN")  # connected: no TOKEN needed in the environment


def test_a_token_read_from_the_vault_never_reaches_a_log_line(sqlite_store, capsys):
    vault = Vault(sqlite_store, keys=MultiFernet([Fernet(Fernet.generate_key())]))
    vault.connect("be-x", "x", answer(access="opaque" + "Z" * 20), by="admin", now=START)
    token = vault.access_token("be-x")
    EventLog(configure()).event("renew_failed", f"server echoed {token} back", channel="be-x")
    logged = capsys.readouterr().err
    assert "renew_failed" in logged and token not in logged and token not in scrub(f"x {token} y")
    logging.getLogger("campaign.daemon").handlers[:] = []


def test_a_pending_connection_is_used_once_and_expires(sqlite_store):
    vault = Vault(sqlite_store, keys=MultiFernet([Fernet(Fernet.generate_key())]))
    vault.add_pending("state-1", "be-x", "verifier-1", "http://127.0.0.1/cb", bound_to="s", by="admin", now=START)
    found = vault.take_pending("state-1", START)
    assert found["verifier"] == "verifier-1" and found["channel_id"] == "be-x"
    assert vault.take_pending("state-1", START) is None
    vault.add_pending("state-2", "be-x", None, "http://127.0.0.1/cb", bound_to="s", by="admin", now=START, ttl_seconds=60)
    assert vault.take_pending("state-2", START + dt.timedelta(minutes=2)) is None
