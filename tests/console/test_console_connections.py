"""Connecting channels in the console and through the API (admins): the Connect button sends the
browser to the platform's consent page with `state` and PKCE, the callback checks the state
against the session that started it and stores the tokens; the page lists every channel's
connection (account, scopes, expiry, renews itself?, until when), tokens never shown."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.fernet import Fernet

from console.api.tokens import Tokens
from scheduler.connections.vault import Vault
from testkit.connect_console import settings_for, x_for_console
from testkit.connections import approve
from testkit.console import START, csrf_of, login

X_SCOPES = "tweet.read tweet.write users.read media.write offline.access"


@pytest.fixture
def x(app, rig, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CAMPAIGN_TOKEN_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CAMPAIGN_SECRETS_FILE", str(rig.build / "no-secrets.toml"))
    monkeypatch.setenv("CAMPAIGN_EMBASSY_WASHINGTON_IDENTIFIER", "belgium.bsky.social")
    monkeypatch.setenv("CAMPAIGN_EMBASSY_WASHINGTON_PASSWORD", "abcd-efgh-ijkl-mnop")
    emulator = x_for_console(rig.clock)
    app.state.console.connect_settings = settings_for(emulator, rig.loaded.calendar)
    yield emulator
    emulator.stop()


def press_connect(client, channel: str = "be-x"):  # type: ignore[no-untyped-def]
    page = client.get("/connections")
    return client.post("/connections/connect", data={"csrf": csrf_of(page.text), "channel": channel},
                       headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)


def back_at_console(client, location: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(location)
    return client.get(parts.path + "?" + parts.query, follow_redirects=False)


def test_an_admin_connects_be_x_and_sees_its_connection(client_for, rig, x):
    ada = client_for()
    login(ada, "ada")
    listed = ada.get("/connections")
    before = listed.text
    form_action = listed.headers["content-security-policy"].split("form-action")[1].split(";")[0].split()
    assert form_action[:2] == ["'self'", x.base_url] and "https://www.linkedin.com" in form_action  # the platforms only
    assert all(origin.startswith("https://") and origin.count("/") == 2 for origin in form_action[2:]), form_action
    assert "be-x" in before and "not connected" in before and "app password" in before  # Bluesky as it is
    sent = press_connect(ada)
    assert sent.status_code == 303
    url = sent.headers["location"]
    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(x.base_url + "/i/oauth2/authorize") and query["scope"] == X_SCOPES
    assert query["code_challenge_method"] == "S256" and len(query["state"]) >= 32
    assert query["redirect_uri"] == "http://127.0.0.1/connections/callback"
    done = back_at_console(ada, approve(url, "belgium"))
    assert done.status_code == 303 and done.headers["location"] == "/connections"
    stored = Vault(rig.store).get("be-x")
    assert stored.account == "Belgium"  # the calendar's account for be-x
    assert set(stored.scopes) == set(X_SCOPES.split()) and stored.has_refresh
    page = ada.get("/connections").text
    row = page[page.index('data-channel="be-x"'):].split("</tr>")[0]
    assert "connected" in row and "offline.access" in row and "yes: single-use refresh tokens" in row
    assert "2026-12-01 10:00 UTC" in row  # the access token's 2 hours, on the console's clock
    assert stored.access_token not in page and stored.refresh_token not in page
    assert any(r["action"] == "connect" for r in rig.store.audit_rows("be-x"))


def test_the_callback_refuses_another_session_a_used_state_and_non_admins(client_for, x):
    ada, other, vera = client_for(), client_for(), client_for()
    login(ada, "ada")
    login(other, "ada")
    login(vera, "vera")
    assert vera.get("/connections").status_code == 403
    back = approve(press_connect(ada).headers["location"], "belgium")
    refused = back_at_console(other, back)  # same person, another session: not the one that started it
    assert refused.status_code == 400 and "another session" in refused.text
    again = back_at_console(ada, back)  # the state was used up by the refused attempt
    assert again.status_code == 400 and "used already" in again.text


def test_the_api_answers_the_authorize_url_and_the_callback_finishes(client_for, rig, x):
    made = Tokens(rig.store.engine)
    admin, viewer = made.issue("ada", by="test", now=START), made.issue("vera", by="test", now=START)
    api = client_for()
    assert api.get("/api/v1/channels/be-x/connect", headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    answer = api.get("/api/v1/channels/be-x/connect", headers={"Authorization": f"Bearer {admin}"})
    assert answer.status_code == 200
    url = answer.json()["authorize_url"]
    assert "code_challenge=" in url and "state=" in url and "redirect_uri=http%3A%2F%2F127.0.0.1%2Fconnections%2Fcallback" in url
    assert api.get("/api/v1/channels/embassy-washington/connect", headers={"Authorization": f"Bearer {admin}"}).status_code == 409
    browser = client_for()
    login(browser, "ada")
    assert back_at_console(browser, approve(url, "belgium")).status_code == 303
    listed = {r["channel_id"]: r for r in api.get("/api/v1/connections", headers={"Authorization": f"Bearer {admin}"}).json()}
    assert listed["be-x"]["connection"] == "connected" and listed["be-x"]["renews_itself"] is True
    assert listed["be-x"]["stops_at"] is None and "offline.access" in listed["be-x"]["scopes"]
