"""The emulators' authorization servers (oauthlib's) judged by clients written elsewhere:
requests-oauthlib's OAuth2Session with PKCE (X) and Authlib's client (LinkedIn). Real lifetimes
on the emulator's clock, each platform's own error for an expired token, single-use refresh
tokens on X, and the sandbox's static tokens still working beside them."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession
from requests_oauthlib import OAuth2Session

from campaign.clock import FakeClock
from emulators.registry import start_emulator
from testkit.connections import CALLBACK, START, approve

X_SCOPES = ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]


@pytest.fixture
def insecure_loopback(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulators serve plain HTTP on 127.0.0.1


@pytest.fixture
def x():
    clock = FakeClock(START)
    emulator = start_emulator("x", clock=clock, account="belgium")
    yield emulator, clock
    emulator.stop()


def x_session(emulator, scopes=X_SCOPES):
    return OAuth2Session(emulator.oauth.client_id, redirect_uri=CALLBACK, scope=scopes, pkce="S256")


def test_x_issues_2h_tokens_and_single_use_refresh_tokens_to_requests_oauthlib(x, insecure_loopback):
    emulator, clock = x
    api = emulator.overrides("")
    session = x_session(emulator)
    url, _state = session.authorization_url(api["authorize_url"])
    assert "code_challenge=" in url and "code_challenge_method=S256" in url
    token = session.fetch_token(api["token_url"], authorization_response=approve(url, "belgium"),
                                client_secret=emulator.oauth.client_secret)
    assert token["expires_in"] == 7200 and token["refresh_token"] and set(token["scope"]) == set(X_SCOPES)
    me = requests.get(api["base_url"] + "/2/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200 and me.json()["data"]["username"] == "belgium"
    clock.advance(dt.timedelta(hours=2))
    expired = requests.get(api["base_url"] + "/2/users/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert expired.status_code == 401 and expired.json()["title"] == "Unauthorized"
    renewed = session.refresh_token(api["token_url"], auth=(emulator.oauth.client_id, emulator.oauth.client_secret))
    assert renewed["refresh_token"] != token["refresh_token"]
    again = requests.post(api["token_url"], data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                          auth=(emulator.oauth.client_id, emulator.oauth.client_secret))
    assert again.status_code == 400 and again.json() == {"error": "invalid_request",
                                                         "error_description": "Value passed for the token was invalid."}
    static = requests.get(api["base_url"] + "/2/users/me", headers={"Authorization": f"Bearer {emulator.token}"})
    assert static.status_code == 200  # the sandbox's static tokens keep working


def test_x_gives_no_refresh_token_without_offline_access_and_checks_pkce(x, insecure_loopback):
    emulator, _clock = x
    api = emulator.overrides("")
    session = x_session(emulator, ["tweet.read", "tweet.write", "users.read"])
    url, _ = session.authorization_url(api["authorize_url"])
    token = session.fetch_token(api["token_url"], authorization_response=approve(url, "belgium"),
                                client_secret=emulator.oauth.client_secret)
    assert "refresh_token" not in token
    other = x_session(emulator)
    url, _ = other.authorization_url(api["authorize_url"])
    code = dict(parse_qsl(urlsplit(approve(url, "belgium")).query))["code"]
    wrong = requests.post(api["token_url"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                                                   "code_verifier": "w" * 64},
                          auth=(emulator.oauth.client_id, emulator.oauth.client_secret))
    assert wrong.status_code == 400
    no_pkce = requests.get(api["authorize_url"], params={"response_type": "code", "client_id": emulator.oauth.client_id,
                                                         "redirect_uri": CALLBACK, "scope": "tweet.read", "state": "s"})
    assert no_pkce.status_code == 400 and "Code challenge required" in no_pkce.text


def test_linkedin_60_day_tokens_with_authlib_and_refresh_for_partner_apps():
    clock = FakeClock(START)
    plain = start_emulator("linkedin", clock=clock, account="urn:li:organization:1")
    partner = start_emulator("linkedin", clock=clock, account="urn:li:organization:2", refresh_tokens=True)
    try:
        tokens = {}
        for emulator in (plain, partner):
            api = emulator.overrides("")
            client = AuthlibSession(emulator.oauth.client_id, emulator.oauth.client_secret, scope="w_organization_social",
                                    redirect_uri=CALLBACK, token_endpoint_auth_method="client_secret_post")
            url, _state = client.create_authorization_url(api["authorize_url"])
            tokens[emulator] = client.fetch_token(api["token_url"], authorization_response=approve(url, emulator.account))
        assert tokens[plain]["expires_in"] == 60 * 86400 and "refresh_token" not in tokens[plain]
        assert tokens[partner]["refresh_token_expires_in"] == 365 * 86400
        clock.advance(dt.timedelta(days=60))
        headers = {"Authorization": f"Bearer {tokens[plain]['access_token']}", "LinkedIn-Version": "202601",
                   "X-Restli-Protocol-Version": "2.0.0"}
        expired = requests.get(plain.api_url + "/organizations/1", headers=headers)
        assert expired.status_code == 401
        assert expired.json()["serviceErrorCode"] == 65602 and expired.json()["code"] == "EXPIRED_ACCESS_TOKEN"
        revoked = requests.get(plain.api_url + "/organizations/1", headers={**headers, "Authorization": "Bearer not-a-token"})
        assert revoked.status_code == 401 and revoked.json()["code"] == "REVOKED_ACCESS_TOKEN"
        assert revoked.json()["serviceErrorCode"] == 65601
    finally:
        plain.stop()
        partner.stop()
