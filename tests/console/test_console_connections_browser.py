"""Connecting `be-x` in Chromium: an admin presses Connect on the connections page, approves on
the X emulator's consent page (oauthlib's authorization server, PKCE), and lands back on the
console with the channel connected: account, scopes, expiry, renews itself."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from scheduler.connections.vault import Vault
from testkit.connect_console import settings_for, x_for_console
from test_console_browser import browser, open_as  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow  # drives Chromium through the console and the emulator's consent page


def test_an_admin_connects_be_x_through_the_consent_page(browser, app, server, rig, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("CAMPAIGN_TOKEN_KEY", Fernet.generate_key().decode())
    emulator = x_for_console(rig.clock)
    app.state.console.connect_settings = settings_for(emulator, rig.loaded.calendar)
    try:
        ada = open_as(browser, server, "ada", start="/connections")
        row = ada.locator("tr[data-channel='be-x']")
        assert "not connected" in row.inner_text()
        row.locator("button:has-text('Connect')").click()
        ada.wait_for_url(emulator.base_url + "/i/oauth2/authorize*")
        assert "offline.access" in ada.inner_text("body") and "media.write" in ada.inner_text("body")
        ada.select_option("select[name=account]", "belgium")
        ada.click("button:has-text('Approve')")
        ada.wait_for_url(server + "/connections")
        assert "be-x connected as Belgium" in ada.inner_text(".flash")
        row = ada.locator("tr[data-channel='be-x']")
        assert row.locator(".how").inner_text().strip() == "connected"
        assert "tweet.write" in row.locator(".scopes").inner_text()
        assert row.locator(".expires").inner_text().strip() == "2026-12-01 10:00 UTC"
        assert row.locator(".renews").inner_text().startswith("yes")
        stored = Vault(rig.store).get("be-x")
        assert stored.has_refresh and stored.access_token not in ada.content()
        assert emulator.oauth.state_of(stored.access_token) == ("ok", "belgium")
    finally:
        emulator.stop()
